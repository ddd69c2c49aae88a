"""Every rule of who may see or do what, in one place.

Memberships become roles in `people.roles`; this module turns roles into rights over
cases, grids, villages, entry forms and phone numbers. The workflow asks
`capacities()` before every move; views and APIs read through the `access_*` helpers,
which return the object or raise 404 (never 403, which would confirm that it exists),
and narrow lists with the `*_q` / `visible_*` helpers. No view holds a rule of its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import NamedTuple

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from linge.areas.models import Area, Level
from linge.cases.models import Case, Category, Source, State, Supporter
from linge.people.models import Membership, UnitKind, User
from linge.people.roles import (
    GRID_ESCALATORS,
    GRID_HANDS,
    GRID_VIEWERS,
    GRID_VISITORS,
    Actor,
    roles_of,
)
from linge.prepared import Prepared, PreparedFor


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


# Capacities that handle a case, and so may see the reporter's phone number.
HANDLING = frozenset({Capacity.GRID_MEMBER, Capacity.GRID_ESCALATOR, Capacity.VILLAGE_STAFF,
                      Capacity.DISPATCHER, Capacity.HANDLER})

# How long a caller's phone gives access to the case they phoned in: a mobile number
# given up is handed to someone else after some months.
CALLER_ACCESS = timedelta(days=365)

# Cases the grid page (public, from the QR code) never lists.
NOT_PUBLIC_STATES = (State.REJECTED, State.MERGED)


def not_found(message: str = "案件不存在或无权查看") -> Http404:
    return Http404(message)


# Standing towards one case.

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
    elif user.is_resident and is_caller(user, case):
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


def is_caller(user: User, case: Case) -> bool:
    """The resident is the one who phoned the case in (12345): their phone, verified by
    the login code, is the case's, no account reported it, and it is recent."""
    return bool(case.reporter_id is None and user.phone and case.reporter_phone == user.phone
                and case.created_at >= timezone.now() - CALLER_ACCESS)


def follows_as_reporter(actor: Actor, case: Case) -> bool:
    """The reporter (by account, tracking code or phone): reads their own words and rates."""
    return Capacity.REPORTER in capacities(actor, case)


def sees_phone(actor: Actor, case: Case) -> bool:
    """Phone numbers are shown whole only to those who handle the case."""
    return bool(capacities(actor, case) & HANDLING)


def supporter_only(actor: Actor, case: Case) -> bool:
    """A resident who sees the case only because they pressed 我也遇到: they follow its
    progress, but the reporter's own words and before-photos are not theirs to read."""
    user = actor.user
    if user is not None and not user.is_resident:
        return False  # staff read a case whole where they may read it at all
    if user is None and actor.tracking_case_id is None:
        # A visitor following a case merged into this one (by its tracking code):
        # a follower like a supporter, not this case's reporter.
        return True
    return not follows_as_reporter(actor, case)


# Which cases a user sees.

def _calls_of(user: User) -> Q:
    if not user.phone:
        return Q(pk__in=[])
    return Q(reporter__isnull=True, reporter_phone=user.phone,
             created_at__gte=timezone.now() - CALLER_ACCESS)


def merge_targets(ids: Iterable[int]) -> set[int]:
    """The cases these were merged into, followed to the end of a chain of merges
    (A into B, B later into C): whoever followed A follows B and C."""
    start = set(ids)
    found: set[int] = set()
    frontier = start
    while frontier:
        targets = set(Case.objects.filter(pk__in=sorted(frontier), merged_into__isnull=False)
                      .values_list("merged_into_id", flat=True))
        frontier = targets - found - start
        found |= frontier
    return found


def followed_ids(tracked: Iterable[int]) -> list[int]:
    """Cases a visitor follows by tracking code: the tracked ones and, when one was
    merged, the case it was merged into (following it there; rating stays with that
    case's own reporter)."""
    tracked = list(tracked)
    return tracked + sorted(merge_targets(tracked) - set(tracked)) if tracked else []


