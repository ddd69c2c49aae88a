"""Who may see which cases, and in which capacity an actor stands to a case.

This is the one place that turns memberships into rights. The workflow asks
`capacities()` before every move; views ask `visible_cases()` and `access_case()`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from linge.people.models import Duty, Membership, UnitKind, User

if TYPE_CHECKING:
    from linge.cases.models import Case


class Capacity(StrEnum):
    """The standing an actor has towards one case; the transition table speaks in these."""

    ANYONE = "anyone"  # submit: a resident, a staff member, an operator, a client
    GRID_MEMBER = "grid_member"  # 网格长, 专职, 兼职 of the case's grid
    GRID_ESCALATOR = "grid_escalator"  # 网格长 and 专职 of the case's grid
    VILLAGE_STAFF = "village_staff"  # 村社干部 of the case's village
    DISPATCHER = "dispatcher"  # 派遣员 of the case's town platform
    HANDLER = "handler"  # 经办人 of the office or department the case is dispatched to
    COMMAND = "command"  # a leader whose area holds the case
    REPORTER = "reporter"  # who reported it (logged in, or holding its tracking code)
    RESIDENT = "resident"  # any resident other than the reporter
    SYSTEM = "system"  # the worker: deadline sweep, auto-close


GRID_HANDS = {Duty.GRID_LEADER, Duty.FULL_TIME, Duty.PART_TIME}
GRID_ESCALATORS = {Duty.GRID_LEADER, Duty.FULL_TIME}
GRID_VIEWERS = GRID_HANDS | {Duty.GRID_GUIDE, Duty.POLICE}


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


def roles_of(user: User) -> Roles:
    """The user's roles, computed once per user object."""
    cached = getattr(user, "_linge_roles", None)
    if cached is not None:
        return cached
    roles = Roles(admin=user.is_superuser)
    memberships = Membership.objects.filter(user=user).select_related("unit__area")
    for membership in memberships:
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


def capacities(actor: Actor, case: Case) -> set[Capacity]:
    caps = {Capacity.ANYONE}
    if actor.system:
        caps.add(Capacity.SYSTEM)
        return caps
    if actor.tracking_case_id is not None and actor.tracking_case_id == case.pk:
        caps.add(Capacity.REPORTER)
    user = actor.user
    if user is None:
        return caps
    if case.reporter_id is not None and case.reporter_id == user.pk:
        caps.add(Capacity.REPORTER)
    elif user.is_resident and _is_caller(user, case):
        caps.add(Capacity.REPORTER)
    elif user.is_resident:
        caps.add(Capacity.RESIDENT)
    roles = roles_of(user)
    grid_duties = roles.grids.get(case.grid_id, set())
    if grid_duties & GRID_HANDS:
        caps.add(Capacity.GRID_MEMBER)
    if grid_duties & GRID_ESCALATORS:
        caps.add(Capacity.GRID_ESCALATOR)
    if case.village_id in roles.villages:
        caps.add(Capacity.VILLAGE_STAFF)
    if case.town_id in roles.towns:
        caps.add(Capacity.DISPATCHER)
    if case.dispatched_unit_id is not None and case.dispatched_unit_id in roles.handler_units:
        caps.add(Capacity.HANDLER)
    if roles.city_leader or roles.leader_areas & {case.grid_id, case.village_id, case.town_id}:
        caps.add(Capacity.COMMAND)
    return caps


# How long a caller's phone gives access to the case they phoned in: a mobile number
# given up is handed to someone else after some months.
CALLER_ACCESS = timedelta(days=365)


def _is_caller(user: User, case: Case) -> bool:
    """The resident is the one who phoned the case in (12345): their phone, verified by
    the login code, is the case's, no account reported it, and it is recent."""
    return bool(case.reporter_id is None and user.phone and case.reporter_phone == user.phone
                and case.created_at >= timezone.now() - CALLER_ACCESS)


def _calls_of(user: User) -> Q:
    if not user.phone:
        return Q(pk__in=[])
    return Q(reporter__isnull=True, reporter_phone=user.phone,
             created_at__gte=timezone.now() - CALLER_ACCESS)


def own_cases(resident: User) -> Q:
    """The cases a resident follows: reported, supported (我也遇到) or phoned in."""
    # A subquery, not a join: a join on supporters would need DISTINCT and a scan.
    from linge.cases.models import Supporter

    supported = Supporter.objects.filter(user=resident).values("case_id")
    return Q(reporter=resident) | Q(pk__in=supported) | _calls_of(resident)


def visible_cases_filter(user: User) -> Q | None:
    """A filter on Case for what `user` may see; None means everything."""
    if not user.is_authenticated:
        return Q(pk__in=[])
    roles = roles_of(user)
    if roles.admin or roles.city_leader:
        return None
    q = Q(pk__in=[])
    if user.is_resident:
        q |= own_cases(user)
    if roles.grids:
        q |= Q(grid_id__in=roles.grids.keys())
    if roles.villages:
        q |= Q(village_id__in=roles.villages)
    if roles.towns:
        q |= Q(town_id__in=roles.towns)
    if roles.handler_units:
        q |= Q(dispatched_unit_id__in=roles.handler_units)
    if roles.leader_areas:
        leader = roles.leader_areas
        q |= Q(town_id__in=leader) | Q(village_id__in=leader) | Q(grid_id__in=leader)
    return q


def visible_cases(user: User) -> QuerySet[Case]:
    from linge.cases.models import Case

    condition = visible_cases_filter(user)
    if condition is None:
        return Case.objects.all()
    return Case.objects.filter(condition)


def access_case(user: User, number: str) -> Case:
    """The case with this number if `user` may see it; 404 otherwise (never 403, which
    would confirm that the number exists)."""
    case = visible_cases(user).filter(number=number).first()
    if case is None:
        raise Http404("案件不存在或无权查看")
    return case
