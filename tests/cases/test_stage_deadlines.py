"""Each stage its own time, as 数字城管 sets them: the town's 派遣时限 from the escalation
(the category's accept time) and the unit's 处置时限 from the dispatch (the category's
resolve time); the overall deadline stays for the figures and the 超期 flag."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from linge.cases import deadlines, jobs, workflow
from linge.cases.models import Case, State
from linge.notify.models import Outbox
from linge.notify.worker import Tally
from tests.conftest import PASSWORD, City, at

pytestmark = pytest.mark.django_db


def _escalated(city: City, when: str = "2026-11-02 09:00") -> Case:
    # city.plain: accept 2 工作时, resolve 3 工作日.
    case = workflow.submit(city["resident"], category=city.plain, grid=city.grid,
                           description="河道边堆满建筑垃圾", now=at(when)).case
    workflow.accept(case, city["full_time"], now=at(when) + timedelta(minutes=30))
    workflow.escalate(case, city["full_time"], reason="需执法队处理",
                      now=at("2026-11-04 10:00"))
    case.refresh_from_db()
    return case


def test_dispatch_and_handling_each_run_on_their_own_clock(city: City) -> None:
    case = _escalated(city)
    # Overall: 3 working days from acceptance (Mon 09:30) → Thu 09:30.
    assert case.resolve_due == at("2026-11-05 09:30")
    # 派遣时限: 2 working hours from the escalation, Wed 10:00 → 12:00.
    current = deadlines.current(case)
    assert (current.stage, current.due) == ("dispatch", at("2026-11-04 12:00"))

    workflow.dispatch(case, city["dispatcher"], unit=city.office, now=at("2026-11-04 11:00"))
    case.refresh_from_db()
    # 处置时限: the unit's 3 working days from the dispatch, Wed 11:00 → Mon 11:00;
    # the overall deadline stays where it was.
    current = deadlines.current(case)
    assert (current.stage, current.due) == ("handle", at("2026-11-09 11:00"))
    assert case.resolve_due == at("2026-11-05 09:30")

    # Friday: the overall deadline has passed (超期 for the figures) while the unit's
    # own time still runs (its light is not red).
    friday = at("2026-11-06 10:00")
    assert not deadlines.is_overdue(case, friday)
    assert not Case.objects.filter(deadlines.overdue_q(friday), pk=case.pk).exists()
    jobs.sweep_deadlines(Tally(), friday)
    case.refresh_from_db()
    assert case.overdue is True

    # Monday afternoon: the unit's 处置时限 is past: red, and its handler is reminded.
    monday = at("2026-11-09 14:00")
    assert deadlines.is_overdue(case, monday)
    assert Case.objects.filter(deadlines.overdue_q(monday), pk=case.pk).exists()
    jobs.sweep_deadlines(Tally(), monday)
    reminded = Outbox.objects.filter(kind="due_red", recipient=city["office_handler"]).get()
    assert "已超过处置期限" in reminded.text


def test_suspension_extension_and_return_keep_the_stage(city: City) -> None:
    case = _escalated(city)
    workflow.dispatch(case, city["dispatcher"], unit=city.office, now=at("2026-11-04 11:00"))
    case.refresh_from_db()
    # Suspended for a day: the unit's clock stands still and resumes with what was left.
    workflow.suspend(case, city["dispatcher"], reason="等待天晴施工",
                     now=at("2026-11-05 11:00"))
    case.refresh_from_db()
    assert deadlines.current(case) is None
    workflow.resume(case, city["dispatcher"], now=at("2026-11-06 11:00"))
    case.refresh_from_db()
    assert deadlines.current(case).due == at("2026-11-10 11:00")  # one working day later
    # An extension of 2 working days moves the unit's time as well.
    workflow.request_extension(case, city["office_handler"], amount=2, reason="需采购材料",
                               now=at("2026-11-06 12:00"))
    workflow.grant_extension(case, city["dispatcher"], now=at("2026-11-06 13:00"))
    case.refresh_from_db()
    assert deadlines.current(case).due == at("2026-11-12 11:00")
    # Returned to the town as misrouted: a new 派遣时限 from the return.
    workflow.return_case(case, city["office_handler"], reason="不属于本单位职责",
                         now=at("2026-11-09 09:00"))
    case.refresh_from_db()
    current = deadlines.current(case)
    assert case.state == State.ESCALATED
    assert (current.stage, current.due) == ("dispatch", at("2026-11-09 11:00"))


def test_the_dispatcher_sees_the_dispatch_deadline(city: City) -> None:
    case = _escalated(city)
    client = Client()
    assert client.login(username="dispatcher", password=PASSWORD)
    page = client.get(f"/work/case/{case.number}/").content.decode()
    assert "派遣期限 2026-11-04 12:00" in page