def own_cases(resident: User) -> Q:
    """The cases a resident follows: reported, supported (我也遇到) or phoned in, and
    the cases that a call of theirs was merged into. (A merge makes the reporter and
    supporters of the merged case supporters of its target; a caller has no account
    to add, so the call leads there.)"""
    # A subquery, not a join: a join on supporters would need DISTINCT and a scan.
    supported = Supporter.objects.filter(user=resident).values("case_id")
    condition = Q(reporter=resident) | Q(pk__in=supported) | _calls_of(resident)
    if resident.phone:
        merged_calls = Case.objects.filter(
            _calls_of(resident), merged_into__isnull=False).values_list("pk", flat=True)
        targets = merge_targets(merged_calls)
        if targets:
            condition |= Q(pk__in=sorted(targets))
    return condition


def sees_everything(user: User) -> bool:
    roles = roles_of(user)
    return roles.admin or roles.city_leader


class CaseScope(NamedTuple):
    """A staff member's reach over cases, from their roles: all cases, or those of
    these grids, villages, towns, handling units and led areas."""

    everything: bool
    grids: tuple[int, ...] = ()
    villages: tuple[int, ...] = ()
    towns: tuple[int, ...] = ()
    units: tuple[int, ...] = ()
    leader_areas: tuple[int, ...] = ()


def _staff_scope(user: User) -> CaseScope:
    if sees_everything(user):
        return CaseScope(everything=True)
    roles = roles_of(user)
    return CaseScope(False, tuple(sorted(roles.grids)), tuple(sorted(roles.villages)),
                     tuple(sorted(roles.towns)), tuple(sorted(roles.handler_units)),
                     tuple(sorted(roles.leader_areas)))


def case_scope(user: User) -> CaseScope | None:
    """What `visible_cases(user)` depends on, as a key for queries compiled once per
    scope (`linge.prepared.PreparedFor`); None for a visitor and for a resident, whose
    own cases depend on rows (what they reported, supported, phoned in)."""
    if not user.is_authenticated or user.is_resident:
        return None
    return _staff_scope(user)


def _scope_q(scope: CaseScope, q: Q) -> Q:
    if scope.grids:
        q |= Q(grid_id__in=list(scope.grids))
    if scope.villages:
        q |= Q(village_id__in=list(scope.villages))
    if scope.towns:
        q |= Q(town_id__in=list(scope.towns))
    if scope.units:
        q |= Q(dispatched_unit_id__in=list(scope.units))
    if scope.leader_areas:
        leader = list(scope.leader_areas)
        q |= Q(town_id__in=leader) | Q(village_id__in=leader) | Q(grid_id__in=leader)
    return q


def visible_cases_filter(user: User) -> Q | None:
    """A filter on Case for what `user` may see; None means everything.

    Staff branches use indexed columns only (grid, village, town, unit); the resident
    branch (reported, supported, phoned in) is added only for residents, whose OR
    over a subquery would otherwise force a scan of the table in every staff inbox.
    """
    if not user.is_authenticated:
        return Q(pk__in=[])
    scope = _staff_scope(user)
    if scope.everything:
        return None
    q = Q(pk__in=[])
    if user.is_resident:
        q |= own_cases(user)
    return _scope_q(scope, q)


def scope_cases(scope: CaseScope) -> QuerySet[Case]:
    """The cases a staff member of this scope sees: `visible_cases` of any of them."""
    if scope.everything:
        return Case.objects.all()
    return Case.objects.filter(_scope_q(scope, Q(pk__in=[])))


def visible_cases(user: User) -> QuerySet[Case]:
    condition = visible_cases_filter(user)
    if condition is None:
        return Case.objects.all()
    return Case.objects.filter(condition)


def _with(cases: QuerySet[Case], related: tuple[str, ...],
          deferred: tuple[str, ...]) -> QuerySet[Case]:
    # Not select_related() with no names: that follows every foreign key.
    if related:
        cases = cases.select_related(*related)
    return cases.defer(*deferred) if deferred else cases


def _case_in_scope(context: tuple, number: str) -> QuerySet[Case]:
    scope, related, deferred = context
    return _with(scope_cases(scope), related, deferred).filter(number=number)[:1]


_CASE_IN_SCOPE = PreparedFor(_case_in_scope, "\x00case-number")


