"""Every persona tries every move in every situation, through the workflow, against the
table written by hand in `tests/cases/moves_by_hand.py`.

An allowed move must succeed and lead to the state written there; a refused one must
raise WorkflowError and change nothing (case, events, supporters, outbox).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from django.db import transaction
from django.forms.models import model_to_dict

from linge.cases import workflow
from linge.cases.models import Case, CaseEvent, State, Supporter
from linge.notify.models import Outbox
from linge.people.roles import SYSTEM, Actor
from tests.cases.moves_by_hand import ACTIONS, MOVES, PERSONAS, STATE, may, target
from tests.conftest import City, at

T0 = at("2026-11-02 09:00")  # a Monday
LATER = T0 + timedelta(days=30)  # every deadline passed, the rating period too


def actor_for(city: City, persona: str) -> Actor:
    if persona == "anonymous":
        return Actor()
    if persona == "system":
        return SYSTEM
    return Actor(user=city[persona])


def drive_to(city: City, situation: str, now: datetime | None = T0, follower=None) -> Case:
    """A case of grid 上墩村第1网格 reported by 居民甲, brought into `situation` through the
    workflow as in real life. A second open case of the grid is there to merge into.
    `follower`: a resident who presses 我也遇到 right after the report."""
    w = workflow
    w.submit(city["other_resident"], category=city.plain, description="另一处堆物",
             grid=city.grid, lon=121.305, lat=28.305, now=now)
    case = w.submit(city["resident"], category=city.plain, description="楼道里堆满杂物",
                    grid=city.grid, lon=121.305, lat=28.305, now=now).case
    if follower is not None:
        w.add_support(case, follower, now=now)
    steps: dict[str, Callable[[], object]] = {
        "reject": lambda: w.reject(case, city["full_time"], reason="不属于受理范围", now=now),
        "merge": lambda: w.merge(case, city["full_time"], into=Case.objects.exclude(
            pk=case.pk).get(), now=now),
        "supervise": lambda: w.supervise(case, city["leader"], note="请尽快", now=now),
        "accept": lambda: w.accept(case, city["full_time"], now=now),
        "grid_suspend": lambda: w.suspend(case, city["full_time"], reason="等待维修资金", now=now),
        "escalate": lambda: w.escalate(case, city["full_time"], reason="需要执法力量", now=now),
        "town_suspend": lambda: w.suspend(case, city["dispatcher"], reason="等待汛期结束",
                                          now=now),
        "dispatch": lambda: w.dispatch(case, city["dispatcher"], unit=city.office, now=now),
        "extension": lambda: w.request_extension(case, city["office_handler"], amount=2,
                                                 reason="需采购材料", now=now),
        "feedback": lambda: w.resolve(case, city["office_handler"], note="已清理", now=now),
        "verify": lambda: w.verify(case, city["dispatcher"], now=now),
        "rate": lambda: w.rate(case, city["resident"], rating="satisfied", now=now),
    }
    dispatched = ["accept", "escalate", "dispatch"]
    path = {
        "待受理": [], "待受理·已督办": ["supervise"], "不予受理": ["reject"], "已合并": ["merge"],
        "处理中": ["accept"], "挂起·网格挂起": ["accept", "grid_suspend"],
        "待派遣": ["accept", "escalate"], "挂起·镇街挂起": ["accept", "escalate", "town_suspend"],
        "已派遣": dispatched, "已派遣·已申请延时": [*dispatched, "extension"],
        "待核查": [*dispatched, "feedback"], "待评价": [*dispatched, "feedback", "verify"],
        "已办结": [*dispatched, "feedback", "verify", "rate"],
    }[situation]
    for step in path:
        steps[step]()
    case.refresh_from_db()
    assert case.state == STATE[situation.split("·")[0]]
    return case


def perform(city: City, case: Case, action: str, actor: Actor, now: datetime = LATER) -> None:
    w = workflow
    other = Case.objects.exclude(pk=case.pk).filter(state=State.SUBMITTED).first()
    calls: dict[str, Callable[[], object]] = {
        "accept": lambda: w.accept(case, actor, now=now),
        "reject": lambda: w.reject(case, actor, reason="重复", now=now),
        "merge": lambda: w.merge(case, actor, into=other, now=now),
        "transfer": lambda: w.transfer(case, actor, grid=city.neighbour_grid, reason="位置在邻格",
                                       now=now),
        "add_support": lambda: w.add_support(case, actor, now=now),
        "supervise": lambda: w.supervise(case, actor, note="请尽快", now=now),
        "assign": lambda: w.assign(case, actor, assignee=city["part_time"], now=now),
        "resolve": lambda: w.resolve(case, actor, note="已处理", now=now),
        "escalate": lambda: w.escalate(case, actor, reason="网格无法解决", now=now),
        "suspend": lambda: w.suspend(case, actor, reason="等待资金", now=now),
        "resume": lambda: w.resume(case, actor, now=now),
        "dispatch": lambda: w.dispatch(case, actor, unit=city.office, now=now),
        "return": lambda: w.return_case(case, actor, reason="不属于本单位职责", now=now),
        "request_extension": lambda: w.request_extension(case, actor, amount=2, reason="需采购",
                                                         now=now),
        "grant_extension": lambda: w.grant_extension(case, actor, now=now),
        "refuse_extension": lambda: w.refuse_extension(case, actor, reason="时限足够", now=now),
        "verify": lambda: w.verify(case, actor, now=now),
        "fail_verification": lambda: w.fail_verification(case, actor, reason="未清理干净",
                                                         now=now),
        "rate": lambda: w.rate(case, actor, rating="basic", now=now),
        "reopen": lambda: w.reopen(case, actor, comment="没有处理", now=now),
        "auto_close": lambda: w.auto_close(case, actor, now=now),
        "flag_overdue": lambda: w.flag_overdue(case, actor, now=now),
    }
    assert sorted(calls) == sorted(ACTIONS)
    calls[action]()


def snapshot(case: Case) -> tuple:
    return (
        model_to_dict(Case.objects.get(pk=case.pk)),
        list(CaseEvent.objects.order_by("seq").values_list("seq", "hash")),
        Supporter.objects.count(),
        Outbox.objects.count(),
    )


@pytest.mark.parametrize("situation", list(MOVES))
def test_every_persona_tries_every_move(city: City, situation: str) -> None:
    case = drive_to(city, situation)
    state = case.state
    # Every try is rolled back, so the case is the same before each of them.
    before = snapshot(case)
    events = len(before[1])
    wrong: list[str] = []
    for action in ACTIONS:
        for persona in PERSONAS:
            try:
                with transaction.atomic():
                    perform(city, case, action, actor_for(city, persona))
                    case.refresh_from_db()
                    done_to = case.state
                    added = list(CaseEvent.objects.filter(seq__gt=events).values_list(
                        "action", "from_state", "to_state"))
                    transaction.set_rollback(True)
                did = True
                case.refresh_from_db()
            except workflow.WorkflowError as error:
                did = False
                assert error.state == state, (persona, action)
                assert snapshot(case) == before, f"{persona} {action}: refused but changed"
            should = may(situation, action, persona)
            if did != should:
                wrong.append(f"{situation} {action} by {persona}: "
                             f"{'done' if did else 'refused'}, the table says "
                             f"{'allowed' if should else 'refused'}")
            elif did:
                to = target(situation, action)
                if done_to != to or added[0] != (action, state, to):
                    wrong.append(f"{situation} {action} by {persona}: went to {done_to} "
                                 f"({added}), the table says {to}")
    assert not wrong, "\n".join(wrong)


def test_the_system_escalates_only_an_overdue_case_whose_category_says_so(city: City) -> None:
    def accepted(category) -> Case:
        case = workflow.submit(city["resident"], category=category, description="有人焚烧垃圾",
                               grid=city.grid, now=T0).case
        return workflow.accept(case, city["full_time"], now=T0)

    urgent, plain = accepted(city.urgent), accepted(city.plain)
    # Not yet overdue: refused, whatever the category.
    for case in (urgent, plain):
        with pytest.raises(workflow.WorkflowError, match="未超期"):
            workflow.escalate(case, SYSTEM, reason="超期自动上报", now=T0)
    for case in (urgent, plain):
        workflow.flag_overdue(case, SYSTEM, now=LATER)
    with pytest.raises(workflow.WorkflowError, match="不自动上报"):
        workflow.escalate(plain, SYSTEM, reason="超期自动上报", now=LATER)
    workflow.escalate(urgent, SYSTEM, reason="超期自动上报", now=LATER)
    assert urgent.state == State.ESCALATED
    # Overdue or not, the grid's 网格长 and 村社干部 escalate any category.
    workflow.escalate(plain, city["village_staff"], reason="网格无法解决", now=LATER)
    assert plain.state == State.ESCALATED


def test_a_tracking_code_holder_rates_as_the_reporter(city: City) -> None:
    done = workflow.submit(city["resident"], category=city.plain, description="路灯不亮",
                           grid=city.grid, anonymous=True, now=T0)
    case = done.case
    workflow.accept(case, city["full_time"], now=T0)
    workflow.resolve(case, city["full_time"], note="已修复", now=T0)
    with pytest.raises(workflow.WorkflowError, match="无权"):
        workflow.rate(case, Actor(tracking_case_id=case.pk + 1), rating="basic", now=T0)
    with pytest.raises(workflow.WorkflowError, match="无权"):
        workflow.rate(case, city["resident"], rating="basic", now=T0)  # anonymous: not theirs
    workflow.rate(case, Actor(tracking_case_id=case.pk), rating="basic", now=T0)
    assert case.state == State.CLOSED and case.rating == "basic"
