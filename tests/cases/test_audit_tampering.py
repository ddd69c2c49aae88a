"""Tampering someone with database access would try, each of which `linge audit verify`
must catch: an edited event resealed with a correct-looking hash, the next row's
`prev_hash` patched to match, deleted and reordered events, a case's events dropped
(with the chain head rewritten to hide it)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command

from linge.cases import workflow
from linge.cases.chain import GENESIS, event_hash, head_seal, verify_chain
from linge.cases.models import CaseEvent, ChainHead
from linge.notify.models import Outbox
from tests.conftest import City, at


@pytest.fixture
def history(city: City) -> City:
    """Three cases, three events each: events 1–3 are case 1's, 4–6 case 2's, 7–9 case 3's."""
    for i in range(3):
        case = workflow.submit(city["resident"], category=city.plain, description=f"堆物{i}",
                               grid=city.grid, now=at("2026-11-02 09:00")).case
        workflow.accept(case, city["full_time"], now=at("2026-11-02 10:00"))
        workflow.resolve(case, city["full_time"], note="已清理", now=at("2026-11-02 11:00"))
    assert verify_chain() == (9, None)
    return city


def reseal(seq: int, prev_hash: str | None = None, **changes) -> str:
    """Apply `changes` to event `seq` and give it the hash they deserve, computed over its
    stored `prev_hash` (or `prev_hash`), as a tamperer who read chain.py would do."""
    event = CaseEvent.objects.select_related("case").get(seq=seq)
    for name, value in changes.items():
        setattr(event, name, value)
    if prev_hash is not None:
        event.prev_hash = prev_hash
    event.hash = event_hash(
        prev_hash=event.prev_hash, seq=event.seq, case_number=event.case.number,
        action=event.action, actor_id=event.actor_id, actor_label=event.actor_label,
        from_state=event.from_state, to_state=event.to_state, data=event.data,
        public=event.public, at=event.at, fields=event.fields,
    )
    CaseEvent.objects.filter(pk=event.pk).update(
        hash=event.hash, prev_hash=event.prev_hash, **changes
    )
    return event.hash


def hash_of(seq: int) -> str:
    return CaseEvent.objects.get(seq=seq).hash


def drop(*seqs: int) -> None:
    # Outbox keys start with the event's sequence number ("12:…").
    for seq in seqs:
        Outbox.objects.filter(key__startswith=f"{seq}:").delete()
    CaseEvent.objects.filter(seq__in=seqs).delete()


def test_the_hash_is_written_by_hand() -> None:
    # sha256 of "<previous hash>|<canonical JSON of the content>", JSON with sorted keys,
    # no spaces, Chinese as is, the time in UTC with microseconds.
    body = ('[7,"20261102-000001","accept",3,"李专职","submitted","accepted",'
            '{"duty":"专职网格员","note":"好"},true,"2026-11-02T02:00:00.000000+00:00"]')
    prev = "ab" * 32
    expected = hashlib.sha256(f"{prev}|{body}".encode()).hexdigest()
    assert event_hash(
        prev_hash=prev, seq=7, case_number="20261102-000001", action="accept", actor_id=3,
        actor_label="李专职", from_state="submitted", to_state="accepted",
        data={"note": "好", "duty": "专职网格员"}, public=True, at=at("2026-11-02 10:00"),
    ) == expected
    # The same content after another event: another hash.
    assert event_hash(
        prev_hash=GENESIS, seq=7, case_number="20261102-000001", action="accept", actor_id=3,
        actor_label="李专职", from_state="submitted", to_state="accepted",
        data={"note": "好", "duty": "专职网格员"}, public=True,
        at=datetime(2026, 11, 2, 2, 0, tzinfo=UTC),
    ) != expected


def test_edited_and_resealed_event_with_the_next_prev_hash_patched(history: City) -> None:
    new = reseal(5, data={"note": "改过的记录"})
    CaseEvent.objects.filter(seq=6).update(prev_hash=new)
    count, problem = verify_chain()
    # Event 6's hash was made over the old hash of 5: that is where the chain breaks.
    assert (count, problem.seq) == (5, 6) and "修改" in problem.reason
    with pytest.raises(CommandError, match="#6"):
        call_command("audit", "verify")


def test_edited_and_resealed_event_alone(history: City) -> None:
    reseal(5, data={"note": "改过的记录"})
    count, problem = verify_chain()
    assert (count, problem.seq) == (5, 6) and "前序哈希" in problem.reason