def access_case(user: User, number: str, related: tuple[str, ...] = (),
                deferred: tuple[str, ...] = ()) -> Case:
    """The case with this number if `user` may see it; 404 otherwise. `related`: the
    relations to read in the same query (select_related), `deferred`: fields of the
    case or of those not to read (defer)."""
    scope = case_scope(user)
    if scope is not None:
        key = (scope, related, deferred)
        case = _CASE_IN_SCOPE.first(key, key, number)
    else:
        case = _with(visible_cases(user), related, deferred).filter(number=number).first()
    if case is None:
        raise not_found()
    return case


def access_case_as_visitor(user: User, number: str, tracked: Iterable[int]) -> Case:
    """A resident page's read: the case if this visitor holds its tracking code in the
    session (`tracked`: case ids), or that of a case merged into it, or may see it as
    `access_case` says; 404 otherwise."""
    tracked = followed_ids(tracked)
    if tracked:
        case = Case.objects.filter(number=number, pk__in=tracked).first()
        if case is not None:
            return case
    return access_case(user, number)


def sent_by_visitor(user: User, case: Case, tracked: Iterable[int]) -> bool:
    """Whether this visitor sent the report that made `case`, so a retry of its submit
    key may answer with it: the session tracks it (`tracked`: case ids), or the resident
    reported it under their name. The same key from anyone else grants nothing."""
    return case.pk in set(tracked) or (
        case.reporter_id is not None and case.reporter_id == user.pk)


def visitor_cases_q(user: User, tracked: Iterable[int]) -> Q:
    """The cases a visitor follows on /mine: tracked in the session, and their own."""
    condition = Q(pk__in=followed_ids(tracked))
    if user.is_authenticated and user.is_resident:
        condition |= own_cases(user)
    return condition


def access_supportable(number: str, offered: Iterable[int]) -> Case:
    """我也遇到 is possible only on a case this visitor was shown as a nearby duplicate,
    so case numbers cannot be walked to reach other people's reports."""
    case = Case.objects.filter(number=number, pk__in=list(offered)).first()
    if case is None:
        raise not_found("案件不存在")
    return case


def public_grid_cases(grid: Area) -> QuerySet[Case]:
    """What the grid page from the QR code shows to anyone: its cases, newest first,
    without rejected or merged ones, and only of categories listed in public (not a
    dispute between named neighbours, a fraud lead, a family's hardship)."""
    return _public_grid_cases(grid.pk, grid.pk)


def _public_grid_cases(low: int, high: int) -> QuerySet[Case]:
    # The grid as a range of one and the order led by it: PostgreSQL drops a column that
    # "=" fixes from ORDER BY, and then may walk the whole city's newest cases (the
    # created_at index) looking for ten of a grid whose cases are older (5.4 ms on the
    # bench's 10,000-case grid, against 0.1 ms through (grid, created_at)).
    return Case.objects.filter(grid_id__gte=low, grid_id__lte=high,
                               category__public=True).exclude(
        state__in=NOT_PUBLIC_STATES).order_by("-grid_id", "-created_at")


GRID_PAGE_CASES = 10


def grid_page_rows(grid_id: int, same_grid_id: int) -> QuerySet:
    """The grid page's list as a query: (category name, state, reported at) of the grid's
    newest public cases (`public_grid_cases`). The grid id is given twice: the query
    names it twice, and `newest_public_cases` compiles it once with a marker for each."""
    return _public_grid_cases(grid_id, same_grid_id).values_list(
        "category__name", "state", "created_at")[:GRID_PAGE_CASES]


# Compiling the ORM's query cost the grid page more than running it (about 1 ms of 8).
_GRID_PAGE_ROWS = Prepared(grid_page_rows, -7_000_101, -7_000_102)


def newest_public_cases(grid: Area) -> list[tuple[str, str, datetime]]:
    """The grid page's list: `grid_page_rows` of this grid."""
    return _GRID_PAGE_ROWS(grid.pk, grid.pk)


