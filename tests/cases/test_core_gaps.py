"""Gaps that mutation testing (`make mutate`) found in the tests of the case core: each
test here kills mutants that survived everything else. Expected answers by hand."""

from __future__ import annotations

import hashlib
import hmac
import io
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils.datastructures import MultiValueDict
from PIL import Image

from linge.cases import deadlines, intake, workflow
from linge.cases.models import AttachmentKind, Case, CaseEvent, Category, Source, State, TimeUnit
from linge.cases.photos import PhotoRejected
from linge.people.models import User
from linge.people.roles import SYSTEM
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


def jpeg() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 80, 40)).save(buffer, "JPEG")
    return SimpleUploadedFile("after.jpg", buffer.getvalue(), content_type="image/jpeg")


def photos(*uploads: SimpleUploadedFile) -> MultiValueDict:
    return MultiValueDict({"photos": list(uploads)})


def files_under(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()]


def refusal(action: str, case, who, data, files=None) -> workflow.WorkflowError:
    with pytest.raises(workflow.WorkflowError) as caught:
        workflow.act(action, case, who, data, files)
    return caught.value


def test_a_move_from_its_form_is_made_or_refused_with_what_was_typed(city: City,
                                                                     media: Path) -> None:
    case = workflow.submit(city["resident"], category=city.category, description="垃圾满溢",
                           grid=city.grid, now=T0).case
    # A form-wide error is named alone; a field's error after the field's label.
    refused = refusal("merge", case, city["full_time"], {"note": "重复"})
    assert isinstance(refused, workflow.InputRefused)
    assert (refused.state, refused.action, refused.reason, refused.about_input) == (
        State.SUBMITTED, "merge", "请选择要合并到的案件，或输入其编号", True)
    assert refused.form.data == {"note": "重复"}
    refused = refusal("merge", case, city["full_time"], {"into_number": "20991231-000001"})
    assert refused.reason == "或输入案件编号：目标案件不存在或无权查看"
    # Someone without standing is refused the move itself, not their input.
    refused = refusal("accept", case, city["grid_guide"], {})
    assert not isinstance(refused, workflow.InputRefused) and not refused.about_input
    accepted = workflow.act("accept", case, city["full_time"], {"note": "已到现场"})
    assert accepted.state == State.ACCEPTED
    assert last_event(case).data == {"duty": "专职网格员", "note": "已到现场"}
    # What the workflow finds missing is the person's input: the form comes back.
    done = {"note": "已清理", "reply": "垃圾已清运"}
    refused = refusal("resolve", case, city["full_time"], done)
    assert isinstance(refused, workflow.InputRefused)
    assert refused.reason == "该类问题办结时须上传处置后照片" and refused.form.data == done
    refused = refusal("resolve", case, city["full_time"], {"reply": "垃圾已清运"},
                      photos(jpeg()))
    assert isinstance(refused, workflow.InputRefused) and refused.reason == "请填写处置情况"
    assert refused.action == "resolve"
    assert files_under(media) == []  # the photo stored for the refused move is gone
    refused = refusal("resolve", case, city["full_time"], done,
                      photos(SimpleUploadedFile("a.jpg", b"not a photo")))
    assert isinstance(refused, workflow.InputRefused)
    assert (refused.action, refused.form.data) == ("resolve", done)
    assert refused.reason == "不是可识别的图片文件，请上传照片（JPEG、PNG、HEIC）"
    refused = refusal("resolve", case, city["grid_guide"], done, photos(jpeg()))
    assert not isinstance(refused, workflow.InputRefused)
    assert files_under(media) == []
    resolved = workflow.act("resolve", case, city["full_time"], done, photos(jpeg()))
    assert resolved.attachments.filter(kind=AttachmentKind.AFTER).count() == 1
    assert files_under(media)


def test_a_form_without_errors_is_told_to_check_its_input(city: City) -> None:
    case = workflow.submit(city["resident"], category=city.plain, description="楼道堆物",
                           grid=city.grid, now=T0).case
    form = workflow.bind("accept", case, city["full_time"], {"note": ""})
    assert form.is_valid() and workflow.first_error(form) == "请检查填写的内容"


def test_a_code_kept_the_old_way_opens_its_case_and_is_then_kept_keyed(city: City) -> None:
    made = workflow.submit(None, category=city.plain, description="路灯不亮",
                           grid=city.grid, now=T0)
    code, case = made.tracking_code, made.case
    # Before keyed digests a code was kept as the bare SHA-256 of the upper-cased code.
    bare = hashlib.sha256(code.upper().encode()).hexdigest()
    assert workflow.legacy_tracking_hash(f" {code.lower()} ") == bare
    Case.objects.filter(pk=case.pk).update(tracking_code_hash=bare)
    events = CaseEvent.objects.count()
    found = workflow.find_by_tracking_code(code.lower())
    assert found == case and found.tracking_code_hash == workflow.hash_tracking_code(code)
    case.refresh_from_db()
    assert case.tracking_code_hash == workflow.hash_tracking_code(code)
    assert CaseEvent.objects.count() == events  # how a code is kept is not a move
    assert workflow.find_by_tracking_code(code) == case
    assert workflow.find_by_tracking_code("ZZZZZZZZ") is None


def test_distance_to_a_grid_east_west_shrinks_with_latitude(city: City) -> None:
    # At 28.305° N a degree of longitude is 111,320 m × cos 28.305° ≈ 98,013 m: a point
    # 0.00275° east of grid A1a (inside A1b) is ~270 m from A1a, within the 300 m allowed;
    # 0.0033° east is ~323 m, too far.
    near = intake.Report(category=city.plain, description="堆物", grid=city.grid,
                         lon=121.31275, lat=28.305)
    intake.check_position(near)
    far = intake.Report(category=city.plain, description="堆物", grid=city.grid,
                        lon=121.3133, lat=28.305)
    with pytest.raises(workflow.WorkflowError, match="也不在其 300 米以内"):
        intake.check_position(far)


