"""Who handles a case now, and who supervises them: one answer for messages, reminders
and the workflow's choice of owning unit."""

from __future__ import annotations

from linge.cases.models import Case, State
from linge.people.models import Duty, Membership, Unit, UnitKind
from linge.people.roles import GRID_ESCALATORS, GRID_HANDS
from linge.prepared import Prepared

# Which unit owns a case in each state it can be handled in.
GRID_STATES = (State.SUBMITTED, State.ACCEPTED)
TOWN_STATES = (State.ESCALATED, State.VERIFYING)
UNIT_DUTIES = {Duty.HANDLER, Duty.LEADER}


def members(unit_ids: list[int | None], duties: set[str]) -> list[int]:
    ids = [pk for pk in unit_ids if pk is not None]
    if not ids:
        return []
    return sorted(set(Membership.objects.filter(unit_id__in=ids, duty__in=duties)
                      .values_list("user_id", flat=True)))


def area_members(area_id: int | None, kind: str, duties: set[str]) -> list[int]:
    """Members with these duties in the area's units of a kind: one query with a join,
    where `members(units_of(…))` takes two; compiled once per kind and duties."""
    if area_id is None:  # units without an area (IS NULL), as the ORM reads it
        return sorted(set(Membership.objects.filter(
            unit__area_id=None, unit__kind=kind, duty__in=duties,
        ).values_list("user_id", flat=True)))
    key = (kind, frozenset(duties))
    query = _AREA_MEMBERS.get(key)
    if query is None:
        query = _AREA_MEMBERS[key] = Prepared(
            lambda area: Membership.objects.filter(
                unit__area_id=area, unit__kind=kind, duty__in=sorted(duties),
            ).values_list("user_id", flat=True), -7_000_004)
    return sorted(set(query(area_id)))


_AREA_MEMBERS: dict[tuple[str, frozenset[str]], Prepared] = {}


def units_of(area_id: int, kind: str) -> list[int]:
    return list(Unit.objects.filter(area_id=area_id, kind=kind).values_list("pk", flat=True))


def stage_of(state: str) -> str:
    """'grid', 'town' or 'unit': who holds a case in this state."""
    if state in GRID_STATES:
        return "grid"
    if state in TOWN_STATES:
        return "town"
    return "unit"


def grid_team(case: Case) -> list[int]:
    return area_members(case.grid_id, UnitKind.GRID_TEAM, GRID_HANDS)


def grid_escalators(case: Case) -> list[int]:
    return area_members(case.grid_id, UnitKind.GRID_TEAM, GRID_ESCALATORS)


def dispatchers(case: Case) -> list[int]:
    return area_members(case.town_id, UnitKind.TOWN_PLATFORM, {Duty.DISPATCHER})


def unit_handlers(case: Case) -> list[int]:
    return members([case.dispatched_unit_id], UNIT_DUTIES)


def handlers(case: Case) -> list[int]:
    """Who handles the case in its present state (the assignee alone, when there is one)."""
    stage = stage_of(case.state)
    if stage == "grid":
        return [case.assignee_id] if case.assignee_id else grid_team(case)
    if stage == "town":
        return dispatchers(case)
    return members([case.dispatched_unit_id], {Duty.HANDLER})


def supervisors(case: Case) -> list[int]:
    """Who answers for the handlers: the village over the grid, the town's leaders over
    its dispatchers, the unit's leaders and the town's dispatchers over a unit."""
    stage = stage_of(case.state)
    if stage == "grid":
        found = area_members(case.village_id, UnitKind.VILLAGE, {Duty.VILLAGE_STAFF})
    elif stage == "town":
        found = area_members(case.town_id, UnitKind.TOWN_PLATFORM, {Duty.LEADER})
    else:
        found = members([case.dispatched_unit_id], {Duty.LEADER}) + dispatchers(case)
    mine = set(handlers(case))
    return sorted({pk for pk in found if pk not in mine})

