"""Which areas' figures a staff member may read.

A city leader (and an admin) reads the whole city; everyone else reads the areas they
stand in — a town leader or dispatcher their town, village staff their village, a grid
worker their grid — and everything under them. Anything else is answered as missing.
Built on people.scope.roles_of, the one place that turns memberships into rights.
"""

from __future__ import annotations

from linge.areas.models import Area, Level
from linge.people.models import Membership, UnitKind
from linge.people.scope import GRID_HANDS, roles_of


def reach_roots(user) -> list[Area] | None:
    """The top areas the user reads; None means the whole city."""
    if not user.is_authenticated or user.is_resident:
        return []
    roles = roles_of(user)
    if roles.admin or roles.city_leader:
        return None
    ids = set(roles.leader_areas) | roles.towns | roles.villages | set(roles.grids)
    return list(Area.objects.filter(pk__in=ids).order_by("code"))


def can_read(user, area: Area) -> bool:
    roots = reach_roots(user)
    if roots is None:
        return True
    return any(area.code.startswith(root.code) for root in roots)


def home_area(user) -> Area | None:
    """The area a leader's screens open on: the city, or their first area."""
    roots = reach_roots(user)
    if roots is None:
        return Area.objects.filter(level=Level.CITY).order_by("code").first()
    return roots[0] if roots else None


def workers_under(area: Area) -> dict[int, tuple[str, str]]:
    """{user id: (grid code, name)} of the grid workers (网格长, 专职, 兼职) in the area."""
    rows = (Membership.objects.filter(unit__kind=UnitKind.GRID_TEAM, duty__in=GRID_HANDS,
                                      unit__area__code__startswith=area.code)
            .values_list("user_id", "unit__area__code", "user__display_name", "user__username"))
    return {pk: (code, name or username) for pk, code, name, username in rows}


def can_read_worker(user, worker_id: int) -> bool:
    if user.pk == worker_id:
        return True
    roots = reach_roots(user)
    grid_codes = Membership.objects.filter(
        user_id=worker_id, unit__kind=UnitKind.GRID_TEAM).values_list("unit__area__code",
                                                                      flat=True)
    if roots is None:
        return bool(grid_codes) or Membership.objects.filter(user_id=worker_id).exists()
    return any(code.startswith(root.code) for code in grid_codes for root in roots)