def litter(city: City, **extra) -> intake.Report:
    return intake.Report(category=city.plain, description="楼道堆物", grid=city.grid, **extra)


def test_a_clients_key_is_checked_as_a_key_and_a_ticket_as_a_ticket() -> None:
    long_key = "k" * 64  # a client's key may be longer than a 12345 ticket number (40)
    assert intake.namespaced(Source.OPEN311, long_key) == f"o311:{long_key}"
    for bad in ("short", "spaces in it", "k" * 8 + "\n"):
        with pytest.raises(workflow.WorkflowError, match="页面已过期，请刷新后重新提交"):
            intake.namespaced(Source.QR, bad)
    assert intake.namespaced(Source.HOTLINE, "WL2026-1", ticket=True) == "12345:WL2026-1"
    assert intake.namespaced(Source.HOTLINE, "9" * 40, ticket=True) == "12345:" + "9" * 40
    for bad in ("9" * 41, "WL\x072026"):  # longer than a ticket number; a control character
        with pytest.raises(workflow.WorkflowError) as caught:
            intake.namespaced(Source.HOTLINE, bad, ticket=True)
        refused = caught.value
        assert (refused.state, refused.action, refused.reason, refused.about_input) == (
            "", "submit", "页面已过期，请刷新后重新提交", True)


def test_nine_photos_may_come_with_a_report_and_no_more() -> None:
    assert len(intake.prepare([jpeg() for _ in range(9)])) == 9
    with pytest.raises(PhotoRejected) as caught:
        intake.prepare([jpeg() for _ in range(10)])
    assert str(caught.value) == "最多上传 9 张照片"


@pytest.mark.parametrize(("lon", "lat"), [(180, 28.3), (-180, 28.3), (121.3, 90), (121.3, -90)])
def test_the_edges_of_the_globe_are_places_just_far_away(city: City, lon, lat) -> None:
    with pytest.raises(workflow.WorkflowError) as caught:
        intake.check_position(litter(city, lon=lon, lat=lat))
    refused = caught.value
    assert refused.reason == "所报位置不在「上墩村第1网格」内，也不在其 300 米以内，请核对位置或所选网格"
    assert (refused.state, refused.action, refused.about_input) == ("", "submit", True)


@pytest.mark.parametrize(("lon", "lat"), [(180.001, 28.3), (-180.001, 28.3), (121.3, 90.001),
                                          (121.3, -90.001)])
def test_beyond_the_globe_a_position_is_invalid(city: City, lon, lat) -> None:
    with pytest.raises(workflow.WorkflowError) as caught:
        intake.check_position(litter(city, lon=lon, lat=lat))
    refused = caught.value
    assert (refused.state, refused.action, refused.reason, refused.about_input) == (
        "", "submit", "位置坐标无效", True)  # "": no case yet


def test_half_a_position_is_no_position_to_check(city: City) -> None:
    intake.check_position(litter(city, lon=121.305, lat=None))  # the workflow refuses it
    intake.check_position(litter(city, lon=None, lat=28.305))


def test_a_submit_key_finds_only_the_case_it_made(city: City) -> None:
    keyless = intake.submit(city["full_time"], Source.PATROL, litter(city), now=T0)
    assert intake.submit(city["full_time"], Source.PATROL, litter(city), now=T0).case != (
        keyless.case)  # no key: a new case each time
    assert intake.find(Source.PATROL, None) is None and intake.find(Source.PATROL, "") is None
    first = intake.submit(city["resident"], Source.QR, litter(city, address="上墩村1号"),
                          key="key-00000001", now=T0)
    assert first.created and first.case.address == "上墩村1号"
    assert first.case.created_at == T0
    assert intake.find(Source.QR, "key-00000001") == first.case
    # A retry returns the case its key made, before anything it carries is checked.
    again = intake.submit(city["resident"], Source.QR, litter(city, lon=0, lat=0),
                          key="key-00000001", now=T0)
    assert (again.case, again.created) == (first.case, False)
    assert Case.objects.count() == 3
    with pytest.raises(workflow.WorkflowError) as caught:
        intake.submit(city["resident"], "fax", litter(city), now=T0)
    assert (caught.value.state, caught.value.action, caught.value.reason) == (
        "", "submit", "未知的来源")


def test_a_retry_that_lost_the_race_keeps_no_photos(city: City, media: Path) -> None:
    # `key_unused`: the caller looked the key up and found nothing, but a concurrent
    # submit made the case first; the workflow answers with that case, and the photos
    # stored for the losing retry are removed.
    first = intake.submit(city["resident"], Source.QR, litter(city), key="key-00000003",
                          now=T0)
    late = intake.submit(city["resident"], Source.QR, litter(city), key="key-00000003",
                         photos=intake.prepare([jpeg()]), now=T0, key_unused=True)
    assert (late.case, late.created) == (first.case, False)
    assert files_under(media) == []


def test_a_hotline_call_without_a_ticket_keeps_the_pages_key(city: City) -> None:
    done = intake.submit(city["dispatcher"], Source.HOTLINE, litter(city),
                         key="key-00000002", now=T0)
    assert done.case.submit_key == "12345:key-00000002"
    assert done.case.description == "楼道堆物"  # no ticket line without a ticket
    short = intake.submit(city["dispatcher"], Source.HOTLINE,
                          litter(city, hotline_ticket="8801"), now=T0)
    assert short.case.submit_key == "12345:8801"  # a ticket number is not a client's key
    # A ticket number typed into another channel's report is not its key, nor its text.
    patrol = intake.submit(city["full_time"], Source.PATROL,
                           litter(city, hotline_ticket="WL2026-9"), key="key-00000004", now=T0)
    assert patrol.case.submit_key == "p:key-00000004"
    assert patrol.case.description == "楼道堆物"


