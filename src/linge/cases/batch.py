"""A store that runs workflow moves in memory and writes their rows in bulk.

The demo generator makes a year of history (up to a million cases) through the very
same workflow functions as the web pages; writing each move in its own transaction
would take hours. This store keeps a case, its events, supporters and attachments in
memory while the case's story is told, then `flush()` inserts finished cases in bulk.
The chain head is checked at flush, so a concurrent writer cannot be silently forked.

Notifications are not queued: the history is in the past and nobody is to be told.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator
from datetime import date

from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Max

from linge.cases.bulk import insert
from linge.cases.models import (
    Attachment,
    Case,
    CaseEvent,
    ChainHead,
    DailyCounter,
    Supporter,
)
from linge.cases.store import TRACKING_ALPHABET, Store, format_number, seal


class ChainMoved(RuntimeError):
    """Someone else appended events while the batch was being built."""


class BatchStore(Store):
    notify = False

    def __init__(self, rng: random.Random, chunk: int = 5000) -> None:
        super().__init__()
        self.rng = rng
        self.chunk = chunk
        head = ChainHead.objects.filter(pk=1).first()
        self.start_seq, self.start_hash = (head.seq, head.hash) if head else (0, "0" * 64)
        self.seq, self.hash = self.start_seq, self.start_hash
        self.next_id = (Case.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
        self.counters = dict(DailyCounter.objects.values_list("day", "last"))
        self.cases: list[Case] = []
        self.events: list[CaseEvent] = []
        self.supporters: list[Supporter] = []
        self.attachments: list[Attachment] = []
        self.supported: set[tuple[int, int]] = set()
        self.attachment_counts: dict[tuple[int, str], int] = {}
        self.written = 0

    def prime(self, parents: dict[int, int], units: dict[tuple[int, str], int]) -> None:
        self._parents.update(parents)
        self._units.update(units)

    # Moves happen in memory: no locks, no transactions per move.
    @contextlib.contextmanager
    def atomic(self) -> Iterator[None]:
        yield

    def lock(self, case: Case) -> None:
        pass

    def undo(self, case: Case) -> None:
        pass

    def new_tracking_code(self) -> str:
        return "".join(self.rng.choice(TRACKING_ALPHABET) for _ in range(10))

    def find_submitted(self, submit_key: str) -> Case | None:
        return None

    def next_number(self, day: date) -> str:
        self.counters[day] = self.counters.get(day, 0) + 1
        return format_number(day, self.counters[day])

    def create(self, case: Case) -> None:
        case.pk = self.next_id
        self.next_id += 1
        self.cases.append(case)

    def save(self, case: Case) -> None:
        pass  # the object in self.cases is the one being changed

    def add_supporter(self, case: Case, user_id: int, at) -> None:
        self.supported.add((case.pk, user_id))
        self.supporters.append(Supporter(case_id=case.pk, user_id=user_id, at=at))

    def is_supporter(self, case: Case, user_id: int) -> bool:
        return (case.pk, user_id) in self.supported

    def add_attachments(self, attachments: list[Attachment]) -> None:
        for attachment in attachments:
            key = (attachment.case.pk, attachment.kind)
            self.attachment_counts[key] = self.attachment_counts.get(key, 0) + 1
        self.attachments.extend(attachments)

    def count_attachments(self, case: Case, kind: str) -> int:
        return self.attachment_counts.get((case.pk, kind), 0)

    def append_event(self, event: CaseEvent, case: Case) -> CaseEvent:
        seal(event, case, self.seq + 1, self.hash)
        self.seq, self.hash = event.seq, event.hash
        self.events.append(event)
        return event

    def queue(self, case: Case, event: CaseEvent) -> None:
        pass

    def maybe_flush(self) -> None:
        if len(self.cases) >= self.chunk:
            self.flush()

    def flush(self) -> None:
        """Write everything made so far, and move the chain head, in one transaction."""
        if not self.cases and not self.events:
            return
        with transaction.atomic():
            head, _ = ChainHead.objects.select_for_update().get_or_create(pk=1)
            if (head.seq, head.hash) != (self.start_seq, self.start_hash):
                raise ChainMoved("事件链在生成期间被其他进程写入，请在空闲时重新生成")
            insert(Case, self.cases)
            for event in self.events:
                event.case_id = event.case.pk
            insert(CaseEvent, self.events)
            insert(Supporter, self.supporters)
            for attachment in self.attachments:
                attachment.case_id = attachment.case.pk
            insert(Attachment, self.attachments)
            _reset_sequences(Case)
            head.seq, head.hash = self.seq, self.hash
            head.save(update_fields=["seq", "hash"])
            self._save_counters()
        self.start_seq, self.start_hash = self.seq, self.hash
        self.written += len(self.cases)
        self.cases, self.events, self.supporters, self.attachments = [], [], [], []
        self.supported.clear()
        self.attachment_counts.clear()

    def _save_counters(self) -> None:
        existing = set(DailyCounter.objects.values_list("day", flat=True))
        DailyCounter.objects.bulk_create(
            [DailyCounter(day=d, last=n) for d, n in self.counters.items() if d not in existing],
            batch_size=2000,
        )
        changed = [DailyCounter(day=d, last=n) for d, n in self.counters.items() if d in existing]
        DailyCounter.objects.bulk_update(changed, ["last"], batch_size=500)


def _reset_sequences(*models) -> None:
    """Cases were inserted with explicit ids: move PostgreSQL's id sequence past them."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(models))
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
