"""A user's memberships folded into roles, and who makes a move (the actor).

What those roles allow on cases lives in `cases.policy`, the one module of rights.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from linge.people.models import Duty, Membership, UnitKind, User
from linge.prepared import Prepared

GRID_HANDS = {Duty.GRID_LEADER, Duty.FULL_TIME, Duty.PART_TIME}
GRID_ESCALATORS = {Duty.GRID_LEADER, Duty.FULL_TIME}
GRID_VIEWERS = GRID_HANDS | {Duty.GRID_GUIDE, Duty.POLICE}
# Who logs household visits: the hands and the 网格指导员.
GRID_VISITORS = GRID_HANDS | {Duty.GRID_GUIDE}


@dataclass
class Roles:
    """A user's memberships, folded into sets of ids for cheap checks."""

    grids: dict[int, set[str]] = field(default_factory=dict)  # grid area id → duties
    villages: set[int] = field(default_factory=set)
    towns: set[int] = field(default_factory=set)
    handler_units: set[int] = field(default_factory=set)
    leader_areas: set[int] = field(default_factory=set)
    admin: bool = False
    city_leader: bool = False
    duties: list[str] = field(default_factory=list)  # Duty codes, in membership order

    @property
    def duty_labels(self) -> list[str]:
        """The duties' names in the active language (roles are cached across languages)."""
        return [str(Duty(duty).label) for duty in self.duties]

    @property
    def is_staff_member(self) -> bool:
        return bool(
            self.grids or self.villages or self.towns or self.handler_units
            or self.leader_areas or self.admin
        )


# Read on every staff request: compiled once.
_MEMBERSHIPS = Prepared(lambda user_id: Membership.objects.filter(user_id=user_id)
                        .select_related("unit__area"), -7_000_302)


def roles_of(user: User) -> Roles:
    """The user's roles, computed once per user object."""
    cached = getattr(user, "_linge_roles", None)
    if cached is not None:
        return cached
    roles = Roles(admin=user.is_superuser)
    for membership in _MEMBERSHIPS(user.pk):
        unit = membership.unit
        add_membership(roles, unit.kind, unit.area_id, unit.pk, membership.duty, unit.area.level)
    user._linge_roles = roles  # type: ignore[attr-defined]
    return roles


def add_membership(
    roles: Roles, kind: str, area_id: int, unit_id: int, duty: str, area_level: str
) -> None:
    roles.duties.append(duty)
    if kind == UnitKind.GRID_TEAM and duty in GRID_VIEWERS:
        roles.grids.setdefault(area_id, set()).add(duty)
    elif kind == UnitKind.VILLAGE and duty == Duty.VILLAGE_STAFF:
        roles.villages.add(area_id)
    elif kind == UnitKind.TOWN_PLATFORM and duty == Duty.DISPATCHER:
        roles.towns.add(area_id)
    elif kind in (UnitKind.OFFICE, UnitKind.DEPARTMENT) and duty == Duty.HANDLER:
        roles.handler_units.add(unit_id)
    if duty == Duty.LEADER:
        # An office's or department's leader oversees what it handles, not its area.
        if kind in (UnitKind.OFFICE, UnitKind.DEPARTMENT):
            roles.handler_units.add(unit_id)
        else:
            roles.leader_areas.add(area_id)
            roles.city_leader = roles.city_leader or area_level == "city"
    if duty == Duty.ADMIN:
        roles.admin = True


@dataclass(frozen=True)
class Actor:
    """Who makes a move: a logged-in user, the holder of a tracking code, or the system."""

    user: User | None = None
    system: bool = False
    tracking_case_id: int | None = None

    @property
    def label(self) -> str:
        if self.system:
            return "系统"
        if self.user is not None and self.user.is_resident:
            # Events are shown to every staff member who sees the case and sealed into
            # the chain for good; a resident's username is their phone number.
            return "群众"
        if self.user is not None:
            return self.user.display_name or self.user.username
        return "匿名群众"

    @property
    def user_id(self) -> int | None:
        return self.user.pk if self.user is not None else None


SYSTEM = Actor(system=True)


def as_actor(who: Actor | User | None) -> Actor:
    if isinstance(who, Actor):
        return who
    return Actor(user=who)
