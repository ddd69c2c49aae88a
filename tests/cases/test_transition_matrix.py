"""Every (state × action × persona) combination, generated from the transition table.

For each state a case is driven there through the workflow; then every action is
tried by every persona. Allowed moves must succeed (and are rolled back to a
savepoint); refused ones must raise WorkflowError and leave the case, its events,
its supporters and the outbox exactly as they were.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import transaction
from django.forms.models import model_to_dict

from linge.cases import workflow
from linge.cases.models import Case, CaseEvent, State, Supporter
from linge.cases.policy import Capacity as C
from linge.cases.transitions import ACTIONS, TABLE
from linge.notify.models import Outbox
from linge.people.roles import SYSTEM, Actor
from tests.conftest import City, at

T0 = at("2026-11-02 09:00")  # a Monday
LATER = T0 + timedelta(days=30)

# What each persona is to a case of grid A1 reported by `resident`, written out by hand
# rather than computed by cases.policy, so the scope module is under test too.
PERSONAS: dict[str, set[C]] = {
    "resident": {C.REPORTER},
    "other_resident": {C.RESIDENT},
    "grid_leader": {C.GRID_MEMBER, C.GRID_ESCALATOR},
    "full_time": {C.GRID_MEMBER, C.GRID_ESCALATOR},
    "part_time": {C.GRID_MEMBER},
    "grid_guide": set(),
    "police": set(),
    "neighbour_worker": set(),
    "other_village_worker": set(),
    "other_town_worker": set(),
    "village_staff": {C.VILLAGE_STAFF},
    "dispatcher": {C.DISPATCHER},
    "other_town_dispatcher": set(),
    "town_leader": {C.COMMAND},
    "office_handler": set(),  # HANDLER once the case is dispatched to its office
    "other_office_handler": set(),
    "department_handler": set(),
    "other_department_handler": set(),
    "leader": {C.COMMAND},
    "admin": set(),
    "anonymous": set(),
    "system": {C.SYSTEM},
}


def actor_for(city: City, persona: str) -> Actor:
    if persona == "anonymous":
        return Actor()
    if persona == "system":
        return SYSTEM
    return Actor(user=city[persona])


def drive_to(city: City, state: str, *, suspended_by_town: bool = False) -> Case:
    """A case of grid A1 in `state`, reached through the workflow as in real life."""
    w = workflow
    case = w.submit(city["resident"], category=city.plain, description="楼道里堆满杂物",
                    grid=city.grid, now=T0).case
    if state == State.SUBMITTED:
        return case
    if state == State.REJECTED:
        return w.reject(case, city["full_time"], reason="不属于受理范围", now=T0)
    if state == State.MERGED:
        first = w.submit(city["other_resident"], category=city.plain, description="楼道堆物",
                         grid=city.grid, now=T0).case
        return w.merge(case, city["full_time"], into=first, now=T0)
    w.accept(case, city["full_time"], now=T0)
    if state == State.ACCEPTED:
        return case
    if state == State.SUSPENDED and not suspended_by_town:
        return w.suspend(case, city["full_time"], reason="等待维修资金", now=T0)
    w.escalate(case, city["full_time"], reason="需要执法力量", now=T0)
    if state == State.ESCALATED:
        return case
    if state == State.SUSPENDED:
        return w.suspend(case, city["dispatcher"], reason="等待汛期结束", now=T0)
    w.dispatch(case, city["dispatcher"], unit=city.office, now=T0)
    if state == State.DISPATCHED:
        return case
    w.resolve(case, city["office_handler"], note="已清理", now=T0)
    if state == State.VERIFYING:
        return case
    w.verify(case, city["dispatcher"], now=T0)
    if state == State.RESOLVED:
        return case
    assert state == State.CLOSED
    return w.rate(case, city["resident"], rating="satisfied", now=T0)


def perform(city: City, case: Case, action: str, actor: Actor) -> None:
    w = workflow
    other = Case.objects.exclude(pk=case.pk).filter(state=State.SUBMITTED).first()
    calls: dict[str, Callable[[], object]] = {
        "accept": lambda: w.accept(case, actor, now=LATER),
        "reject": lambda: w.reject(case, actor, reason="重复", now=LATER),
        "merge": lambda: w.merge(case, actor, into=other, now=LATER),
        "transfer": lambda: w.transfer(case, actor, grid=city.neighbour_grid, reason="位置在邻格",
                                       now=LATER),
        "add_support": lambda: w.add_support(case, actor, now=LATER),
        "supervise": lambda: w.supervise(case, actor, note="请尽快", now=LATER),
        "assign": lambda: w.assign(case, actor, assignee=city["part_time"], now=LATER),
        "resolve": lambda: w.resolve(case, actor, note="已处理", now=LATER),
        "escalate": lambda: w.escalate(case, actor, reason="网格无法解决", now=LATER),
        "suspend": lambda: w.suspend(case, actor, reason="等待资金", now=LATER),
        "resume": lambda: w.resume(case, actor, now=LATER),
        "dispatch": lambda: w.dispatch(case, actor, unit=city.office, now=LATER),
        "return": lambda: w.return_case(case, actor, reason="不属于本单位职责", now=LATER),
        "request_extension": lambda: w.request_extension(case, actor, amount=2, reason="需采购",
                                                         now=LATER),
        "grant_extension": lambda: w.grant_extension(case, actor, now=LATER),
        "refuse_extension": lambda: w.refuse_extension(case, actor, reason="时限足够", now=LATER),
        "verify": lambda: w.verify(case, actor, now=LATER),
        "fail_verification": lambda: w.fail_verification(case, actor, reason="未清理干净",
                                                         now=LATER),
        "rate": lambda: w.rate(case, actor, rating="basic", now=LATER),
        "reopen": lambda: w.reopen(case, actor, comment="没有处理", now=LATER),
        "auto_close": lambda: w.auto_close(case, actor, now=LATER),
        "flag_overdue": lambda: w.flag_overdue(case, actor, now=LATER),
    }
    assert set(calls) == set(ACTIONS) - {"submit"}, "every action in the table is exercised"
    calls[action]()


def snapshot(case: Case) -> tuple:
    fresh = Case.objects.get(pk=case.pk)
    return (
        model_to_dict(fresh),
        CaseEvent.objects.count(),
        Supporter.objects.count(),
        Outbox.objects.count(),
    )


def expected_capacities(persona: str, case: Case) -> set[C]:
    caps = PERSONAS[persona] | {C.ANYONE}
    if persona == "office_handler" and case.dispatched_unit_id is not None:
        caps = caps | {C.HANDLER}
    return caps


def expected_allowed(case: Case, action: str, caps: set[C]) -> bool:
    rule = TABLE.get((case.state, action))
    if rule is None or not caps & rule.who:
        return False
    return rule.guard is None or rule.guard(case, caps) is None


STATES = [
    (State.SUBMITTED, False), (State.ACCEPTED, False), (State.ESCALATED, False),
    (State.DISPATCHED, False), (State.VERIFYING, False), (State.SUSPENDED, False),
    (State.SUSPENDED, True), (State.RESOLVED, False), (State.CLOSED, False),
    (State.REJECTED, False), (State.MERGED, False),
]


@pytest.mark.parametrize(("state", "by_town"), STATES)
def test_every_action_for_every_persona(city: City, state: str, by_town: bool) -> None:
    # A second open case of the same grid, for merge to point at.
    workflow.submit(city["other_resident"], category=city.plain, description="另一处堆物",
                    grid=city.grid, now=T0)
    case = drive_to(city, state, suspended_by_town=by_town)
    assert case.state == state
    mismatches: list[str] = []
    allowed_count = refused_count = 0
    for action in ACTIONS:
        if action == "submit":
            continue
        for persona in PERSONAS:
            case.refresh_from_db()
            caps = expected_capacities(persona, case)
            should = expected_allowed(case, action, caps)
            before = snapshot(case)
            try:
                with transaction.atomic():
                    perform(city, case, action, actor_for(city, persona))
                    transaction.set_rollback(True)
                did = True
            except workflow.WorkflowError as error:
                did = False
                assert error.state == state and error.action in (action, "reopen")
                assert snapshot(case) == before, f"{persona} {action}: refused but changed"
            if did != should:
                mismatches.append(f"{state}/{action}/{persona}: expected "
                                  f"{'allowed' if should else 'refused'}")
            allowed_count += did
            refused_count += not did
    assert not mismatches, "\n".join(mismatches)
    # Sanity: the matrix exercised both sides in every live state.
    if state not in (State.CLOSED, State.REJECTED, State.MERGED):
        assert allowed_count > 0
    assert refused_count > 0


def test_table_states_are_all_reachable(city: City) -> None:
    states_in_table = {state for state, _ in TABLE if state}
    assert states_in_table <= {s for s, _ in STATES}