def test_a_case_handed_down_says_by_whom_and_by_when(city: City) -> None:
    done = intake.submit(city["town_leader"], Source.HIGHER,
                         litter(city, required_by=date(2026, 11, 6), from_level="市委办"),
                         now=T0)
    assert done.case.description == "楼道堆物\n（市委办交办，要求 2026-11-06 前办结）"
    assert done.case.required_by == at("2026-11-06 23:59")
    undated = intake.submit(city["town_leader"], Source.HIGHER, litter(city), now=T0)
    assert undated.case.description == "楼道堆物" and undated.case.required_by is None


def test_a_resident_may_report_without_their_name(city: City) -> None:
    done = intake.submit(city["resident"], Source.RESIDENT_PAGE, litter(city, anonymous=True),
                         now=T0)
    assert done.case.reporter_id is None and done.case.reporter_phone == ""
    assert done.tracking_code  # followed by its code alone


def test_a_handed_down_date_caps_the_budget_in_working_time(city: City) -> None:
    # Submitted Monday 11:00, due by 14:00: 2 working hours would end at 14:30, so the
    # date caps it; the budget is the working time to 14:00 (11:00–12:00 and 13:30–14:00).
    case = workflow.submit(city["dispatcher"], category=city.plain, description="上级交办",
                           grid=city.grid, source=Source.HIGHER,
                           required_by=at("2026-11-02 14:00"), now=at("2026-11-02 11:00")).case
    assert (case.accept_due, case.accept_budget) == (at("2026-11-02 14:00"), 5400)


def test_support_records_whether_a_merge_brought_it(city: City) -> None:
    target = workflow.submit(city["resident"], category=city.plain, description="楼道堆物",
                             grid=city.grid, now=T0).case
    workflow.add_support(target, city["other_resident"], now=T0)
    assert last_event(target).data == {"merged": 0}
    duplicate = workflow.submit(city["part_time"], category=city.plain, description="楼道堆物",
                                grid=city.grid, source=Source.PATROL, now=T0).case
    follower = User.objects.create(username="r13900000003", phone="13900000003",
                                   is_resident=True)
    workflow.add_support(duplicate, follower, now=T0)
    workflow.merge(duplicate, city["full_time"], into=target, now=T0)
    assert last_event(target).data == {"merged": 1}


def test_the_overall_deadline_runs_on_its_units_clock(city: City) -> None:
    # 乱堆物堆料: 2 working hours to accept, 3 working days to resolve (working time);
    # 露天焚烧: 1 clock hour to accept (wall time).
    plain = workflow.submit(city["resident"], category=city.plain, description="楼道堆物",
                            grid=city.grid, now=T0).case
    assert deadlines.overall(plain).clock == deadlines.WORK
    workflow.accept(plain, city["full_time"], now=T0)
    assert deadlines.overall(plain).clock == deadlines.WORK
    fire = workflow.submit(city["resident"], category=city.urgent, description="露天焚烧",
                           grid=city.grid, now=T0).case
    assert deadlines.overall(fire).clock == deadlines.WALL


def test_a_case_sent_on_before_stage_deadlines_is_late_by_its_overall_one(city: City) -> None:
    # Escalated before each stage had its own time: no stage deadline, so the overall
    # (resolve) deadline is the one it can pass.
    case = workflow.submit(city["resident"], category=city.plain, description="楼道堆物",
                           grid=city.grid, now=T0).case
    workflow.accept(case, city["full_time"], now=T0)
    workflow.escalate(case, city["full_time"], reason="需要执法", now=T0)
    Case.objects.filter(pk=case.pk).update(stage_due=None)
    case.refresh_from_db()
    before, after = case.resolve_due - timedelta(minutes=1), case.resolve_due + timedelta(minutes=1)
    assert not deadlines.is_overdue(case, before) and deadlines.is_overdue(case, after)
    assert not Case.objects.filter(deadlines.overdue_q(before)).exists()
    assert Case.objects.filter(deadlines.overdue_q(after)).get() == case


def test_a_photo_records_who_attached_it(city: City, media: Path) -> None:
    case = workflow.submit(city["resident"], category=city.category, description="垃圾满溢",
                           grid=city.grid, now=T0).case
    workflow.accept(case, city["full_time"], now=T0)
    workflow.act("resolve", case, city["part_time"], {"note": "已清理", "reply": "已清运"},
                 photos(jpeg()))
    assert case.attachments.get(kind=AttachmentKind.AFTER).uploaded_by == city["part_time"]


def test_only_a_case_in_a_stage_is_flagged_for_its_overall_deadline_alone(city: City) -> None:
    # The worker looks at a staged case whose overall deadline passed while its stage
    # still runs; a case out of its stages, or in one without a stage deadline (sent on
    # before stages had their own time), is looked at by its current deadline instead.
    def dispatched() -> Case:
        case = workflow.submit(city["resident"], category=city.plain, description="楼道堆物",
                               grid=city.grid, now=T0).case
        workflow.accept(case, city["full_time"], now=T0)
        workflow.escalate(case, city["full_time"], reason="需要执法", now=T0)
        workflow.dispatch(case, city["dispatcher"], unit=city.office, now=T0)
        return case

    staged, verifying, legacy = dispatched(), dispatched(), dispatched()
    workflow.resolve(verifying, city["office_handler"], note="已清理", now=T0)
    Case.objects.filter(pk=legacy.pk).update(stage_due=None)
    verifying.refresh_from_db()
    assert verifying.state == State.VERIFYING and verifying.stage_due is not None
    passed = staged.resolve_due + timedelta(minutes=1)
    flagged = set(Case.objects.filter(deadlines.overall_passed_q(passed)))
    assert flagged == {staged}
    assert not Case.objects.filter(
        deadlines.overall_passed_q(staged.resolve_due - timedelta(minutes=1))).exists()


