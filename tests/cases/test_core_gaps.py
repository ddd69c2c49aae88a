"""Gaps that mutation testing (`make mutate`) found in the tests of the case core: each
test here kills mutants that survived everything else. Expected answers by hand."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

import pytest
from django.test import override_settings

from linge.cases import deadlines, workflow
from linge.cases.models import CaseEvent, Source, State
from tests.conftest import City, at

T0 = at("2026-11-02 09:00")  # a Monday


def last_event(case) -> CaseEvent:
    return CaseEvent.objects.filter(case=case).order_by("-seq").first()


def test_only_staff_register_what_they_found_on_patrol_or_visit(city: City) -> None:
    for source in (Source.PATROL, Source.VISIT):
        case = workflow.submit(city["part_time"], category=city.plain, description="巡查发现堆物",
                               grid=city.grid, source=source, now=T0).case
        assert case.source == source and case.reporter_id is None
        for outsider in (city["resident"], None):
            with pytest.raises(workflow.WorkflowError, match="只有工作人员"):
                workflow.submit(outsider, category=city.plain, description="冒充巡查",
                                grid=city.grid, source=source, now=T0)


def test_events_record_what_was_given_and_nothing_else(city: City) -> None:
    case = workflow.submit(city["resident"], category=city.plain, description="楼道堆物",
                           grid=city.grid, now=T0).case
    workflow.supervise(case, city["leader"], now=T0)  # no note
    assert last_event(case).data == {"duty": "领导"}
    workflow.accept(case, city["full_time"], now=T0)
    assert last_event(case).data == {"duty": "专职网格员"}
    workflow.escalate(case, city["full_time"], reason="需要执法", now=T0)
    workflow.dispatch(case, city["dispatcher"], unit=city.office, now=T0)
    workflow.request_extension(case, city["office_handler"], amount=2, reason="需采购", now=T0)
    assert last_event(case).data == {"duty": "部门经办人", "amount": 2, "unit": "work_days",
                                     "reason": "需采购"}
    workflow.grant_extension(case, city["dispatcher"], note="同意", now=T0)
    assert last_event(case).data == {"duty": "派遣员", "note": "同意", "amount": 2}
    workflow.request_extension(case, city["office_handler"], amount=1, reason="再需一天", now=T0)
    workflow.grant_extension(case, city["dispatcher"], now=T0)
    assert last_event(case).data == {"duty": "派遣员", "amount": 1}
    assert case.state == State.DISPATCHED
    assert case.resolve_due > T0 + timedelta(days=3)


def test_counting_working_time_back_to_the_start_of_a_period(city: City) -> None:
    # 08:30–12:00 and 13:30–17:30 on working days: going back exactly to the start of a
    # period stops there, not at the end of the period before it (the same working
    # instant, a different hour on the clock).
    cal = deadlines.calendar()
    assert cal.add(at("2026-11-03 12:00"), -3 * 3600 - 1800, deadlines.WORK) == at(
        "2026-11-03 08:30")
    assert cal.add(at("2026-11-04 08:30"), -27000, deadlines.WORK) == at("2026-11-03 08:30")
    assert cal.add(at("2026-11-04 08:30"), -27001, deadlines.WORK) == at(
        "2026-11-02 17:30") - timedelta(seconds=1)
    assert cal.add(at("2026-11-03 15:00"), -5400, deadlines.WORK) == at("2026-11-03 13:30")


def test_a_case_handed_down_is_due_by_its_date(city: City) -> None:
    # 上级交办 by 10:00 although the category allows 2 working hours to accept and 3
    # working days to resolve: both deadlines are the date, the budget the hour left.
    case = workflow.submit(city["dispatcher"], category=city.plain, description="上级交办",
                           grid=city.grid, source=Source.HIGHER,
                           required_by=at("2026-11-02 10:00"), now=T0).case
    assert (case.accept_due, case.accept_budget) == (at("2026-11-02 10:00"), 3600)
    workflow.accept(case, city["full_time"], now=at("2026-11-02 09:30"))
    assert (case.resolve_due, case.resolve_budget) == (at("2026-11-02 10:00"), 1800)


def test_a_refusal_names_the_move(city: City) -> None:
    case = workflow.submit(city["resident"], category=city.plain, description="楼道堆物",
                           grid=city.grid, now=T0).case
    with pytest.raises(workflow.WorkflowError) as empty:
        workflow.submit(city["resident"], category=city.plain, description=" ",
                        grid=city.grid, now=T0)
    assert (empty.value.action, str(empty.value)) == ("submit", "请填写问题描述")
    workflow.accept(case, city["full_time"], now=T0)
    with pytest.raises(workflow.WorkflowError) as no_note:
        workflow.resolve(case, city["full_time"], note="", now=T0)
    assert (no_note.value.action, str(no_note.value)) == ("resolve", "请填写处置情况")
    workflow.resolve(case, city["full_time"], note="已清理", now=T0)
    duplicate = workflow.submit(city["other_resident"], category=city.plain,
                                description="同一处堆物", grid=city.grid, now=T0).case
    with pytest.raises(workflow.WorkflowError) as resolved:
        workflow.merge(duplicate, city["full_time"], into=case, now=T0)
    assert resolved.value.action == "merge"
    assert str(resolved.value) == "案件处于「待受理」，不能「合并」：目标案件已办结待评价，不能合并"


def test_a_one_second_budget_with_its_second_left_is_green() -> None:
    due = at("2026-11-02 10:00")
    assert deadlines.light(due - timedelta(seconds=1), due, 1, deadlines.WALL) == "green"
    assert deadlines.light(due, due, 1, deadlines.WALL) == "yellow"
    assert deadlines.light(due, due, 0, deadlines.WALL) == "yellow"


@override_settings(SECRET_KEY="a-fixed-key-for-this-test")
def test_a_tracking_code_is_read_whatever_its_case() -> None:
    # HMAC-SHA256 of the upper-cased code, keyed with SHA-256 of "<secret>:linge.tracking".
    key = hashlib.sha256(b"a-fixed-key-for-this-test:linge.tracking").digest()
    expected = hmac.new(key, b"K7Q2M9XA", hashlib.sha256).hexdigest()
    assert workflow.hash_tracking_code(" k7q2m9xa ") == expected
    assert workflow.hash_tracking_code("K7Q2M9XA") == expected


def test_submit_support_assign_and_resolve_keep_what_they_were_given(city: City) -> None:
    case = workflow.submit(city["resident"], category=city.plain, description="楼道堆物",
                           grid=city.grid, lon=121.305, lat=28.306, now=T0).case
    case.refresh_from_db()
    assert (case.lon, case.lat) == (121.305, 28.306)
    later = T0 + timedelta(hours=1)
    workflow.add_support(case, city["other_resident"], now=later)
    assert last_event(case).at == later and case.supporters.get().at == later
    workflow.accept(case, city["full_time"], now=later)
    workflow.assign(case, city["full_time"], assignee=city["part_time"], now=later)
    case.refresh_from_db()
    assert case.assignee == city["part_time"]
    workflow.resolve(case, city["part_time"], note="已清理", now=later)
    assert last_event(case).data == {"duty": "兼职网格员", "note": "已清理", "photos": 0}


def test_an_anonymous_duplicate_merges_without_a_follower(city: City) -> None:
    first = workflow.submit(city["resident"], category=city.plain, description="楼道堆物",
                            grid=city.grid, now=T0).case
    anonymous = workflow.submit(None, category=city.plain, description="楼道堆物",
                                grid=city.grid, now=T0).case
    workflow.merge(anonymous, city["full_time"], into=first, now=T0)
    first.refresh_from_db()
    assert anonymous.state == State.MERGED and first.support_count == 0
