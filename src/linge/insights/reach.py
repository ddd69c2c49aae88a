"""Who works in an area: the grid workers whose figures and rankings are read there.

Who may read which area's figures is a rule, and lives in `cases.policy`
(`figure_roots`, `may_read_area`, `home_area`, `may_read_worker`).
"""

from __future__ import annotations

from linge.areas.models import Area
from linge.people.models import Membership, UnitKind
from linge.people.roles import GRID_HANDS


def workers_under(area: Area) -> dict[int, tuple[str, str, int]]:
    """{user id: (grid code, name, the grid's households)} of the grid workers (网格长, 专职,
    兼职) in the area."""
    rows = (Membership.objects.filter(unit__kind=UnitKind.GRID_TEAM, duty__in=GRID_HANDS,
                                      unit__area__code__startswith=area.code)
            .values_list("user_id", "unit__area__code", "user__display_name", "user__username",
                         "unit__area__households"))
    return {pk: (code, name or username, households)
            for pk, code, name, username, households in rows}