def test_deadline_queries_pick_each_states_current_deadline(city: City) -> None:
    # Submitted at Monday 09:00: due to be accepted by 11:00 (2 working hours). Accepted
    # at 09:00: due to be resolved 3 working days later. A filter must pick the same
    # deadline as `deadlines.current` for each.
    waiting = workflow.submit(city["resident"], category=city.plain, description="楼道堆物",
                              grid=city.grid, now=T0).case
    handled = workflow.submit(city["resident"], category=city.plain, description="路灯不亮",
                              grid=city.grid, now=T0).case
    workflow.accept(handled, city["full_time"], now=T0)
    assert waiting.accept_due == at("2026-11-02 11:00")
    assert handled.resolve_due == at("2026-11-05 09:00")
    minute = timedelta(minutes=1)

    def cases(q) -> set:
        return set(Case.objects.filter(q))

    assert cases(deadlines.overdue_q(at("2026-11-02 10:59"))) == set()
    assert cases(deadlines.overdue_q(at("2026-11-02 11:01"))) == {waiting}
    assert cases(deadlines.overdue_q(handled.resolve_due + minute)) == {waiting, handled}
    assert cases(deadlines.due_within_q(T0, at("2026-11-02 11:00"))) == {waiting}
    assert cases(deadlines.due_within_q(at("2026-11-02 11:01"), handled.resolve_due)) == {
        handled}
    assert cases(deadlines.due_by_q(at("2026-11-02 10:59"))) == set()
    assert cases(deadlines.due_by_q(handled.resolve_due)) == {waiting, handled}


def test_a_ticket_number_is_one_case_however_it_is_typed(city: City) -> None:
    first = intake.submit(city["dispatcher"], Source.HOTLINE,
                          litter(city, hotline_ticket=" wl 2026-1 "), now=T0)
    assert first.case.submit_key == "12345:WL2026-1"
    assert first.case.description.endswith("（12345工单号：WL2026-1）")
    again = intake.submit(city["dispatcher"], Source.HOTLINE,
                          litter(city, hotline_ticket="WL2026-1"), now=T0)
    assert (again.case, again.created) == (first.case, False)


def test_a_move_no_person_makes_has_no_form(city: City) -> None:
    case = workflow.submit(city["resident"], category=city.plain, description="楼道堆物",
                           grid=city.grid, now=T0).case
    for action in ("auto_close", "flag_overdue"):
        refused = refusal(action, case, city["full_time"], {})
        assert (refused.state, refused.action, refused.reason) == (
            State.SUBMITTED, action, "该操作不能在页面上办理")


def test_cases_out_of_their_stages_are_late_by_their_own_deadline(city: City) -> None:
    # Returned by the town to the grid the case keeps the 派遣时限 it had (11:00), but
    # is late only by its overall deadline (Thursday 09:00); resolved by the grid (待评价)
    # it is late by none.
    returned = workflow.submit(city["resident"], category=city.plain, description="楼道堆物",
                               grid=city.grid, now=T0).case
    workflow.accept(returned, city["full_time"], now=T0)
    workflow.escalate(returned, city["full_time"], reason="需要执法", now=T0)
    workflow.return_case(returned, city["dispatcher"], reason="网格可处理", now=T0)
    returned.refresh_from_db()
    assert returned.state == State.ACCEPTED
    assert (returned.stage_due, returned.resolve_due) == (at("2026-11-02 11:00"),
                                                          at("2026-11-05 09:00"))
    rated = workflow.submit(city["resident"], category=city.plain, description="路灯不亮",
                            grid=city.grid, now=T0).case
    workflow.accept(rated, city["full_time"], now=T0)
    workflow.resolve(rated, city["full_time"], note="已修好", reply="已修复", now=T0)
    assert rated.state == State.RESOLVED
    assert not Case.objects.filter(deadlines.overdue_q(at("2026-11-02 11:01"))).exists()
    assert set(Case.objects.filter(deadlines.overdue_q(at("2026-11-05 09:01")))) == {returned}


def test_a_stage_runs_on_the_clock_of_its_own_time(city: City) -> None:
    # 派遣时限 is the category's time to accept, 处置时限 its time to resolve: with one
    # counted in clock hours and the other in working days, each stage keeps its clock.
    mixed = Category.objects.create(
        code="0106", name="占道经营", parent=city.plain.parent, lane=city.plain.lane,
        accept_within=1, accept_unit=TimeUnit.CLOCK_HOURS, resolve_within=3,
        resolve_unit=TimeUnit.WORK_DAYS)
    case = workflow.submit(city["resident"], category=mixed, description="占道经营",
                           grid=city.grid, now=T0).case
    workflow.accept(case, city["full_time"], now=T0)
    workflow.escalate(case, city["full_time"], reason="需要执法", now=T0)
    assert deadlines.current(case).clock == deadlines.WALL
    workflow.dispatch(case, city["dispatcher"], unit=city.office, now=T0)
    assert deadlines.current(case).clock == deadlines.WORK


