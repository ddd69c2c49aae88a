"""The case loop end to end through cases.workflow, as the people in it would play it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.http import Http404

from linge.cases import deadlines, workflow
from linge.cases.chain import verify_chain
from linge.cases.models import Case, CaseEvent, Rating, Source, State
from linge.cases.policy import access_case, visible_cases
from linge.cases.workflow import Photo, WorkflowError, hash_tracking_code
from linge.notify.models import Outbox
from linge.people.models import User
from linge.people.roles import SYSTEM, Actor
from tests.conftest import City, at

MONDAY = at("2026-11-02 09:00")
PHOTO = Photo(path="cases/after.jpg", sha256="0" * 64, width=10, height=10)


def report(city: City, *, category=None, who=None, now=MONDAY, **extra) -> Case:
    return workflow.submit(
        who or city["resident"], category=category or city.plain, description="楼道堆满杂物",
        grid=city.grid, now=now, **extra,
    ).case


def actions(case: Case) -> list[str]:
    return list(case.events.order_by("seq").values_list("action", flat=True))


def test_whole_escalation_chain(city: City) -> None:
    case = report(city)
    assert case.number == "20261102-000001"
    assert case.owner_unit.kind == "grid_team" and case.state == State.SUBMITTED
    assert case.accept_due == at("2026-11-02 11:00")  # 2 工作时
    workflow.accept(case, city["full_time"], now=at("2026-11-02 09:30"))
    assert case.resolve_due == at("2026-11-05 09:30")  # 3 工作日
    workflow.escalate(case, city["full_time"], reason="需要执法", now=at("2026-11-02 10:00"))
    assert case.state == State.ESCALATED and case.owner_unit == city.platform
    workflow.dispatch(case, city["dispatcher"], unit=city.department, now=at("2026-11-02 11:00"))
    assert case.owner_unit == city.department and case.lane.code == "zhifa"
    workflow.resolve(case, city["department_handler"], note="已清理",
                     now=at("2026-11-03 15:00"))
    assert case.state == State.VERIFYING and case.resolved_at is None
    workflow.verify(case, city["dispatcher"], note="核查属实", now=at("2026-11-03 16:00"))
    assert case.state == State.RESOLVED and case.resolved_at == at("2026-11-03 16:00")
    workflow.rate(case, city["resident"], rating=Rating.SATISFIED, now=at("2026-11-04 08:00"))
    case.refresh_from_db()
    assert case.state == State.CLOSED and case.rating == Rating.SATISFIED
    assert not case.overdue and case.escalated
    assert actions(case) == ["submit", "accept", "escalate", "dispatch", "resolve", "verify",
                             "rate"]
    assert verify_chain() == (7, None)
    # The reporter was told at each public step, by inbox and SMS.
    told = Outbox.objects.filter(recipient=city["resident"], channel="inbox")
    assert told.count() == 6  # submit, accept, escalate, dispatch, verify, rate
    assert Outbox.objects.filter(recipient=city["resident"], channel="sms").count() == 6
    assert told.filter(text__contains="已派至市综合行政执法局办理").exists()
    # The department's handler was told of the dispatch; the dispatcher of the feedback.
    assert Outbox.objects.filter(recipient=city["department_handler"],
                                 kind="dispatch").exists()
    assert Outbox.objects.filter(recipient=city["dispatcher"], kind="resolve").exists()


def test_return_chain_back_to_the_grid(city: City) -> None:
    case = report(city)
    workflow.accept(case, city["full_time"], now=MONDAY)
    workflow.escalate(case, city["grid_leader"], reason="需要执法", now=MONDAY)
    workflow.dispatch(case, city["dispatcher"], unit=city.office, now=MONDAY)
    workflow.return_case(case, city["office_handler"], reason="不属于执法队职责", now=MONDAY)
    assert case.state == State.ESCALATED and case.owner_unit == city.platform
    # The office is off the case: it no longer sees it.
    assert case.dispatched_unit is None
    assert not visible_cases(city["office_handler"]).filter(pk=case.pk).exists()
    with pytest.raises(Http404):
        access_case(city["office_handler"], case.number)
    workflow.return_case(case, city["dispatcher"], reason="请网格先核实", now=MONDAY)
    assert case.state == State.ACCEPTED and case.owner_unit.area == city.grid
    event = case.events.get(action="return", from_state=State.DISPATCHED)
    assert event.data["reason"] == "不属于执法队职责" and not event.public


def test_unsatisfied_reopens_to_the_last_handler(city: City) -> None:
    case = report(city)
    workflow.accept(case, city["full_time"], now=MONDAY)
    workflow.escalate(case, city["full_time"], reason="需要执法", now=MONDAY)
    workflow.dispatch(case, city["dispatcher"], unit=city.office, now=MONDAY)
    workflow.resolve(case, city["office_handler"], note="已清理", now=MONDAY)
    workflow.verify(case, city["dispatcher"], now=MONDAY)
    workflow.rate(case, city["resident"], rating=Rating.UNSATISFIED, comment="还在",
                  now=at("2026-11-03 09:00"))
    assert case.state == State.DISPATCHED and case.owner_unit == city.office
    assert case.rework_count == 1 and case.rating == Rating.UNSATISFIED
    assert case.resolve_due == at("2026-11-06 09:00")  # a fresh 3 工作日 for the rework
    assert "已退回重新办理" in Outbox.objects.filter(recipient=city["resident"]).first().text


def test_grid_rework_goes_back_to_the_grid(city: City) -> None:
    case = report(city)
    workflow.accept(case, city["part_time"], now=MONDAY)
    workflow.resolve(case, city["part_time"], note="已清理", now=MONDAY)
    workflow.rate(case, city["resident"], rating=Rating.UNSATISFIED, now=MONDAY)
    assert case.state == State.ACCEPTED and case.owner_unit.area == city.grid


def test_suspended_clock_stands_still(city: City) -> None:
    case = report(city)
    workflow.accept(case, city["full_time"], now=at("2026-11-02 09:00"))
    due_before = case.resolve_due
    workflow.suspend(case, city["full_time"], reason="等待资金", now=at("2026-11-02 10:00"))
    assert case.state == State.SUSPENDED and case.resume_state == State.ACCEPTED
    left = deadlines.calendar().between(at("2026-11-02 10:00"), due_before, "work")
    assert case.resolve_left == left
    workflow.resume(case, city["full_time"], now=at("2026-11-09 10:00"))
    assert case.state == State.ACCEPTED
    # The week of suspension does not count: the due date moved by exactly a week.
    assert case.resolve_due == due_before + timedelta(days=7)
    suspended = case.events.get(action="suspend")
    assert suspended.public and suspended.data["reason"] == "等待资金"


def test_town_suspension_is_resumed_by_the_town_only(city: City) -> None:
    case = report(city)
    workflow.accept(case, city["full_time"], now=MONDAY)
    workflow.escalate(case, city["full_time"], reason="需镇街协调", now=MONDAY)
    workflow.suspend(case, city["dispatcher"], reason="汛期后施工", now=MONDAY)
    with pytest.raises(WorkflowError, match="只能由镇街恢复"):
        workflow.resume(case, city["full_time"], now=MONDAY)
    workflow.resume(case, city["dispatcher"], now=MONDAY)
    assert case.state == State.ESCALATED


def test_merge_makes_the_reporter_a_supporter(city: City) -> None:
    first = report(city)
    duplicate = report(city, who=city["other_resident"])
    workflow.merge(duplicate, city["full_time"], into=first, now=MONDAY)
    assert duplicate.state == State.MERGED and duplicate.merged_into == first
    first.refresh_from_db()
    assert first.support_count == 1
    assert first.supporters.get().user == city["other_resident"]
    workflow.accept(first, city["full_time"], now=MONDAY)
    # The supporter is told like the reporter.
    assert Outbox.objects.filter(recipient=city["other_resident"], kind="accept",
                                 channel="inbox").exists()


def test_merge_carries_supporters_over(city: City) -> None:
    first = report(city)
    workflow.add_support(first, city["other_resident"], now=MONDAY)
    # The duplicate's reporter already supports the first case: the merge still goes
    # through, and nobody is added twice.
    duplicate = report(city, who=city["other_resident"])
    workflow.add_support(duplicate, city["resident"], now=MONDAY)
    workflow.merge(duplicate, city["full_time"], into=first, now=MONDAY)
    first.refresh_from_db()
    assert duplicate.state == State.MERGED
    assert first.support_count == 1
    assert list(first.supporters.values_list("user", flat=True)) == [city["other_resident"].pk]
    # A supporter of a duplicate follows the case it was merged into.
    neighbour = User.objects.create(username="r13900000003", phone="13900000003",
                                    is_resident=True)
    third = report(city)
    fourth = report(city, who=city["other_resident"])
    workflow.add_support(fourth, neighbour, now=MONDAY)
    workflow.merge(fourth, city["full_time"], into=third, now=MONDAY)
    assert set(third.supporters.values_list("user", flat=True)) == {
        city["other_resident"].pk, neighbour.pk}


def test_merge_into_a_case_the_reporter_phoned_in(city: City) -> None:
    from linge.people.roles import SYSTEM

    call = workflow.submit(SYSTEM, category=city.plain, grid=city.grid, description="来电",
                           source=Source.HOTLINE, reporter_phone=city["resident"].phone,
                           now=MONDAY).case
    app = report(city)  # the same resident, again through the app
    workflow.merge(app, city["full_time"], into=call, now=MONDAY)
    assert app.state == State.MERGED and not call.supporters.exists()


def test_duty_names_in_events_are_in_the_site_language(city: City) -> None:
    from django.utils import translation

    case = report(city)
    with translation.override("en"):
        workflow.accept(case, city["full_time"], now=MONDAY)
    assert case.events.get(action="accept").data["duty"] == "专职网格员"


def test_merge_into_a_case_awaiting_its_rating_is_refused_clearly(city: City) -> None:
    first = report(city)
    workflow.accept(first, city["full_time"], now=MONDAY)
    workflow.resolve(first, city["full_time"], note="已清理", now=MONDAY)
    duplicate = report(city, who=city["other_resident"])
    with pytest.raises(WorkflowError, match="待评价"):
        workflow.merge(duplicate, city["full_time"], into=first, now=MONDAY)
    duplicate.refresh_from_db()
    assert duplicate.state == State.SUBMITTED


def test_an_anonymous_report_names_nobody(city: City) -> None:
    resident = city["other_resident"]
    resident.display_name = ""
    resident.save()
    case = report(city, who=resident, anonymous=True)
    event = case.events.get(action="submit")
    assert case.reporter is None and event.actor is None and event.actor_label == "匿名群众"
    # A resident's own moves are labelled 群众, never with the username (the phone).
    workflow.add_support(report(city), resident, now=MONDAY)
    assert CaseEvent.objects.filter(action="add_support").get().actor_label == "群众"


def test_supervise_is_offered_once(city: City) -> None:
    case = report(city)
    assert "supervise" in workflow.allowed_actions(case, city["leader"])
    workflow.supervise(case, city["leader"], now=MONDAY)
    assert "supervise" not in workflow.allowed_actions(case, city["leader"])
    with pytest.raises(WorkflowError, match="已在督办中"):
        workflow.supervise(case, city["leader"], now=MONDAY)


def test_a_missing_input_is_named_without_blaming_the_state(city: City) -> None:
    case = report(city)
    workflow.accept(case, city["full_time"], now=MONDAY)
    with pytest.raises(WorkflowError) as refused:
        workflow.resolve(case, city["full_time"], note=" ", now=MONDAY)
    assert str(refused.value) == "请填写处置情况"
    with pytest.raises(WorkflowError) as refused:
        workflow.reject(case, city["full_time"], reason="不归我们管", now=MONDAY)
    assert str(refused.value).startswith("案件处于「处理中」，不能「不予受理」")


def test_coordinates_must_be_on_earth(city: City) -> None:
    for lon, lat in ((400.0, 28.3), (121.3, 95.0), (121.3, None)):
        with pytest.raises(WorkflowError, match="位置坐标无效"):
            report(city, lon=lon, lat=lat)
    assert not Case.objects.exists()


def test_support_once(city: City) -> None:
    case = report(city)
    workflow.add_support(case, city["other_resident"], now=MONDAY)
    with pytest.raises(WorkflowError, match="已附议"):
        workflow.add_support(case, city["other_resident"], now=MONDAY)
    with pytest.raises(WorkflowError):
        workflow.add_support(case, city["resident"], now=MONDAY)  # the reporter himself
    assert Case.objects.get(pk=case.pk).support_count == 1


def test_submit_key_makes_one_case(city: City) -> None:
    first = workflow.submit(city["resident"], category=city.plain, description="路灯不亮",
                            grid=city.grid, submit_key="k-123", now=MONDAY)
    again = workflow.submit(city["resident"], category=city.plain, description="路灯不亮",
                            grid=city.grid, submit_key="k-123", now=MONDAY)
    assert first.created and not again.created and first.case.pk == again.case.pk
    assert Case.objects.count() == 1 and CaseEvent.objects.count() == 1


def test_anonymous_report_is_followed_by_its_tracking_code(city: City) -> None:
    made = workflow.submit(Actor(), category=city.plain, description="河边有垃圾",
                           grid=city.grid, source=Source.QR, anonymous=True, now=MONDAY)
    case = made.case
    assert case.reporter is None and len(made.tracking_code) == 10
    assert case.tracking_code_hash == hash_tracking_code(made.tracking_code.lower())
    workflow.accept(case, city["full_time"], now=MONDAY)
    workflow.resolve(case, city["full_time"], note="已清理", now=MONDAY)
    holder = Actor(tracking_case_id=case.pk)
    with pytest.raises(WorkflowError):
        workflow.rate(case, Actor(), rating=Rating.SATISFIED, now=MONDAY)
    workflow.rate(case, holder, rating=Rating.BASIC, now=MONDAY)
    assert case.state == State.CLOSED and case.rating == Rating.BASIC


def test_after_photo_required(city: City) -> None:
    case = report(city, category=city.category)
    workflow.accept(case, city["full_time"], now=MONDAY)
    with pytest.raises(WorkflowError, match="处置后照片"):
        workflow.resolve(case, city["full_time"], note="已清理", now=MONDAY)
    assert Case.objects.get(pk=case.pk).state == State.ACCEPTED
    workflow.resolve(case, city["full_time"], note="已清理", after_photos=[PHOTO], now=MONDAY)
    assert case.state == State.RESOLVED
    assert case.attachments.get().kind == "after"


def test_extension_moves_the_deadline(city: City) -> None:
    case = report(city)
    workflow.accept(case, city["full_time"], now=MONDAY)
    workflow.escalate(case, city["full_time"], reason="x", now=MONDAY)
    workflow.dispatch(case, city["dispatcher"], unit=city.office, now=MONDAY)
    due = case.resolve_due
    workflow.request_extension(case, city["office_handler"], amount=2, reason="需采购",
                               now=MONDAY)
    with pytest.raises(WorkflowError, match="已有待审批"):
        workflow.request_extension(case, city["office_handler"], amount=1, reason="再延",
                                   now=MONDAY)
    workflow.grant_extension(case, city["dispatcher"], now=MONDAY)
    assert case.resolve_due == deadlines.calendar().add(due, 2 * 27000, "work")
    assert not case.extension_requested
    with pytest.raises(WorkflowError, match="没有待审批"):
        workflow.grant_extension(case, city["dispatcher"], now=MONDAY)


def test_auto_close_is_unrated_and_waits(city: City) -> None:
    case = report(city)
    workflow.accept(case, city["full_time"], now=MONDAY)
    workflow.resolve(case, city["full_time"], note="已清理", now=MONDAY)
    with pytest.raises(WorkflowError, match="评价期限未到"):
        workflow.auto_close(case, SYSTEM, now=MONDAY + timedelta(days=6))
    workflow.auto_close(case, SYSTEM, now=MONDAY + timedelta(days=7))
    assert case.state == State.CLOSED and case.rating == ""


def test_overdue_urgent_case_escalates_by_itself(city: City) -> None:
    case = report(city, category=city.urgent)
    workflow.accept(case, city["full_time"], now=MONDAY)
    with pytest.raises(WorkflowError, match="未超期"):
        workflow.escalate(case, SYSTEM, reason="超期自动上报", now=MONDAY)
    Case.objects.filter(pk=case.pk).update(overdue=True)  # as the deadline sweep marks it
    case.refresh_from_db()
    workflow.escalate(case, SYSTEM, reason="超期自动上报", now=MONDAY + timedelta(hours=5))
    assert case.state == State.ESCALATED
    plain = report(city)
    workflow.accept(plain, city["full_time"], now=MONDAY)
    Case.objects.filter(pk=plain.pk).update(overdue=True)
    plain.refresh_from_db()
    with pytest.raises(WorkflowError, match="不自动上报"):
        workflow.escalate(plain, SYSTEM, reason="超期", now=MONDAY)


def test_late_resolution_is_marked_overdue(city: City) -> None:
    case = report(city)
    workflow.accept(case, city["full_time"], now=MONDAY)
    workflow.resolve(case, city["full_time"], note="迟了", now=MONDAY + timedelta(days=10))
    assert case.overdue


def test_refusal_names_state_action_and_reason(city: City) -> None:
    case = report(city)
    with pytest.raises(WorkflowError) as caught:
        workflow.escalate(case, city["part_time"], reason="x", now=MONDAY)
    assert str(caught.value) == "案件处于「待受理」，不能「上报镇街」：当前状态不允许此操作"
    workflow.accept(case, city["part_time"], now=MONDAY)
    with pytest.raises(WorkflowError) as caught:
        workflow.escalate(case, city["part_time"], reason="x", now=MONDAY)
    assert "无权执行此操作" in str(caught.value)  # only 专职 and 网格长 escalate


def test_bad_input_changes_nothing(city: City) -> None:
    before = (Case.objects.count(), CaseEvent.objects.count())
    for bad in ("", "   ", "x" * 2001):
        with pytest.raises(WorkflowError):
            workflow.submit(city["resident"], category=city.plain, description=bad,
                            grid=city.grid, now=MONDAY)
    with pytest.raises(WorkflowError, match="小类"):
        workflow.submit(city["resident"], category=city.plain.parent, description="x",
                        grid=city.grid, now=MONDAY)
    with pytest.raises(WorkflowError, match="不是网格"):
        workflow.submit(city["resident"], category=city.plain, description="x",
                        grid=city.village, now=MONDAY)
    with pytest.raises(WorkflowError, match="工作人员"):
        workflow.submit(city["resident"], category=city.plain, description="x",
                        grid=city.grid, source=Source.PATROL, now=MONDAY)
    case = report(city)
    with pytest.raises(WorkflowError, match="理由"):
        workflow.reject(case, city["full_time"], reason=" ", now=MONDAY)
    assert (Case.objects.count(), CaseEvent.objects.count()) == (before[0] + 1, before[1] + 1)


def test_numbers_count_per_day(city: City) -> None:
    numbers = [report(city, now=MONDAY).number for _ in range(3)]
    numbers.append(report(city, now=at("2026-11-03 00:05")).number)
    assert numbers == ["20261102-000001", "20261102-000002", "20261102-000003",
                       "20261103-000001"]


def test_transfer_moves_owner_and_deadline(city: City) -> None:
    case = report(city)
    workflow.transfer(case, city["full_time"], grid=city.other_town_grid, reason="位置在太平街道",
                      now=at("2026-11-02 14:00"))
    assert case.grid == city.other_town_grid and case.town == city.other_town
    assert case.owner_unit.area == city.other_town_grid
    assert case.accept_due == at("2026-11-02 16:00")
    # Now it is the other town's worker who may accept it, not the first grid's.
    with pytest.raises(WorkflowError):
        workflow.accept(case, city["full_time"], now=MONDAY)
    workflow.accept(case, city["other_town_worker"], now=at("2026-11-02 15:00"))


def test_allowed_actions_are_what_the_table_gives(city: City) -> None:
    case = report(city)
    workflow.accept(case, city["full_time"], now=MONDAY)
    assert set(workflow.allowed_actions(case, city["full_time"])) == {
        "assign", "resolve", "escalate", "suspend"}
    assert set(workflow.allowed_actions(case, city["part_time"])) == {"resolve"}
    assert workflow.allowed_actions(case, city["resident"]) == []
    assert workflow.allowed_actions(case, city["other_resident"]) == ["add_support"]
    assert workflow.allowed_actions(case, city["leader"]) == ["supervise"]
    assert workflow.allowed_actions(case, city["neighbour_worker"]) == []