def nearby_search_grid(scanned_code: str | None, picked_code: str | None) -> int | None:
    """The grid whose open cases the report form's "same problem nearby" may list when
    the phone gives no position: the one picked on the map, but only within the village
    of the grid whose signed QR code this visitor scanned (`scanned_code`, None without
    a scan), so nobody can list the open cases of arbitrary grids."""
    if not scanned_code:
        return None
    home = Area.objects.filter(code=scanned_code, level=Level.GRID).first()
    if home is None:
        return None
    grid = Area.objects.filter(code=picked_code or scanned_code, level=Level.GRID,
                               parent_id=home.parent_id).first()
    return (grid or home).pk


def lists_publicly(category_id: int) -> bool:
    """Whether open cases of this category may be shown to strangers (the report
    form's "the same problem nearby", 我也遇到)."""
    return Category.objects.filter(pk=category_id, public=True).exists()


# Areas a user reaches.

def _under(ids: Iterable[int]) -> Q:
    """Grids at or under these areas (a grid, its village, its town)."""
    ids = sorted(set(ids))
    return Q(pk__in=ids) | Q(parent_id__in=ids) | Q(parent__parent_id__in=ids)


def reachable_grids(user: User) -> QuerySet[Area]:
    """Grids whose cases and households the user oversees."""
    grids = Area.objects.filter(level=Level.GRID)
    if sees_everything(user):
        return grids
    roles = roles_of(user)
    viewer_grids = [g for g, duties in roles.grids.items() if duties & GRID_VIEWERS]
    return grids.filter(
        Q(pk__in=viewer_grids) | Q(parent_id__in=sorted(roles.villages))
        | Q(parent__parent_id__in=sorted(roles.towns)) | _under(roles.leader_areas)
    )


def filter_areas(user: User) -> QuerySet[Area]:
    """Areas offered in the inbox's filter: what the user's own reach contains; for
    departments and the whole city, towns and villages (their cases come from anywhere)."""
    roles = roles_of(user)
    areas = Area.objects.exclude(level=Level.CITY)
    if sees_everything(user) or roles.handler_units:
        return areas.exclude(level=Level.GRID)
    ids = set(roles.grids) | roles.villages | roles.towns | roles.leader_areas
    return areas.filter(_under(ids))


def access_area(user: User, code: str) -> Area:
    """An area (city, town, village or grid) whose figures the user may read."""
    area = Area.objects.filter(code=code).first()
    if area is None or not may_oversee(user, area):
        raise not_found("区域不存在或无权查看")
    return area


def may_oversee(user: User, area: Area) -> bool:
    if sees_everything(user):
        return True
    roles = roles_of(user)
    chain = set()
    walk: Area | None = area
    while walk is not None:
        chain.add(walk.pk)
        walk = walk.parent
    reach = set(roles.leader_areas) | roles.towns | roles.villages | set(roles.grids)
    return bool(chain & reach)


# Figures: a city leader (and an admin) reads the whole city; everyone else reads the
# areas they stand in — a town leader or dispatcher their town, village staff their
# village, a grid worker their grid — and everything under them.

def figure_roots(user) -> list[Area] | None:
    """The top areas the user reads; None means the whole city."""
    if not user.is_authenticated or user.is_resident:
        return []
    roles = roles_of(user)
    if roles.admin or roles.city_leader:
        return None
    ids = set(roles.leader_areas) | roles.towns | roles.villages | set(roles.grids)
    return list(Area.objects.filter(pk__in=ids).order_by("code"))


def may_read_area(user, area: Area) -> bool:
    roots = figure_roots(user)
    if roots is None:
        return True
    return any(area.code.startswith(root.code) for root in roots)


def home_area(user) -> Area | None:
    """The area a leader's screens open on: the city, or their first area."""
    roots = figure_roots(user)
    if roots is None:
        return Area.objects.filter(level=Level.CITY).order_by("code").first()
    return roots[0] if roots else None


def may_read_worker(user, worker_id: int) -> bool:
    if user.pk == worker_id:
        return True
    roots = figure_roots(user)
    grid_codes = Membership.objects.filter(
        user_id=worker_id, unit__kind=UnitKind.GRID_TEAM).values_list("unit__area__code",
                                                                      flat=True)
    if roots is None:
        return bool(grid_codes) or Membership.objects.filter(user_id=worker_id).exists()
    return any(code.startswith(root.code) for code in grid_codes for root in roots)