def test_refusals_of_resuming_and_extending_name_the_reason(city: City) -> None:
    case = workflow.submit(city["resident"], category=city.plain, description="楼道堆物",
                           grid=city.grid, now=T0).case
    workflow.accept(case, city["full_time"], now=T0)
    workflow.escalate(case, city["full_time"], reason="需要执法", now=T0)
    workflow.suspend(case, city["dispatcher"], reason="等待上级答复", now=T0)
    with pytest.raises(workflow.WorkflowError) as caught:
        workflow.resume(case, city["full_time"], now=T0)
    assert caught.value.reason == "该案件由镇街挂起，只能由镇街恢复"
    workflow.resume(case, city["dispatcher"], now=T0)
    workflow.dispatch(case, city["dispatcher"], unit=city.office, now=T0)
    with pytest.raises(workflow.WorkflowError) as caught:
        workflow.grant_extension(case, city["dispatcher"], now=T0)
    assert caught.value.reason == "没有待审批的延时申请"
    workflow.request_extension(case, city["office_handler"], amount=1, reason="需采购", now=T0)
    with pytest.raises(workflow.WorkflowError) as caught:
        workflow.request_extension(case, city["office_handler"], amount=1, reason="再需一天",
                                   now=T0)
    assert caught.value.reason == "已有待审批的延时申请"


def test_time_between_two_instants_is_truncated_toward_zero() -> None:
    cal = deadlines.calendar()
    start = at("2026-11-02 09:00")
    and_a_half = start + timedelta(seconds=1, microseconds=500000)
    assert cal.between(start, and_a_half, deadlines.WALL) == 1
    assert cal.between(and_a_half, start, deadlines.WALL) == -1
    assert cal.between(start, start + timedelta(microseconds=999999), deadlines.WORK) == 0


def test_a_deadline_is_passed_only_after_its_instant(city: City) -> None:
    case = workflow.submit(city["resident"], category=city.plain, description="楼道堆物",
                           grid=city.grid, now=T0).case
    current = deadlines.current(case)
    assert not current.overdue(case.accept_due)
    assert current.overdue(case.accept_due + timedelta(seconds=1))
    later = case.accept_due + timedelta(seconds=1)
    workflow.flag_overdue(case, SYSTEM, now=later)
    with pytest.raises(workflow.WorkflowError) as caught:
        workflow.flag_overdue(case, SYSTEM, now=later)
    assert caught.value.reason == "案件已标记超期"


def test_a_handed_down_date_caps_a_stage_in_working_time(city: City) -> None:
    # Escalated Monday 11:00 with 2 working hours to dispatch (14:30), due by 14:00:
    # the stage ends at 14:00 with 11:00–12:00 and 13:30–14:00 of working time.
    case = workflow.submit(city["dispatcher"], category=city.plain, description="上级交办",
                           grid=city.grid, source=Source.HIGHER,
                           required_by=at("2026-11-02 14:00"), now=T0).case
    workflow.accept(case, city["full_time"], now=at("2026-11-02 11:00"))
    assert (case.resolve_due, case.resolve_budget) == (at("2026-11-02 14:00"), 5400)
    workflow.escalate(case, city["full_time"], reason="需要执法", now=at("2026-11-02 11:00"))
    assert (case.stage_due, case.stage_budget) == (at("2026-11-02 14:00"), 5400)


def test_a_suspended_stage_keeps_its_time_on_its_own_clock(city: City) -> None:
    # 1 clock hour to dispatch, 3 working days to handle. Escalated 11:45, suspended
    # 12:00: 45 minutes of wall time left, though 12:00–12:45 is the lunch break.
    # Dispatched 11:45, suspended 12:00: 3 working days less 15 working minutes left.
    mixed = Category.objects.create(
        code="0107", name="占道堆物", parent=city.plain.parent, lane=city.plain.lane,
        accept_within=1, accept_unit=TimeUnit.CLOCK_HOURS, resolve_within=3,
        resolve_unit=TimeUnit.WORK_DAYS)

    def escalated() -> Case:
        case = workflow.submit(city["resident"], category=mixed, description="占道堆物",
                               grid=city.grid, now=T0).case
        workflow.accept(case, city["full_time"], now=T0)
        workflow.escalate(case, city["full_time"], reason="需要执法",
                          now=at("2026-11-02 11:45"))
        return case

    waiting, sent = escalated(), escalated()
    workflow.dispatch(sent, city["dispatcher"], unit=city.office, now=at("2026-11-02 11:45"))
    for case in (waiting, sent):
        workflow.suspend(case, city["dispatcher"], reason="等待答复", now=at("2026-11-02 12:00"))
    assert waiting.stage_left == 45 * 60
    assert sent.stage_left == 3 * 27000 - 15 * 60


def test_a_case_accepted_at_its_deadline_is_on_time(city: City) -> None:
    case = workflow.submit(city["resident"], category=city.plain, description="楼道堆物",
                           grid=city.grid, now=T0).case
    workflow.accept(case, city["full_time"], now=case.accept_due)
    assert not case.overdue


def test_refusals_of_supervising_and_escalating_by_the_system_name_the_reason(
        city: City) -> None:
    case = workflow.submit(city["resident"], category=city.plain, description="楼道堆物",
                           grid=city.grid, now=T0).case
    workflow.supervise(case, city["leader"], now=T0)
    with pytest.raises(workflow.WorkflowError) as caught:
        workflow.supervise(case, city["leader"], now=T0)
    assert caught.value.reason == "该案件已在督办中"
    workflow.accept(case, city["full_time"], now=T0)
    with pytest.raises(workflow.WorkflowError) as caught:
        workflow.escalate(case, SYSTEM, reason="超期", now=T0)
    assert caught.value.reason == "案件未超期，不能自动上报"
    late = case.resolve_due + timedelta(seconds=1)
    workflow.flag_overdue(case, SYSTEM, now=late)
    with pytest.raises(workflow.WorkflowError) as caught:
        workflow.escalate(case, SYSTEM, reason="超期", now=late)
    assert caught.value.reason == "该分类不自动上报"  # 乱堆物堆料 does not escalate itself


