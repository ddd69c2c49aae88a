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
import hmac
import json
import operator
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
    fields: dict | None = None,
) -> str:
    """sha256 of "<previous hash>|<canonical JSON of the content>". `fields` (what the
    move set on the case) joins the content when there are any; an event written before
    events carried them hashes as it always did."""
    content = [
        seq, case_number, action, actor_id, actor_label, from_state, to_state,
        data, public, canonical_time(at),
    ]
    if fields:
        content.append(fields)
    body = _encode(content)
    return hashlib.sha256(f"{prev_hash}|{body}".encode()).hexdigest()


# The columns of a case that its events rebuild: everything but its id, its number (in
# every event's hash already) and the tracking code's digest (rehashed when the way it
# is kept changes; the code itself never does).
SEALED = (
    "source", "category_id", "description", "reporter_id", "reporter_phone", "submit_key",
    "lon", "lat", "address", "grid_id", "village_id", "town_id", "owner_unit_id",
    "dispatched_unit_id", "lane_id", "assignee_id", "state", "resume_state", "rework_state",
    "merged_into_id", "created_at", "accept_due", "resolve_due", "required_by",
    "accept_budget", "resolve_budget", "accept_left", "resolve_left", "accepted_at",
    "resolved_at", "closed_at", "updated_at", "escalated", "overdue", "rework_count",
    "supervised", "extension_requested", "extension_amount", "rating", "rating_comment",
    "support_count", "reply",
)
PHOTOS = "+photos"  # in an event's fields: [kind, sha256] of each photo the move attached


FLOATS = {"lon", "lat"}


def _value(name: str, value):
    if isinstance(value, datetime):
        return canonical_time(value)
    if name in FLOATS and value is not None:
        # As text: a JSON number may come back from a database written another way.
        return repr(float(value))
    return value


def snapshot(case) -> dict:
    """The sealed columns of a case (a model or a row's stand-in) as JSON values."""
    return {name: _value(name, getattr(case, name)) for name in SEALED}


_sealed_values = operator.attrgetter(*SEALED)


def raw(case) -> tuple:
    """The sealed columns as they are, unconverted: cheap to take before every move."""
    return _sealed_values(case)


def changes(before: tuple, case) -> dict:
    """The sealed columns the move changed (`before` from `raw`), as JSON values. Only
    those are converted: a move touches a few of the 42 columns, and every generated
    demo case makes several moves."""
    return {name: _value(name, new)
            for name, old, new in zip(SEALED, before, _sealed_values(case), strict=True)
            if old != new}


# The chain head is sealed with a key that is not in the database.

def audit_key() -> bytes:
    from django.conf import settings

    key = getattr(settings, "LINGE_AUDIT_KEY", "") or f"{settings.SECRET_KEY}:linge.audit"
    return hashlib.sha256(key.encode()).digest()


def head_seal(seq: int, head_hash: str) -> str:
    """HMAC-SHA256 of "<seq>:<hash>" with the audit key: whoever can write the database
    but does not hold the key cannot seal a rewritten history."""
    return hmac.new(audit_key(), f"{seq}:{head_hash}".encode(), hashlib.sha256).hexdigest()


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
        "data", "public", "at", "prev_hash", "hash", "fields",
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


