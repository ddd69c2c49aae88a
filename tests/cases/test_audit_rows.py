"""The chain proves the case rows: every event records what its move set on the case,
`linge audit verify` rebuilds every case from its events and compares it with the row
(photos included), the head is sealed with a key that is not in the database, and an
anchor written outside the database catches a history rewritten by someone who holds
the key as well."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils import timezone

from linge.cases import workflow
from linge.cases.chain import (
    GENESIS,
    Anchor,
    Problem,
    Verdict,
    current_anchor,
    event_hash,
    head_seal,
    verify,
    verify_chain,
)
from linge.cases.models import Attachment, Case, CaseEvent, ChainHead, Rating, State
from linge.cases.photos import store_photo
from tests.conftest import City, at
from tests.resident.conftest import jpeg_bytes


@pytest.fixture
def cases(city: City, media) -> dict[str, Case]:
    photo = store_photo(SimpleUploadedFile("a.jpg", jpeg_bytes(), "image/jpeg"))
    rejected = workflow.submit(city["resident"], category=city.plain, description="广告牌松动",
                               grid=city.grid, photos=[photo], address="上墩村1号",
                               now=at("2026-11-02 09:00")).case
    workflow.reject(rejected, city["full_time"], reason="不属于网格事项", now=at("2026-11-02 10:00"))
    done = workflow.submit(city["resident"], category=city.plain, description="路灯不亮",
                           grid=city.grid, lon=121.305, lat=28.305, now=at("2026-11-02 09:30")).case
    workflow.accept(done, city["full_time"], now=at("2026-11-02 10:00"))
    after = store_photo(SimpleUploadedFile("b.jpg", jpeg_bytes(color="green"), "image/jpeg"))
    workflow.resolve(done, city["full_time"], note="已修好", reply="已修复", after_photos=[after],
                     now=at("2026-11-02 11:00"))
    verdict = verify()
    assert verdict.problem is None and verdict.count == 5 and verdict.legacy_cases == 0
    return {"rejected": rejected, "done": done}


def test_the_submit_event_records_the_whole_case(cases) -> None:
    submit = CaseEvent.objects.get(case=cases["rejected"], action="submit")
    assert submit.fields["description"] == "广告牌松动"
    assert submit.fields["address"] == "上墩村1号"
    assert submit.fields["grid_id"] == cases["rejected"].grid_id
    assert submit.fields["+photos"] == [["before", Attachment.objects.get(
        case=cases["rejected"]).sha256]]
    reject = CaseEvent.objects.get(case=cases["rejected"], action="reject")
    assert reject.fields["state"] == "rejected" and "description" not in reject.fields


@pytest.mark.parametrize(("change", "named"), [
    ({"state": State.CLOSED, "rating": Rating.SATISFIED}, "状态为 closed"),
    ({"rating": Rating.SATISFIED}, "rating"),
    ({"description": "广告牌已加固"}, "description"),
    ({"address": "别处"}, "address"),
    ({"reply": "已妥善处理"}, "reply"),
])
def test_a_case_row_changed_in_the_database_is_caught(cases, change, named) -> None:
    Case.objects.filter(pk=cases["rejected"].pk).update(**change)
    verdict = verify()
    assert verdict.problem is not None and verdict.problem.case == cases["rejected"].number
    assert named in verdict.problem.reason
    with pytest.raises(CommandError, match=cases["rejected"].number):
        call_command("audit", "verify")


def test_the_grid_changed_in_the_database_is_caught(cases, city: City) -> None:
    Case.objects.filter(pk=cases["done"].pk).update(grid=city.neighbour_grid)
    assert "grid_id" in verify().problem.reason


def test_a_photo_swapped_in_the_database_is_caught(cases) -> None:
    Attachment.objects.filter(case=cases["done"], kind="after").update(sha256="0" * 64)
    problem = verify().problem
    assert problem.case == cases["done"].number and "照片" in problem.reason
    Attachment.objects.filter(case=cases["done"], kind="after").delete()
    assert "照片" in verify().problem.reason


def rewrite_history(seq: int, *, data=None, fields=None) -> str:
    """Edit event `seq`, then recompute its hash and every later one and the head's hash,
    as someone who read chain.py and can write the database would. Returns the new head."""
    events = list(CaseEvent.objects.filter(seq__gte=seq - 1).select_related("case").order_by("seq"))
    prev = events[0].hash if seq > 1 else GENESIS
    for event in events if seq == 1 else events[1:]:
        if event.seq == seq:
            event.data = data if data is not None else event.data
            event.fields = fields if fields is not None else event.fields
        event.prev_hash = prev
        event.hash = event_hash(
            prev_hash=prev, seq=event.seq, case_number=event.case.number, action=event.action,
            actor_id=event.actor_id, actor_label=event.actor_label, from_state=event.from_state,
            to_state=event.to_state, data=event.data, public=event.public, at=event.at,
            fields=event.fields)
        CaseEvent.objects.filter(pk=event.pk).update(prev_hash=event.prev_hash, hash=event.hash,
                                                     data=event.data, fields=event.fields)
        prev = event.hash
    ChainHead.objects.filter(pk=1).update(hash=prev)
    return prev


def forge_description(cases) -> int:
    """The description changed in the row and in its submit event, consistently."""
    case = cases["rejected"]
    submit = CaseEvent.objects.get(case=case, action="submit")
    Case.objects.filter(pk=case.pk).update(description="广告牌已加固")
    rewrite_history(submit.seq, fields={**submit.fields, "description": "广告牌已加固"})
    return submit.seq


def test_a_history_rewritten_with_recomputed_hashes_fails_on_the_key(cases) -> None:
    forge_description(cases)
    assert verify().problem == Problem(5, "链尾签名不符（事件链被重算改写，或审计密钥不对）")
    with pytest.raises(CommandError, match="链尾签名不符"):
        call_command("audit", "verify")


def anchor_path() -> str:
    folder = settings.VAR_DIR / "test-anchors"
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder / f"{uuid.uuid4().hex}.json")


def test_a_history_rewritten_by_a_key_holder_fails_against_an_earlier_anchor(cases) -> None:
    path = anchor_path()
    call_command("audit", "anchor", "--out", path)
    anchor = json.loads(open(path, encoding="utf-8").read())
    assert anchor["seq"] == 5 and anchor["seal"] == head_seal(5, anchor["hash"])
    call_command("audit", "verify", "--anchor", path)  # the untouched chain agrees

    seq = forge_description(cases)
    head = ChainHead.objects.get(pk=1)
    ChainHead.objects.filter(pk=1).update(seal=head_seal(head.seq, head.hash))  # holds the key
    assert verify().problem is None  # nothing inside the database tells
    with pytest.raises(CommandError, match="锚点记录的哈希不符"):
        call_command("audit", "verify", "--anchor", path)
    assert seq <= 5


def test_a_chain_cut_short_below_an_anchor_is_caught(cases, city: City) -> None:
    path = anchor_path()
    call_command("audit", "anchor", "--out", path)
    last = CaseEvent.objects.get(seq=5)
    CaseEvent.objects.filter(pk=last.pk).delete()
    Case.objects.filter(pk=last.case_id).update(state=State.ACCEPTED)
    previous = CaseEvent.objects.get(seq=4)
    ChainHead.objects.filter(pk=1).update(seq=4, hash=previous.hash,
                                          seal=head_seal(4, previous.hash))
    with pytest.raises(CommandError, match="锚点已记到 #5"):
        call_command("audit", "verify", "--anchor", path)


def test_a_forged_anchor_file_is_refused(cases) -> None:
    path = anchor_path()
    call_command("audit", "anchor", "--out", path)
    data = json.loads(open(path, encoding="utf-8").read())
    data["hash"] = "a" * 64
    open(path, "w", encoding="utf-8").write(json.dumps(data))
    with pytest.raises(CommandError, match="锚点文件的签名不符"):
        call_command("audit", "verify", "--anchor", path)


def test_the_anchor_goes_under_the_var_folder_and_into_the_log(cases, caplog) -> None:
    folder = settings.VAR_DIR / "anchors"
    before = set(folder.glob("*.json")) if folder.exists() else set()
    with caplog.at_level("INFO", logger="linge.audit"):
        call_command("audit", "anchor")
    written = set(folder.glob("*.json")) - before
    assert len(written) == 1
    anchor = json.loads(written.pop().read_text(encoding="utf-8"))
    assert f"seq=5 hash={anchor['hash']}" in caplog.text
    for path in folder.glob("*.json"):
        path.unlink()


def test_cases_from_before_fields_are_checked_on_their_state_and_counted(cases) -> None:
    """Events written before this change carry no fields and cannot be given any (their
    hashes are sealed). Simulated here by stripping the fields of the first case's events
    and resealing: verify passes, says how many such cases there are, and still catches
    a state that does not match the last event."""
    case = cases["rejected"]
    for seq in CaseEvent.objects.filter(case=case).order_by("seq").values_list("seq", flat=True):
        rewrite_history(seq, fields={})
    head = ChainHead.objects.get(pk=1)
    ChainHead.objects.filter(pk=1).update(seal=head_seal(head.seq, head.hash))
    verdict = verify()
    assert verdict.problem is None and verdict.legacy_cases == 1
    Case.objects.filter(pk=case.pk).update(state=State.CLOSED)
    assert "状态为 closed" in verify().problem.reason


def test_an_event_without_fields_after_sealed_ones_is_caught(cases) -> None:
    rewrite_history(4, fields={})
    head = ChainHead.objects.get(pk=1)
    ChainHead.objects.filter(pk=1).update(seal=head_seal(head.seq, head.hash))
    verdict = verify()
    assert verdict.problem == Problem(4, "没有记录案件字段，而此前的事件都有（事件被改写）")
    assert verdict.count == 3  # events 1 to 3 checked before the bare one


def test_a_sealed_field_missing_from_a_cases_events_names_the_case(cases) -> None:
    case = cases["rejected"]
    submit = CaseEvent.objects.get(case=case, action="submit")
    rewrite_history(submit.seq, fields={k: v for k, v in submit.fields.items()
                                        if k not in ("address", "lat")})
    reseal()
    assert verify().problem == Problem(0, "事件未记录 lat, address", case=case.number)


def test_an_anchor_taken_before_the_first_event_holds_for_the_chain_grown_since(
        city: City) -> None:
    anchor = current_anchor()
    assert (anchor.seq, anchor.hash) == (0, GENESIS)
    assert verify(anchor=anchor).problem is None
    workflow.submit(city["resident"], category=city.plain, description="路灯不亮",
                    grid=city.grid, now=at("2026-11-02 09:00"))
    assert verify(anchor=anchor).problem is None


def test_an_anchor_reads_back_from_its_file_as_written(cases) -> None:
    anchor = current_anchor()
    taken = datetime.fromisoformat(anchor.at)
    assert abs(taken - timezone.now()) < timedelta(minutes=1) and taken.microsecond == 0
    assert Anchor.from_json(anchor.to_json()) == anchor


def test_verify_chain_checks_the_anchor_it_is_given(cases) -> None:
    forged = Anchor(5, "a" * 64, "0" * 64, "2026-11-02T12:00:00+08:00")
    assert verify_chain(anchor=forged) == (
        0, Problem(5, "锚点文件的签名不符（锚点被改动，或审计密钥不同）"))


def test_a_case_whose_submit_predates_fields_is_legacy_though_later_events_have_them(
        cases) -> None:
    submit = CaseEvent.objects.get(case=cases["rejected"], action="submit")
    rewrite_history(submit.seq, fields={})  # its reject event still records fields
    head = ChainHead.objects.get(pk=1)
    ChainHead.objects.filter(pk=1).update(seal=head_seal(head.seq, head.hash))
    verdict = verify()
    assert verdict.problem is None and verdict.legacy_cases == 1


# Each finding named exactly: the event (or, for a case, 0 and the case's number) where
# the walk stopped, how many events it had checked, and what it found.

def reseal() -> None:
    """Seal the head again, as someone who also holds the key would."""
    head = ChainHead.objects.get(pk=1)
    ChainHead.objects.filter(pk=1).update(seal=head_seal(head.seq, head.hash))


def test_a_broken_link_and_a_changed_event_are_named_at_their_event(cases) -> None:
    event = CaseEvent.objects.get(seq=3)
    CaseEvent.objects.filter(seq=3).update(prev_hash="0" * 64)
    assert verify() == Verdict(2, Problem(3, "前序哈希不符（事件被删除、插入或调换了顺序）"))
    CaseEvent.objects.filter(seq=3).update(prev_hash=event.prev_hash, data={"note": "改"})
    assert verify() == Verdict(2, Problem(3, "内容与哈希不符（事件被修改）"))


def test_the_head_and_the_anchors_are_named_exactly(cases, city: City) -> None:
    ChainHead.objects.filter(pk=1).update(seq=6)
    assert verify() == Verdict(5, Problem(6, "链尾不符：记录的最后事件为 #6，实际为 #5"))
    ChainHead.objects.filter(pk=1).update(seq=5)
    anchor = current_anchor()
    assert verify(anchor=anchor).problem is None
    forged = Anchor(anchor.seq, anchor.hash, "0" * 64, anchor.at)
    assert verify(anchor=forged) == Verdict(
        0, Problem(5, "锚点文件的签名不符（锚点被改动，或审计密钥不同）"))
    forge_description(cases)
    reseal()
    assert verify(anchor=anchor) == Verdict(
        4, Problem(5, f"与 {anchor.at} 的锚点记录的哈希不符（历史被改写）"))


def test_a_chain_cut_below_its_anchor_is_named_after_its_last_event(cases) -> None:
    anchor = current_anchor()
    last = CaseEvent.objects.get(seq=5)
    CaseEvent.objects.filter(pk=last.pk).delete()
    Case.objects.filter(pk=last.case_id).update(state=State.ACCEPTED)
    previous = CaseEvent.objects.get(seq=4)
    ChainHead.objects.filter(pk=1).update(seq=4, hash=previous.hash,
                                          seal=head_seal(4, previous.hash))
    assert verify(anchor=anchor) == Verdict(4, Problem(
        5, f"事件链只有 4 个事件，{anchor.at} 的锚点已记到 #5（事件被删除）"))


def test_a_case_row_out_of_step_with_its_events_is_named_exactly(cases) -> None:
    rejected, done = cases["rejected"], cases["done"]
    Case.objects.filter(pk=rejected.pk).update(state=State.CLOSED)
    assert verify().problem == Problem(
        0, "状态为 closed，最后一个事件却停在 rejected（事件被删除）", case=rejected.number)
    Case.objects.filter(pk=rejected.pk).update(state=State.REJECTED,
                                               description="广告牌已加固")
    assert verify().problem == Problem(
        0, "description 为 '广告牌已加固'，按事件应为 '广告牌松动'（案件记录被直接修改）",
        case=rejected.number)
    Case.objects.filter(pk=rejected.pk).update(description="广告牌松动")
    Attachment.objects.filter(case=done, kind="after").update(sha256="0" * 64)
    assert verify().problem == Problem(
        0, "照片与事件记录的不符（照片被替换、增加或删除）", case=done.number)


def test_a_case_left_without_events_is_named(cases) -> None:
    # Its two events moved onto the other case and the chain recomputed and resealed.
    rejected, done = cases["rejected"], cases["done"]
    CaseEvent.objects.filter(case=rejected).update(case=done)
    rewrite_history(1)
    reseal()
    assert verify().problem == Problem(0, "没有任何事件（事件被删除）", case=rejected.number)


def test_every_case_from_before_fields_is_counted_and_later_ones_still_checked(cases) -> None:
    for seq in CaseEvent.objects.filter(case=cases["rejected"]).values_list("seq", flat=True):
        rewrite_history(seq, fields={})
    reseal()
    Case.objects.filter(pk=cases["done"].pk).update(reply="已妥善处理")
    assert verify().problem.case == cases["done"].number  # found after the legacy case
    Case.objects.filter(pk=cases["done"].pk).update(reply="已修复")
    for seq in CaseEvent.objects.filter(case=cases["done"]).values_list("seq", flat=True):
        rewrite_history(seq, fields={})
    reseal()
    assert verify() == Verdict(5, None, legacy_cases=2)