def test_supporting_twice_is_refused_with_the_move_and_state_named(city: City) -> None:
    case = workflow.submit(city["resident"], category=city.plain, description="楼道堆物",
                           grid=city.grid, now=T0).case
    workflow.add_support(case, city["other_resident"], now=T0)
    with pytest.raises(workflow.WorkflowError) as caught:
        workflow.add_support(case, city["other_resident"], now=T0)
    refused = caught.value
    assert (refused.state, refused.action, refused.reason) == (
        State.SUBMITTED, "add_support", "您已附议过该问题")


def test_every_supporter_counts_and_a_late_case_names_its_stage(city: City) -> None:
    case = workflow.submit(city["resident"], category=city.plain, description="楼道堆物",
                           grid=city.grid, now=T0).case
    neighbour = User.objects.create(username="r13900000004", phone="13900000004",
                                    is_resident=True)
    for resident in (city["other_resident"], neighbour):
        workflow.add_support(case, resident, now=T0)
    case.refresh_from_db()
    assert case.support_count == 2
    workflow.accept(case, city["full_time"], now=T0)
    workflow.flag_overdue(case, SYSTEM, now=case.resolve_due + timedelta(seconds=1))
    assert last_event(case).data == {"stage": "resolve"}


def test_a_note_too_long_is_refused_naming_the_note_the_state_and_the_move(city: City) -> None:
    case = workflow.submit(city["resident"], category=city.plain, description="楼道堆物",
                           grid=city.grid, now=T0).case
    with pytest.raises(workflow.WorkflowError) as too_long:
        workflow.accept(case, city["full_time"], note="说" * 501, now=T0)
    refused = too_long.value
    assert (refused.state, refused.action, refused.about_input) == ("submitted", "accept", True)
    assert str(refused) == "说明不能超过 500 字"
    # 500 characters are allowed, and no note at all too.
    workflow.accept(case, city["full_time"], note="说" * 500, now=T0)
    assert last_event(case).data["note"] == "说" * 500


def test_a_refusal_before_the_case_exists_calls_its_state_new(city: City) -> None:
    with pytest.raises(workflow.WorkflowError) as refused:
        workflow.submit(city["resident"], category=city.plain, description="冒充巡查",
                        grid=city.grid, source=Source.PATROL, now=T0)
    assert str(refused.value) == "案件处于「新建」，不能「上报」：只有工作人员可以登记巡查或走访发现的问题"


def test_a_move_that_fails_for_another_reason_keeps_no_photos(city: City, media: Path,
                                                             monkeypatch) -> None:
    # Fault injection: the database failing mid-move cannot be provoked for real on demand.
    from django.db import DatabaseError

    from linge.cases.transitions import Action

    case = workflow.submit(city["resident"], category=city.category, description="垃圾满溢",
                           grid=city.grid, now=T0).case
    workflow.accept(case, city["full_time"], now=T0)

    def lost_connection(*args, **kwargs):
        assert files_under(media), "the photo is stored before the move is made"
        raise DatabaseError("server closed the connection unexpectedly")

    monkeypatch.setitem(workflow.PERFORMERS, Action.RESOLVE, lost_connection)
    with pytest.raises(DatabaseError):
        workflow.act("resolve", case, city["full_time"], {"note": "已清理"}, photos(jpeg()))
    assert files_under(media) == []


def test_support_told_through_a_batch_is_written_with_the_batch(city: City) -> None:
    import random

    from linge.cases.batch import BatchStore
    from linge.cases.models import Supporter

    batch = BatchStore(random.Random(7), parallel=False)
    case = workflow.submit(city["resident"], category=city.plain, description="路灯不亮",
                           grid=city.grid, now=T0, store=batch).case
    workflow.add_support(case, city["other_resident"], now=T0 + timedelta(hours=1), store=batch)
    assert not CaseEvent.objects.exists()  # nothing is written before the batch is
    batch.finish()
    assert list(CaseEvent.objects.filter(case_id=case.pk).order_by("seq")
                .values_list("action", flat=True)) == ["submit", "add_support"]
    assert list(Supporter.objects.values_list("case_id", "user_id")) == [
        (case.pk, city["other_resident"].pk)]
    assert Case.objects.get(pk=case.pk).support_count == 1


def test_a_person_without_standing_is_told_they_may_not(city: City) -> None:
    case = workflow.submit(city["resident"], category=city.plain, description="楼道堆物",
                           grid=city.grid, now=T0).case
    with pytest.raises(workflow.WorkflowError) as refused:
        workflow.accept(case, city["grid_guide"], now=T0)
    assert refused.value.reason == "无权执行此操作"
    assert str(refused.value) == "案件处于「待受理」，不能「受理」：无权执行此操作"


def test_an_event_names_the_person_who_made_the_move(city: City) -> None:
    case = workflow.submit(city["resident"], category=city.plain, description="楼道堆物",
                           grid=city.grid, now=T0).case
    workflow.accept(case, city["full_time"], now=T0)
    assert last_event(case).actor_id == city["full_time"].pk


def limitless(city: City, **limits) -> Category:
    return Category.objects.create(code="0199", name="其他市容问题", parent=city.plain.parent,
                                   **limits)


def test_a_category_without_a_time_limit_gives_no_deadline(city: City) -> None:
    for code, limits in (("0198", {}), ("0199", {"accept_unit": TimeUnit.WORK_HOURS})):
        # The second is half filled in: a unit chosen, no amount.
        category = Category.objects.create(code=code, name="其他", parent=city.plain.parent,
                                           **limits)
        case = workflow.submit(city["resident"], category=category, description="其他问题",
                               grid=city.grid, now=T0).case
        assert (case.accept_due, case.accept_budget) == (None, 0)