@dataclass(frozen=True)
class Anchor:
    """The chain head at a moment, written outside the database (`linge audit anchor`)."""

    seq: int
    hash: str
    seal: str
    at: str

    def to_json(self) -> str:
        return json.dumps({"seq": self.seq, "hash": self.hash, "seal": self.seal, "at": self.at},
                          ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Anchor:
        data = json.loads(text)
        return cls(int(data["seq"]), str(data["hash"]), str(data["seal"]), str(data["at"]))


def current_anchor() -> Anchor:
    from django.utils import timezone

    from linge.cases.models import ChainHead

    head = ChainHead.objects.filter(pk=1).first()
    seq, last = (head.seq, head.hash) if head else (0, GENESIS)
    return Anchor(seq, last, head_seal(seq, last), timezone.now().isoformat(timespec="seconds"))


@dataclass(frozen=True)
class Verdict:
    count: int  # events checked
    problem: Problem | None
    legacy_cases: int = 0  # cases whose first event predates sealed fields: state checked only


def verify_chain(batch_size: int = 5000, anchor: Anchor | None = None) -> tuple[int, Problem | None]:
    """Walk the whole chain in order; return (events checked, first problem or None)."""
    verdict = verify(batch_size, anchor)
    return verdict.count, verdict.problem


def verify(batch_size: int = 5000, anchor: Anchor | None = None) -> Verdict:
    """The chain, its sealed head, an earlier anchor if given, and every case rebuilt
    from its events against its row."""
    from linge.cases.models import ChainHead

    if anchor is not None and not hmac.compare_digest(anchor.seal,
                                                      head_seal(anchor.seq, anchor.hash)):
        return Verdict(0, Problem(anchor.seq, "锚点文件的签名不符（锚点被改动，或审计密钥不同）"))
    expected_seq = 1
    prev = GENESIS
    count = 0
    sealed_since = 0  # the first event that carried fields: every later one must too
    for row in _rows(batch_size):
        seq, number, action, actor_id, label, from_s, to_s, data, public, at, prev_h, h, fields = row
        if seq != expected_seq:
            return Verdict(count, Problem(expected_seq, f"缺失（下一个事件是 #{seq}）"))
        if prev_h != prev:
            return Verdict(count, Problem(seq, "前序哈希不符（事件被删除、插入或调换了顺序）"))
        recomputed = event_hash(
            prev_hash=prev, seq=seq, case_number=number, action=action, actor_id=actor_id,
            actor_label=label, from_state=from_s, to_state=to_s, data=data, public=public, at=at,
            fields=fields,
        )
        if recomputed != h:
            return Verdict(count, Problem(seq, "内容与哈希不符（事件被修改）"))
        if fields and not sealed_since:
            sealed_since = seq
        elif sealed_since and not fields:
            return Verdict(count, Problem(seq, "没有记录案件字段，而此前的事件都有（事件被改写）"))
        if anchor is not None and seq == anchor.seq and h != anchor.hash:
            return Verdict(count, Problem(seq, f"与 {anchor.at} 的锚点记录的哈希不符（历史被改写）"))
        prev = h
        expected_seq += 1
        count += 1
    if anchor is not None and anchor.seq > count:
        return Verdict(count, Problem(count + 1, f"事件链只有 {count} 个事件，{anchor.at} 的锚点已记到 "
                                                 f"#{anchor.seq}（事件被删除）"))
    head = ChainHead.objects.filter(pk=1).first()
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
    if head_seq != count or head_hash != prev:
        return Verdict(count, Problem(count + 1, f"链尾不符：记录的最后事件为 #{head_seq}，实际为 #{count}"))
    if count and not hmac.compare_digest(head.seal or "", head_seal(head_seq, head_hash)):
        return Verdict(count, Problem(count, "链尾签名不符（事件链被重算改写，或审计密钥不对）"))
    problem = _case_problem()
    if problem is not None:
        return Verdict(count, problem)
    problem, legacy = _replay_problem(batch_size)
    return Verdict(count, problem, legacy)


def _replay_problem(batch_size: int) -> tuple[Problem | None, int]:
    """Rebuild every case from the fields its events recorded and compare with its row
    (and its photos with the photos its events attached). A case whose submit event
    predates recorded fields is checked on the fields its later events set, and counted."""
    from collections import defaultdict

    from linge.cases.models import Attachment, Case, CaseEvent

    legacy = 0
    last_pk = 0
    while True:
        cases = list(Case.objects.filter(pk__gt=last_pk).order_by("pk")[:batch_size])
        if not cases:
            return None, legacy
        ids = [case.pk for case in cases]
        rebuilt: dict[int, dict] = defaultdict(dict)
        photos: dict[int, list] = defaultdict(list)
        whole: set[int] = set()
        events = CaseEvent.objects.filter(case_id__in=ids).order_by("case_id", "seq")
        for case_id, action, fields in events.values_list("case_id", "action", "fields"):
            if action == "submit" and fields:
                whole.add(case_id)
            for name, value in (fields or {}).items():
                if name == PHOTOS:
                    photos[case_id].extend(tuple(item) for item in value)
                else:
                    rebuilt[case_id][name] = value
        attached: dict[int, list] = defaultdict(list)
        for case_id, kind, sha in Attachment.objects.filter(case_id__in=ids).values_list(
                "case_id", "kind", "sha256"):
            attached[case_id].append((kind, sha))
        for case in cases:
            row = snapshot(case)
            for name, value in rebuilt[case.pk].items():
                if row.get(name) != value:
                    return Problem(0, f"{name} 为 {row.get(name)!r}，按事件应为 {value!r}"
                                      "（案件记录被直接修改）", case=case.number), legacy
            if case.pk not in whole:
                legacy += 1
                continue
            missing = [name for name in SEALED if name not in rebuilt[case.pk]]
            if missing:
                return Problem(0, f"事件未记录 {', '.join(missing)}", case=case.number), legacy
            if sorted(attached[case.pk]) != sorted(photos[case.pk]):
                return Problem(0, "照片与事件记录的不符（照片被替换、增加或删除）",
                               case=case.number), legacy
        last_pk = cases[-1].pk


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
