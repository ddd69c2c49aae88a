"""The hash chain over case events, and its verification (`linge audit verify`).

Every event's hash covers its own content and the hash of the event before it, so
editing, deleting or reordering any event breaks the chain from that point on. The
chain head row records the last sequence number and hash, so a deleted tail is
caught as well. Each event is recomputed from the previous event's own hash, never from
its stored `prev_hash` column alone: an edited event resealed with a fresh hash, and the
next row's `prev_hash` patched to match, still breaks the next event's hash. Last, every
case must have events and be in the state its last event left it in, which catches a
case whose events were dropped even when the head row was rewritten to match.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

GENESIS = "0" * 64
# One encoder for every event: json.dumps would build a new one per call.
_encode = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode


def canonical_time(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def event_hash(
    *,
    prev_hash: str,
    seq: int,
    case_number: str,
    action: str,
    actor_id: int | None,
    actor_label: str,
    from_state: str,
    to_state: str,
    data: dict,
    public: bool,
    at: datetime,
) -> str:
    body = _encode([
        seq, case_number, action, actor_id, actor_label, from_state, to_state,
        data, public, canonical_time(at),
    ])
    return hashlib.sha256(f"{prev_hash}|{body}".encode()).hexdigest()


@dataclass(frozen=True)
class Problem:
    seq: int
    reason: str
    case: str = ""  # the case number, for a problem found on a case rather than an event

    def __str__(self) -> str:
        if self.case:
            return f"案件 {self.case}: {self.reason}"
        return f"事件 #{self.seq}: {self.reason}"


def _rows(batch_size: int) -> Iterator[tuple]:
    from linge.cases.models import CaseEvent

    last = 0
    fields = (
        "seq", "case__number", "action", "actor_id", "actor_label", "from_state", "to_state",
        "data", "public", "at", "prev_hash", "hash",
    )
    while True:
        batch = list(
            CaseEvent.objects.filter(seq__gt=last).order_by("seq").values_list(*fields)[
                :batch_size
            ]
        )
        if not batch:
            return
        yield from batch
        last = batch[-1][0]


def verify_chain(batch_size: int = 5000) -> tuple[int, Problem | None]:
    """Walk the whole chain in order; return (events checked, first problem or None)."""
    from linge.cases.models import ChainHead

    expected_seq = 1
    prev = GENESIS
    count = 0
    for row in _rows(batch_size):
        seq, number, action, actor_id, label, from_s, to_s, data, public, at, prev_h, h = row
        if seq != expected_seq:
            return count, Problem(expected_seq, f"缺失（下一个事件是 #{seq}）")
        if prev_h != prev:
            return count, Problem(seq, "前序哈希不符（事件被删除、插入或调换了顺序）")
        recomputed = event_hash(
            prev_hash=prev, seq=seq, case_number=number, action=action, actor_id=actor_id,
            actor_label=label, from_state=from_s, to_state=to_s, data=data, public=public, at=at,
        )
        if recomputed != h:
            return count, Problem(seq, "内容与哈希不符（事件被修改）")
        prev = h
        expected_seq += 1
        count += 1
    head = ChainHead.objects.filter(pk=1).first()
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
    if head_seq != count or head_hash != prev:
        return count, Problem(count + 1, f"链尾不符：记录的最后事件为 #{head_seq}，实际为 #{count}")
    return count, _case_problem()


def _case_problem() -> Problem | None:
    """A case without events, or not in the state its last event left it in."""
    from django.db.models import F, OuterRef, Q, Subquery

    from linge.cases.models import Case, CaseEvent

    last = CaseEvent.objects.filter(case=OuterRef("pk")).order_by("-seq").values("to_state")[:1]
    found = (
        Case.objects.annotate(last_state=Subquery(last))
        .filter(Q(last_state__isnull=True) | ~Q(state=F("last_state")))
        .order_by("pk").values_list("number", "state", "last_state").first()
    )
    if found is None:
        return None
    number, state, last_state = found
    if last_state is None:
        return Problem(0, "没有任何事件（事件被删除）", case=number)
    return Problem(0, f"状态为 {state}，最后一个事件却停在 {last_state}（事件被删除）", case=number)