def test_a_handed_down_date_later_than_the_category_limit_leaves_the_limit(city: City) -> None:
    # 2 working hours from Monday 09:00 end at 11:00, well before Friday's date.
    case = workflow.submit(city["dispatcher"], category=city.plain, description="上级交办",
                           grid=city.grid, source=Source.HIGHER,
                           required_by=at("2026-11-06 17:00"), now=T0).case
    assert (case.accept_due, case.accept_budget) == (at("2026-11-02 11:00"), 7200)


def test_a_handed_down_case_of_a_category_without_limits_is_due_by_its_date(
        city: City) -> None:
    category = limitless(city)
    case = workflow.submit(city["dispatcher"], category=category, description="上级交办",
                           grid=city.grid, source=Source.HIGHER,
                           required_by=at("2026-11-03 09:00"), now=T0).case
    # No unit, so no working calendar: the whole day counts, 24 hours.
    assert (case.accept_due, case.accept_budget) == (at("2026-11-03 09:00"), 86400)


def test_accepted_after_its_handed_down_date_a_case_has_no_time_left(city: City) -> None:
    case = workflow.submit(city["dispatcher"], category=city.plain, description="上级交办",
                           grid=city.grid, source=Source.HIGHER,
                           required_by=at("2026-11-02 10:00"), now=T0).case
    workflow.accept(case, city["full_time"], now=at("2026-11-02 11:00"))
    assert (case.resolve_due, case.resolve_budget) == (at("2026-11-02 10:00"), 0)


def test_a_grid_may_be_named_by_its_id_and_must_be_a_grid(city: City) -> None:
    case = workflow.submit(city["resident"], category=city.plain, description="路灯不亮",
                           grid=city.grid.pk, now=T0).case
    assert case.grid == city.grid
    with pytest.raises(workflow.WorkflowError) as refused:
        workflow.submit(city["resident"], category=city.plain, description="路灯不亮",
                        grid=city.village, now=T0)
    assert (refused.value.state, refused.value.action) == ("", "submit")
    assert str(refused.value) == "案件处于「新建」，不能「上报」：所选区域不是网格"


def test_an_address_too_long_is_refused_by_name(city: City) -> None:
    with pytest.raises(workflow.WorkflowError) as refused:
        workflow.submit(city["resident"], category=city.plain, description="路灯不亮",
                        grid=city.grid, address="路" * 201, now=T0)
    assert (refused.value.state, refused.value.action) == ("", "submit")
    assert str(refused.value) == "地址不能超过 200 字"
    assert not Case.objects.exists()


def test_a_retry_that_loses_to_its_key_skips_a_number(city: City) -> None:
    first = workflow.submit(city["resident"], category=city.plain, description="路灯不亮",
                            grid=city.grid, submit_key="k1", now=T0).case
    again = workflow.submit(city["resident"], category=city.plain, description="路灯不亮",
                            grid=city.grid, submit_key="k1", now=T0)
    assert (again.case.pk, again.created) == (first.pk, False)
    second = workflow.submit(city["resident"], category=city.plain, description="井盖缺失",
                             grid=city.grid, submit_key="k2", now=T0).case
    # The number is drawn before the case's transaction (the counter is not held to
    # commit, and the case is composed outside the writers' lock): the lost retry used
    # one up. Numbers stay unique and in order, not gapless. (intake looks a key up
    # before it submits, so only a retry racing its first try gets this far.)
    assert (first.number, second.number) == ("20261102-000001", "20261102-000003")


def test_a_reports_photos_are_counted_in_its_event_and_keep_their_size(city: City,
                                                                       media: Path) -> None:
    from linge.cases.photos import store_all

    stored = store_all([jpeg()])
    case = workflow.submit(city["resident"], category=city.plain, description="楼道堆物",
                           grid=city.grid, photos=stored, now=T0).case
    assert last_event(case).data == {"source": "resident_page", "category": "0104",
                                      "photos": 1}
    photo = case.attachments.get(kind=AttachmentKind.BEFORE)
    assert (photo.width, photo.height) == (64, 48)  # the JPEG made above


def test_a_report_keeps_the_reporters_phone_from_their_account(city: City) -> None:
    case = workflow.submit(city["resident"], category=city.plain, description="路灯不亮",
                           grid=city.grid, now=T0).case
    assert case.reporter_phone == "13900000001"
    given = workflow.submit(city["resident"], category=city.plain, description="井盖缺失",
                            grid=city.grid, reporter_phone="13700000000", now=T0).case
    assert given.reporter_phone == "13700000000"


def test_a_report_must_name_a_subcategory(city: City) -> None:
    with pytest.raises(workflow.WorkflowError) as refused:
        workflow.submit(city["resident"], category=city.plain.parent, description="路灯不亮",
                        grid=city.grid, now=T0)
    error = refused.value
    assert (error.state, error.action, error.about_input) == ("", "submit", True)
    assert str(error) == "请选择具体的问题小类"


def test_a_missing_required_text_names_the_state_it_was_refused_in(city: City) -> None:
    case = workflow.submit(city["resident"], category=city.plain, description="楼道堆物",
                           grid=city.grid, now=T0).case
    workflow.accept(case, city["full_time"], now=T0)
    with pytest.raises(workflow.WorkflowError) as refused:
        workflow.resolve(case, city["full_time"], note="  ", now=T0)
    error = refused.value
    assert (error.state, error.action, error.about_input) == ("accepted", "resolve", True)
    assert str(error) == "请填写处置情况"


def test_a_position_is_sealed_as_text(city: City) -> None:
    from linge.cases import chain

    case = workflow.submit(city["resident"], category=city.plain, description="路灯不亮",
                           grid=city.grid, lon=121.005, lat=28.005, now=T0).case
    sealed = chain.snapshot(case)
    assert (sealed["lon"], sealed["lat"]) == ("121.005", "28.005")


