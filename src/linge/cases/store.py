"""Where the workflow writes: straight to the database, one transaction per move.

The workflow never touches the ORM for writes except through a store, so the demo
generator can run the very same moves through `cases.batch.BatchStore`, which keeps
rows in memory and writes them in bulk.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from datetime import date, datetime

from django.db import IntegrityError, transaction

from linge.areas.models import Area
from linge.cases.chain import event_hash
from linge.cases.messages import notices_for, outbox_row
from linge.cases.models import (
    Attachment,
    Case,
    CaseEvent,
    ChainHead,
    DailyCounter,
    Supporter,
)
from linge.notify.models import Outbox
from linge.people.models import Unit, UnitKind

# 10 characters from an alphabet without look-alikes (0/O, 1/I): easy to copy down.
TRACKING_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def format_number(day: date, serial: int) -> str:
    return f"{day:%Y%m%d}-{serial:06d}"


class Store:
    """Writes to the database as each move happens."""

    notify = True

    def __init__(self) -> None:
        self._units: dict[tuple[int, str], int] = {}
        self._parents: dict[int, int] = {}

    # Reads the workflow needs, cached for the life of the store.
    def parent_id(self, area_id: int) -> int:
        if area_id not in self._parents:
            self._parents[area_id] = Area.objects.values_list("parent_id", flat=True).get(
                pk=area_id
            )
        return self._parents[area_id]

    def unit_id(self, area_id: int, kind: str) -> int:
        key = (area_id, kind)
        if key not in self._units:
            unit = Unit.objects.filter(area_id=area_id, kind=kind).values_list("pk", flat=True)
            found = unit.first()
            if found is None:
                kind_label = UnitKind(kind).label
                raise LookupError(f"区域 {area_id} 没有{kind_label}")
            self._units[key] = found
        return self._units[key]

    # Writes.
    @contextlib.contextmanager
    def atomic(self) -> Iterator[None]:
        with transaction.atomic():
            yield

    def lock(self, case: Case) -> None:
        """Take the row lock and re-read the case, so two moves never interleave."""
        Case.objects.select_for_update().filter(pk=case.pk).values_list("pk").first()
        case.refresh_from_db()

    def undo(self, case: Case) -> None:
        """After a refused or failed move: forget in-memory changes."""
        if case.pk is not None:
            case.refresh_from_db()

    def new_tracking_code(self) -> str:
        return "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(10))

    def find_submitted(self, submit_key: str) -> Case | None:
        return Case.objects.filter(submit_key=submit_key).first()

    def next_number(self, day: date) -> str:
        counter = DailyCounter.objects.select_for_update().filter(day=day).first()
        if counter is None:
            try:
                with transaction.atomic():
                    counter = DailyCounter.objects.create(day=day, last=0)
            except IntegrityError:  # another writer made today's counter first
                counter = DailyCounter.objects.select_for_update().get(day=day)
        counter.last += 1
        counter.save(update_fields=["last"])
        return format_number(day, counter.last)

    def create(self, case: Case) -> None:
        case.save(force_insert=True)

    def save(self, case: Case) -> None:
        case.save()

    def add_supporter(self, case: Case, user_id: int, at: datetime) -> None:
        Supporter.objects.create(case=case, user_id=user_id, at=at)

    def is_supporter(self, case: Case, user_id: int) -> bool:
        return Supporter.objects.filter(case=case, user_id=user_id).exists()

    def supporter_ids(self, case: Case) -> list[int]:
        return list(Supporter.objects.filter(case=case).order_by("pk")
                    .values_list("user_id", flat=True))

    def add_attachments(self, attachments: list[Attachment]) -> None:
        Attachment.objects.bulk_create(attachments)

    def count_attachments(self, case: Case, kind: str) -> int:
        return Attachment.objects.filter(case=case, kind=kind).count()

    def append_event(self, event: CaseEvent, case: Case) -> CaseEvent:
        head, _ = ChainHead.objects.select_for_update().get_or_create(pk=1)
        seal(event, case, head.seq + 1, head.hash)
        event.save(force_insert=True)
        head.seq, head.hash = event.seq, event.hash
        head.save(update_fields=["seq", "hash"])
        return event

    def queue(self, case: Case, event: CaseEvent) -> None:
        if not self.notify:
            return
        notices = notices_for(case, event)
        Outbox.objects.bulk_create([outbox_row(case, event, notice) for notice in notices])


def seal(event: CaseEvent, case: Case, seq: int, prev_hash: str) -> None:
    event.seq = seq
    event.prev_hash = prev_hash
    event.hash = event_hash(
        prev_hash=prev_hash, seq=seq, case_number=case.number, action=event.action,
        actor_id=event.actor_id, actor_label=event.actor_label, from_state=event.from_state,
        to_state=event.to_state, data=event.data, public=event.public, at=event.at,
    )