# Entry forms (巡查, 12345, 上级交办) and the grids each may file into.

ENTRY_SOURCES = (Source.PATROL, Source.HOTLINE, Source.HIGHER)


def may_file(user: User, source: str) -> bool:
    roles = roles_of(user)
    if roles.admin:
        return True
    if source in (Source.PATROL, Source.VISIT):
        return bool(roles.grids or roles.villages)
    if source == Source.HOTLINE:
        return bool(roles.towns or roles.city_leader)
    if source == Source.HIGHER:
        return bool(roles.leader_areas or roles.towns)
    return False


def entry_sources(user: User) -> list[str]:
    return [source for source in ENTRY_SOURCES if may_file(user, source)]


def grids_for_filing(user: User, source: str) -> QuerySet[Area]:
    """The grids a staff member may file a case of this source into."""
    grids = Area.objects.filter(level=Level.GRID)
    if sees_everything(user):
        return grids.order_by("code")
    roles = roles_of(user)
    own = set(roles.grids) if source == Source.PATROL else set()
    q = Q(pk__in=sorted(own)) | Q(parent_id__in=sorted(roles.villages)) | Q(
        parent__parent_id__in=sorted(roles.towns))
    if source == Source.HIGHER:
        q |= _under(roles.leader_areas)
    return grids.filter(q).order_by("code")



# Villages: the deliberation agenda (民主恳谈) is kept by the village's staff.

def keeps_agenda(user: User, village_id: int | None) -> bool:
    return village_id is not None and village_id in roles_of(user).villages


def agenda_villages(user: User) -> set[int]:
    return set(roles_of(user).villages)


# Household visits.

def may_visit(user: User, grid: Area) -> bool:
    roles = roles_of(user)
    duties = roles.grids.get(grid.pk, set())
    return bool(duties & GRID_VISITORS) or grid.parent_id in roles.villages


def may_import_households(user: User, grid: Area) -> bool:
    roles = roles_of(user)
    return (roles.admin or bool(roles.grids.get(grid.pk, set()) & GRID_ESCALATORS)
            or grid.parent_id in roles.villages)


def access_visit_grid(user: User, grid_id: int | None) -> Area:
    grid = reachable_grids(user).filter(pk=grid_id).first() if grid_id else None
    if grid is None:
        raise not_found("网格不存在或无权查看")
    return grid


# The workbench as a whole.

def lands_on_cockpit(user: User) -> bool:
    """Leaders of the city, a town or a village start on the cockpit, not the inbox."""
    return bool(roles_of(user).leader_areas)


def bulk_moves(user: User) -> set[str]:
    """Moves offered for many cases at once: grids and villages accept, towns dispatch.
    Each case is still checked by the workflow."""
    roles = roles_of(user)
    moves = set()
    if roles.grids or roles.villages:
        moves.add("accept")
    if roles.towns:
        moves.add("dispatch")
    return moves


def dispatch_towns(user: User) -> set[int]:
    """The towns whose offices a user dispatches to (besides every city department)."""
    return set(roles_of(user).towns)


def is_staff(user: User) -> bool:
    return user.is_authenticated and roles_of(user).is_staff_member


def assignable_to(user: User, grid_id: int) -> bool:
    """Cases are assigned only to the hands of their own grid."""
    return bool(roles_of(user).grids.get(grid_id, set()) & GRID_HANDS)



# Open data (Open311's GET requests): anyone may list cases as the grid page shows them.

def published_cases() -> QuerySet[Case]:
    """Cases anyone may read through the open interfaces: as on the grid page, not
    rejected or merged ones, and only of categories listed in public (a dispute between
    named neighbours, a fraud lead or a family's hardship is no one else's business).
    What of them is shown is `published_words`'s rule."""
    return Case.objects.filter(category__public=True).exclude(state__in=NOT_PUBLIC_STATES)


def published_words(case: Case, submitted_by_caller: bool) -> bool:
    """The reporter's own words (description) go only to the client that submitted the
    case: to anyone else they are a stranger's report (as for a supporter)."""
    return submitted_by_caller