def test_a_prev_hash_column_that_lies_is_caught_at_its_own_event(history: City) -> None:
    # The hash is resealed over a made-up prev_hash: only the real previous hash says no.
    reseal(5, prev_hash="f" * 64)
    count, problem = verify_chain()
    assert (count, problem.seq) == (4, 5)


def test_first_event_resealed_over_another_genesis(history: City) -> None:
    new = reseal(1, prev_hash="1" * 64, actor_label="别人")
    CaseEvent.objects.filter(seq=2).update(prev_hash=new)
    count, problem = verify_chain()
    assert (count, problem.seq) == (0, 1)


def test_every_event_after_an_edit_resealed_but_not_the_head(history: City) -> None:
    prev = reseal(5, data={"note": "改过的记录"})
    for seq in range(6, 10):
        prev = reseal(seq, prev_hash=prev)
    count, problem = verify_chain()
    assert count == 9 and "链尾" in problem.reason


def test_events_of_one_case_dropped(history: City) -> None:
    drop(4, 5, 6)
    count, problem = verify_chain()
    assert (count, problem.seq) == (3, 4) and "缺失" in problem.reason


def rewrite_head(seq: int, head_hash: str, *, with_key: bool = True) -> None:
    """Point the head at (seq, hash); `with_key`: as an insider who also holds the audit
    key would, resealing it (the checks after the seal's are then what catches it)."""
    seal = head_seal(seq, head_hash) if with_key else "f" * 64
    ChainHead.objects.filter(pk=1).update(seq=seq, hash=head_hash, seal=seal)


def test_the_head_rewritten_without_the_key_is_caught_by_its_seal(history: City) -> None:
    drop(7, 8, 9)
    ChainHead.objects.filter(pk=1).update(seq=6, hash=hash_of(6))
    count, problem = verify_chain()
    assert count == 6 and "链尾签名不符" in problem.reason


def test_events_of_the_last_case_dropped_and_the_head_rewritten(history: City) -> None:
    number = CaseEvent.objects.get(seq=7).case.number
    drop(7, 8, 9)
    rewrite_head(6, hash_of(6))
    count, problem = verify_chain()
    assert count == 6 and problem.case == number and "没有任何事件" in problem.reason
    with pytest.raises(CommandError, match=number):
        call_command("audit", "verify")


def test_last_event_dropped_and_the_head_rewritten(history: City) -> None:
    number = CaseEvent.objects.get(seq=9).case.number
    drop(9)
    rewrite_head(8, hash_of(8))
    count, problem = verify_chain()
    assert count == 8 and problem.case == number and "最后一个事件" in problem.reason


def test_deleted_event_and_the_rest_renumbered(history: City) -> None:
    drop(4)
    for seq in range(5, 10):
        CaseEvent.objects.filter(seq=seq).update(seq=seq - 1)
    ChainHead.objects.filter(pk=1).update(seq=8)
    count, problem = verify_chain()
    assert (count, problem.seq) == (3, 4)


def test_two_rows_swapped_whole(history: City) -> None:
    # Everything but the sequence numbers exchanged between events 6 and 7.
    six, seven = CaseEvent.objects.get(seq=6), CaseEvent.objects.get(seq=7)
    CaseEvent.objects.filter(pk=six.pk).update(seq=-1)
    CaseEvent.objects.filter(pk=seven.pk).update(seq=6)
    CaseEvent.objects.filter(pk=six.pk).update(seq=7)
    count, problem = verify_chain()
    assert (count, problem.seq) == (5, 6)


def test_two_events_swapped_and_resealed_in_their_new_order(history: City) -> None:
    # Swap events 5 and 6 of one case and reseal the chain after them, head included:
    # the hashes all agree, but the case no longer ends where its events say.
    five, six = CaseEvent.objects.get(seq=5), CaseEvent.objects.get(seq=6)
    CaseEvent.objects.filter(pk=five.pk).update(seq=-1)
    CaseEvent.objects.filter(pk=six.pk).update(seq=5)
    CaseEvent.objects.filter(pk=five.pk).update(seq=6)
    prev = hash_of(4)
    for seq in range(5, 10):
        prev = reseal(seq, prev_hash=prev)
    rewrite_head(9, prev)
    count, problem = verify_chain()
    assert count == 9 and problem is not None and problem.case == five.case.number