def test_the_audit_key_is_its_own_setting_or_else_derived(settings) -> None:
    from linge.cases import chain

    settings.LINGE_AUDIT_KEY = "a key kept apart"
    assert chain.audit_key() == hashlib.sha256(b"a key kept apart").digest()
    derived = hashlib.sha256(f"{settings.SECRET_KEY}:linge.audit".encode()).digest()
    settings.LINGE_AUDIT_KEY = ""
    assert chain.audit_key() == derived
    del settings.LINGE_AUDIT_KEY  # settings written before the audit key existed
    assert chain.audit_key() == derived


def test_an_unknown_move_is_named_by_its_code() -> None:
    from linge.cases.transitions import label

    assert label("accept") == "受理"
    assert label("teleport") == "teleport"


def test_a_deadline_of_no_known_unit_or_below_zero_is_a_programming_error() -> None:
    with pytest.raises(ValueError) as negative:
        deadlines.budget(-1, TimeUnit.WORK_HOURS)
    assert str(negative.value) == "a deadline cannot be negative: -1 work_hours"
    with pytest.raises(ValueError) as unknown:
        deadlines.budget(1, "fortnights")
    assert str(unknown.value) == ("unknown time unit 'fortnights'; expected one of "
                                  "['clock_hours', 'work_hours', 'work_days', 'calendar_days']")


def test_a_year_missing_from_the_holiday_table_is_logged_once(caplog) -> None:
    import logging

    calendar = deadlines.WorkCalendar.from_setting(
        "08:30-12:00,13:30-17:30", "Asia/Shanghai", ({date(2026, 10, 1): False}, {2026}))
    with caplog.at_level(logging.WARNING, logger="linge.cases.deadlines"):
        assert calendar.is_workday(date(2026, 10, 1)) is False  # in the table
        assert calendar.is_workday(date(2026, 10, 2)) is True  # a Friday, not in it
        assert calendar.is_workday(date(2027, 1, 1)) is True  # 2027 unknown: Mon–Fri
        assert calendar.is_workday(date(2027, 1, 2)) is False
        assert calendar.is_workday(date(2028, 1, 3)) is True
    assert [r.getMessage() for r in caplog.records] == [
        f"the holiday table has no days for {year}: counting Monday-Friday as working days "
        "(enter the year's holidays and 调休 in the admin)" for year in (2027, 2028)]


def test_without_a_holiday_table_the_package_knows_the_holidays(caplog) -> None:
    import logging

    import chinese_calendar

    calendar = deadlines.WorkCalendar.from_setting("08:30-12:00,13:30-17:30", "Asia/Shanghai")
    with caplog.at_level(logging.WARNING, logger="linge.cases.deadlines"):
        assert calendar.is_workday(date(2026, 10, 1)) is False  # 国庆节
        assert calendar.is_workday(date(2026, 10, 10)) is True  # a Saturday 调休
        assert calendar.is_workday(date(2031, 1, 3)) is True  # a Friday of an unknown year
        assert calendar.is_workday(date(2031, 1, 4)) is False  # its Saturday
    assert [r.getMessage() for r in caplog.records] == [
        f"chinese_calendar {chinese_calendar.__version__} has no holiday data for 2031: "
        "counting Monday-Friday as working days (upgrade chinesecalendar for holidays and 调休)"]


def test_a_datetime_whose_zone_gives_no_offset_counts_as_naive() -> None:
    from datetime import datetime, tzinfo

    class Unknown(tzinfo):
        def utcoffset(self, dt):
            return None

    calendar = deadlines.WorkCalendar.from_setting("08:30-12:00,13:30-17:30", "Asia/Shanghai")
    for start in (datetime(2026, 11, 2, 9), datetime(2026, 11, 2, 9, tzinfo=Unknown())):
        with pytest.raises(ValueError, match="an aware datetime is required"):
            calendar.add(start, 3600, deadlines.WORK)


def test_working_hours_that_cannot_be_read_are_refused_with_an_example() -> None:
    from datetime import time

    from django.core.exceptions import ImproperlyConfigured

    example = "expected comma-separated HH:MM-HH:MM periods, e.g. '08:30-12:00,13:30-17:30'"
    for text, problem in (("8-12", "cannot read period '8-12'"), ("", "cannot read period ''"),
                          ("09:00-08:30", "period 09:00-08:30 ends before it starts"),
                          ("08:30-12:00,11:00-17:30", "period 11:00-17:30 overlaps or precedes "
                           "the one before it; list periods in order without overlap")):
        with pytest.raises(ImproperlyConfigured) as refused:
            deadlines.WorkCalendar.from_setting(text, "Asia/Shanghai")
        assert str(refused.value) == f"LINGE_WORK_HOURS={text!r}: {problem}; {example}"
    zone = ZoneInfo("Asia/Shanghai")
    for periods, problem in (([], "no working periods"),
                             ([(time(8, 30, tzinfo=zone), time(12))],
                              "working periods are local times and must be naive")):
        with pytest.raises(ValueError) as refused:
            deadlines.WorkCalendar(periods, zone)
        assert str(refused.value) == problem
    # Periods may touch; seconds count.
    touching = deadlines.WorkCalendar([(time(8, 0, 30), time(12)), (time(12), time(13))], zone)
    assert touching.day_seconds == 4 * 3600 + 3570


def test_the_calendar_reads_the_holiday_table(city: City) -> None:
    from linge.cases.models import CalendarDay

    # Monday 2 November 2026 made a local day off in the table.
    CalendarDay.objects.update_or_create(day=date(2026, 11, 2),
                                         defaults={"workday": False, "name": "本地假日"})
    deadlines.calendar.cache_clear()
    assert deadlines.calendar().is_workday(date(2026, 11, 2)) is False
