"""Who works in an area: the grid workers whose figures and rankings are read there.

Who may read which area's figures is a rule, and lives in `cases.policy`
(`figure_roots`, `may_read_area`, `home_area`, `may_read_worker`).
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache

from linge.areas.models import Area
from linge.people.models import Membership, UnitKind
from linge.people.roles import GRID_HANDS

# The worker board reads every grid worker of the city (thousands) on each call; who
# they are changes a few times a day. Kept in this process's cache: a change to a
# membership, unit, user or area made here is seen at once (signals bump the version,
# insights/apps.py), one made by another process within TIMEOUT seconds.
TIMEOUT = 60
_VERSION = "linge:workers-under-version"


def forget_workers(**_signal: Any) -> None:
    """Signal receiver: drop every cached list of workers (in this process)."""
    try:
        cache.incr(_VERSION)
    except ValueError:
        cache.set(_VERSION, 1, None)


def workers_under(area: Area) -> dict[int, tuple[str, str, int]]:
    """{user id: (grid code, name, the grid's households)} of the grid workers (网格长, 专职,
    兼职) in the area."""
    key = f"linge:workers-under:{cache.get_or_set(_VERSION, 1, None)}:{area.code}"
    found = cache.get(key)
    if found is None:
        found = _read_workers_under(area)
        cache.set(key, found, TIMEOUT)
    return found


def _read_workers_under(area: Area) -> dict[int, tuple[str, str, int]]:
    rows = (Membership.objects.filter(unit__kind=UnitKind.GRID_TEAM, duty__in=GRID_HANDS,
                                      unit__area__code__startswith=area.code)
            .values_list("user_id", "unit__area__code", "user__display_name", "user__username",
                         "unit__area__households"))
    return {pk: (code, name or username, households)
            for pk, code, name, username, households in rows}
