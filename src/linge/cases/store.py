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

from django.db import connection, transaction

from linge import prepared
from linge.areas.models import Area
from linge.cases.chain import event_hash, head_seal
from linge.cases.messages import links, notices_for, outbox_row
from linge.cases.models import (
    Attachment,
    Case,
    CaseEvent,
    ChainHead,
    DailyCounter,
    Supporter,
)
from linge.notify.messages import Notice
from linge.notify.models import Outbox
from linge.people.models import Unit, UnitKind
from linge.prepared import Prepared

# 10 characters from an alphabet without look-alikes (0/O, 1/I): easy to copy down.
TRACKING_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


_GRID_SETTING = Prepared(
    lambda grid: Unit.objects.filter(area_id=grid, kind=UnitKind.GRID_TEAM).order_by("pk")
    .values_list("pk", "area__parent_id", "area__parent__parent_id")[:1], -7_000_003)
_CHAIN_HEAD = Prepared(
    lambda: ChainHead.objects.select_for_update().filter(pk=1).values_list("seq", "hash")[:1])


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

    def grid_setting(self, grid_id: int) -> tuple[int, int, int]:
        """(village id, town id, grid team unit id) of a grid: what a new case is filed
        under, read in one query when the store has not seen the grid yet."""
        team = (grid_id, UnitKind.GRID_TEAM)
        village = self._parents.get(grid_id)
        town = self._parents.get(village) if village is not None else None
        if town is not None and team in self._units:
            return village, town, self._units[team]
        row = _GRID_SETTING.first(grid_id)
        if row is None:
            self.unit_id(grid_id, UnitKind.GRID_TEAM)  # raises the usual LookupError
        self._units[team], village, town = row
        self._parents[grid_id], self._parents[village] = village, town
        return village, town, self._units[team]

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

    def notices(self, case: Case, event: CaseEvent) -> list[Notice]:
        """Who the event tells what. It only reads, so a new case's are found before its
        transaction opens (the case must have its number: the texts carry it)."""
        return notices_for(case, event) if self.notify else []

    def next_number(self, day: date) -> str:
        """The day's next case number, in one statement that creates the day's counter
        or bumps it. The workflow draws it before the case's transaction, so that the
        statement is a transaction of its own: on PostgreSQL the day's counter row is
        locked for that one statement, not until the case commits; on SQLite, where one
        writer at a time holds the database, the case, its deadlines and its messages
        are composed before the writer's lock is taken (1.8 → 1.4 ms held per report),
        for one more short write. A number drawn for a case that then fails is skipped:
        numbers stay unique and in the order drawn, not gapless. Under an outer transaction (a
        visit that finds a case, tests) the row stays locked until that commits."""
        table = connection.ops.quote_name(DailyCounter._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (day, last) VALUES (%s, 1) ON CONFLICT (day) "
                f"DO UPDATE SET last = {table}.last + 1 RETURNING last",
                [connection.ops.adapt_datefield_value(day)],
            )
            (serial,) = cursor.fetchone()
        return format_number(day, serial)

    def create(self, case: Case) -> None:
        prepared.insert([case])

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

    def append_event(self, event: CaseEvent, case: Case,
                     notices: list[Notice] | None = None) -> CaseEvent:
        """Seal the event onto the chain, insert it and queue its messages (`notices`:
        found already by `notices`, or found here).

        Everything that only reads (who is told what) happens before the chain head is
        locked: the head row is the one lock every move in the city takes, so it is
        held for the inserts and the commit alone."""
        if notices is None:
            notices = self.notices(case, event)
        head = _CHAIN_HEAD.first()
        if head is None:
            ChainHead.objects.get_or_create(pk=1)
            head = ChainHead.objects.select_for_update().values_list("seq", "hash").get(pk=1)
        seal(event, case, head[0] + 1, head[1])
        case_links = links(case) if notices else None
        rows = [outbox_row(case, event, notice, case_links) for notice in notices]
        if connection.vendor == "postgresql":
            _seal_in_one_statement(event, rows)
            return event
        # SQLite runs in this process: a statement costs no round trip, and it has no
        # INSERT inside WITH.
        prepared.insert([event])
        with connection.cursor() as cursor:
            cursor.execute(_move_head_sql(), [event.seq, event.hash,
                                              head_seal(event.seq, event.hash)])
        prepared.insert(rows)
        return event


def _move_head_sql() -> str:
    q = connection.ops.quote_name
    return f"UPDATE {q(ChainHead._meta.db_table)} SET seq = %s, hash = %s, seal = %s WHERE id = 1"


def _seal_in_one_statement(event: CaseEvent, outbox: list[Outbox]) -> None:
    """PostgreSQL: insert the event and its outbox rows and move the chain head in one
    statement (data-modifying WITH parts always run in full). With the head read
    under FOR UPDATE just before, the head lock is held for two round trips and the
    commit, where the event, the head and the outbox took three more."""
    event_sql, params = prepared.insert_statement([event])
    parts = [f"ev AS ({event_sql} RETURNING id)"]
    if outbox:
        outbox_sql, outbox_params = prepared.insert_statement(outbox)
        parts.append(f"ob AS ({outbox_sql})")
        params += outbox_params
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH {', '.join(parts)} {_move_head_sql()} RETURNING (SELECT id FROM ev)",
            [*params, event.seq, event.hash, head_seal(event.seq, event.hash)],
        )
        (event.pk,) = cursor.fetchone()
    event._state.adding, event._state.db = False, connection.alias


def seal(event: CaseEvent, case: Case, seq: int, prev_hash: str) -> None:
    event.seq = seq
    event.prev_hash = prev_hash
    event.hash = event_hash(
        prev_hash=prev_hash, seq=seq, case_number=case.number, action=event.action,
        actor_id=event.actor_id, actor_label=event.actor_label, from_state=event.from_state,
        to_state=event.to_state, data=event.data, public=event.public, at=event.at,
        fields=event.fields,
    )

