"""A store that runs workflow moves in memory and writes their rows in bulk.

The demo generator makes a year of history (up to a million cases) through the very
same workflow functions as the web pages; writing each move in its own transaction
would take hours. This store keeps a case, its events, supporters and attachments in
memory while the case's story is told; `flush()` hands the finished cases to a
`Writer`, which seals their events onto the hash chain (with `store.seal`, in the
order the workflow appended them, so the chain is exactly the one sealing at each
move would make) and inserts everything in one transaction per chunk. The chain head
is checked in that transaction, so a concurrent writer cannot be silently forked.

Outside a transaction (`linge demo`) the writer runs in a forked process, so the
stories of the next chunks are told on one core while the last ones are sealed and
written on the other; a few chunks at most wait between them (WAITING_CHUNKS), so
memory stays bounded. Inside a transaction (tests), on an in-memory database or on
a single core it writes in this process, on the same connection.

Notifications are not queued: the history is in the past and nobody is to be told.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import queue
import random
import sys
import threading
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from types import SimpleNamespace

from django.core.management.color import no_style
from django.db import connection, connections, transaction
from django.db.models import Max

from linge.cases.bulk import Table
from linge.cases.chain import head_seal
from linge.cases.models import (
    Attachment,
    Case,
    CaseEvent,
    ChainHead,
    DailyCounter,
    Supporter,
)
from linge.cases.store import TRACKING_ALPHABET, Store, format_number, seal

# SQLite page cache for the bulk load's own connection (negative: KiB): the indexes
# of a million cases do not fit the default 2 MiB, and every insert would reread them.
BULK_CACHE_KIB = 256 * 1024
# Chunks received by the writer process and not yet written, at most.
WAITING_CHUNKS = 3


class ChainMoved(RuntimeError):
    """Someone else appended events while the batch was being built."""


class WriterFailed(RuntimeError):
    """The writer process stopped with an error (its traceback is in the message)."""


@dataclass
class Chunk:
    """Finished stories as plain rows (see bulk.Table.rows): picklable, no models."""

    cases: list[tuple]
    events: list[tuple]  # seq, prev_hash and hash are filled in by Writer
    supporters: list[tuple]
    attachments: list[tuple]
    counters: dict[date, int]  # days whose case counter moved → the last number


class _Tables:
    """The four tables a chunk fills, built once (the models are ready by then)."""

    def __init__(self) -> None:
        self.cases = Table(Case, pk=True)
        self.events = Table(CaseEvent, pk=False)
        self.supporters = Table(Supporter, pk=False)
        self.attachments = Table(Attachment, pk=False)


_tables: _Tables | None = None


def tables() -> _Tables:
    global _tables
    if _tables is None:
        _tables = _Tables()
    return _tables


class BatchStore(Store):
    notify = False

    def __init__(
        self, rng: random.Random, chunk: int = 1000, *, parallel: bool | None = None
    ) -> None:
        """`parallel`: write in a forked process (None: on Linux with several cores).

        Call `finish()` at the end: it writes the rest and waits for the writer.
        """
        super().__init__()
        self.rng = rng
        self.chunk = chunk
        head = ChainHead.objects.filter(pk=1).first()
        self.start_seq, self.start_hash = (head.seq, head.hash) if head else (0, "0" * 64)
        # Events appended so far. Their hashes are computed by the writer; `hash` is the
        # chain's last hash once `finish()` has returned.
        self.seq, self.hash = self.start_seq, self.start_hash
        self.next_id = (Case.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
        self.counters = dict(DailyCounter.objects.values_list("day", "last"))
        self._changed_days: set[date] = set()
        self.cases: list[Case] = []
        self.events: list[CaseEvent] = []
        self.supporters: list[Supporter] = []
        self.attachments: list[Attachment] = []
        self.supported: set[tuple[int, int]] = set()
        self.attachment_counts: dict[tuple[int, str], int] = {}
        self.written = 0
        if parallel is None:
            parallel = (os.cpu_count() or 1) > 1 and sys.platform == "linux"
        # The writer process needs its own connection to the same database: not inside
        # a transaction (it could not see uncommitted rows), nor on an in-memory SQLite
        # database (each connection of another process would get an empty one).
        self.parallel = parallel and not connection.in_atomic_block and not (
            connection.vendor == "sqlite" and connection.is_in_memory_db()
        )
        self._writer = Writer(self.start_seq, self.start_hash, set(self.counters))
        self._process: _WriterProcess | None = None
        self._loading: contextlib.ExitStack | None = None  # bulk_load() in this process

    def prime(self, parents: dict[int, int], units: dict[tuple[int, str], int]) -> None:
        self._parents.update(parents)
        self._units.update(units)

    # Moves happen in memory: no locks, no transactions per move.
    def atomic(self) -> contextlib.AbstractContextManager[None]:
        return _NO_TRANSACTION  # reusable, and cheaper than a generator per move

    def lock(self, case: Case) -> None:
        pass

    def undo(self, case: Case) -> None:
        pass

    def new_tracking_code(self) -> str:
        # 10 characters of a 32-letter alphabet: 5 random bits each, from one draw.
        bits = self.rng.getrandbits(50)
        return "".join(TRACKING_ALPHABET[(bits >> shift) & 31] for shift in _SHIFTS)

    def find_submitted(self, submit_key: str) -> Case | None:
        return None

    def next_number(self, day: date) -> str:
        serial = self.counters[day] = self.counters.get(day, 0) + 1
        self._changed_days.add(day)
        return format_number(day, serial)

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

    def supporter_ids(self, case: Case) -> list[int]:
        # Stories are told whole within a chunk, so a case's supporters are all here.
        return [s.user_id for s in self.supporters if s.case_id == case.pk]

    def add_attachments(self, attachments: list[Attachment]) -> None:
        for attachment in attachments:
            key = (attachment.case.pk, attachment.kind)
            self.attachment_counts[key] = self.attachment_counts.get(key, 0) + 1
        self.attachments.extend(attachments)

    def count_attachments(self, case: Case, kind: str) -> int:
        return self.attachment_counts.get((case.pk, kind), 0)

    def append_event(self, event: CaseEvent, case: Case, notices=None) -> CaseEvent:
        # Sealed by the writer, in this order (nothing reads an event's hash before it
        # is written: the batch queues no notifications).
        self.seq += 1
        self.events.append(event)
        return event

    def maybe_flush(self) -> None:
        if len(self.cases) >= self.chunk:
            self.flush()

    def flush(self) -> None:
        """Hand every finished story to the writer (call between stories, not in one).

        In this process the chunk is written before flush returns; with a writer
        process it is written while the next stories are told (see `finish`).
        """
        if not self.cases and not self.events:
            return
        t = tables()
        chunk = Chunk(
            cases=t.cases.rows(self.cases),
            events=t.events.rows(self.events),
            supporters=t.supporters.rows(self.supporters),
            attachments=t.attachments.rows(self.attachments),
            counters={day: self.counters[day] for day in self._changed_days},
        )
        self.cases, self.events, self.supporters, self.attachments = [], [], [], []
        self._changed_days = set()
        self.supported.clear()
        self.attachment_counts.clear()
        if self._process is None and self.parallel and not connection.in_atomic_block:
            self._process = _WriterProcess(self._writer)
        if self._process is not None:
            self._process.send(chunk)
            return
        if self._loading is None:
            self._loading = contextlib.ExitStack()
            self._loading.enter_context(bulk_load())
        self._writer.write(chunk)
        self.written, self.hash = self._writer.cases, self._writer.head[1]

    def finish(self) -> None:
        """Flush, and wait until everything is written; raises the writer's error."""
        try:
            self.flush()
            if self._process is not None:
                process, self._process = self._process, None
                self.written, (seq, self.hash) = process.finish()
                if seq != self.seq:
                    raise WriterFailed(f"写入进程只写到事件 #{seq}，应为 #{self.seq}")
        finally:
            self._stop_loading()

    def abort(self) -> None:
        """Stop the writer process, if any, without waiting for what it has not written."""
        if self._process is not None:
            process, self._process = self._process, None
            process.stop()
        self._stop_loading()

    def _stop_loading(self) -> None:
        if self._loading is not None:
            loading, self._loading = self._loading, None
            loading.close()


_NO_TRANSACTION = contextlib.nullcontext()
_SHIFTS = tuple(range(45, -1, -5))
if len(TRACKING_ALPHABET) != 32:
    raise ImportError("BatchStore.new_tracking_code takes 5 random bits a letter")


class Writer:
    """Seals chunks' events onto the chain and writes each chunk in one transaction."""

    def __init__(self, seq: int, last_hash: str, days: set[date]) -> None:
        self.head = (seq, last_hash)  # what the chain head says after our last chunk
        self.days = days  # days that have a DailyCounter row
        self.cases = 0

    def write(self, chunk: Chunk) -> None:
        events, head = self._seal(chunk)
        t = tables()
        with transaction.atomic():
            row, _ = ChainHead.objects.select_for_update().get_or_create(pk=1)
            if (row.seq, row.hash) != self.head:
                raise ChainMoved("事件链在生成期间被其他进程写入，请在空闲时重新生成")
            t.cases.insert(chunk.cases)
            t.events.insert(events)
            t.supporters.insert(chunk.supporters)
            t.attachments.insert(chunk.attachments)
            _reset_sequences(Case)
            row.seq, row.hash = head
            row.seal = head_seal(*head)
            row.save(update_fields=["seq", "hash", "seal"])
            self._save_counters(chunk.counters)
        self.head = head
        self.cases += len(chunk.cases)

    def _seal(self, chunk: Chunk) -> tuple[list[list], tuple[int, str]]:
        """The chunk's event rows with seq, prev_hash and hash, chained on from the head.

        `store.seal` gets stand-ins with the rows' columns as attributes, so what it
        hashes is exactly what is inserted.
        """
        t = tables()
        case_names = t.cases.attnames
        cases = {}
        for values in chunk.cases:
            case = SimpleNamespace(**dict(zip(case_names, values, strict=True)))
            case.pk = case.id
            cases[case.pk] = case
        names = t.events.attnames
        i_seq, i_prev, i_hash = (t.events.position[n] for n in ("seq", "prev_hash", "hash"))
        i_case = t.events.position["case_id"]
        seq, last = self.head
        sealed = []
        for values in chunk.events:
            case = cases.get(values[i_case])
            if case is None:
                raise WriterFailed(f"事件的案件 {values[i_case]} 不在同一批中（故事未讲完就写入了）")
            event = SimpleNamespace(**dict(zip(names, values, strict=True)), case=case)
            seq += 1
            seal(event, case, seq, last)
            row = list(values)
            row[i_seq], row[i_prev], row[i_hash] = event.seq, event.prev_hash, event.hash
            last = event.hash
            sealed.append(row)
        return sealed, (seq, last)

    def _save_counters(self, counters: dict[date, int]) -> None:
        new = [DailyCounter(day=d, last=n) for d, n in counters.items() if d not in self.days]
        changed = [DailyCounter(day=d, last=n) for d, n in counters.items() if d in self.days]
        DailyCounter.objects.bulk_create(new, batch_size=2000)
        DailyCounter.objects.bulk_update(changed, ["last"], batch_size=500)
        self.days.update(counter.day for counter in new)


@contextlib.contextmanager
def bulk_load() -> Iterator[None]:
    """SQLite settings for a bulk load on this connection, restored afterwards.

    A bigger page cache, and synchronous=OFF: a power cut during the load may corrupt
    the database being generated (the demo is simply made again), never one in use,
    as only the generator's own connection changes, and only while it loads. Inside a
    transaction (tests) nothing is changed: SQLite ignores such pragmas there.
    """
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous")
        synchronous = cursor.fetchone()[0]
        cursor.execute("PRAGMA cache_size")
        cache_size = cursor.fetchone()[0]
        cursor.execute("PRAGMA synchronous = OFF")
        cursor.execute(f"PRAGMA cache_size = {-BULK_CACHE_KIB}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA synchronous = {int(synchronous)}")
            cursor.execute(f"PRAGMA cache_size = {int(cache_size)}")


class _WriterProcess:
    """A forked process running a Writer over chunks sent through a pipe.

    `send` blocks once WAITING_CHUNKS chunks wait to be written, so memory stays
    bounded. Errors come back as text, the exception itself when it pickles.
    """

    def __init__(self, writer: Writer) -> None:
        context = multiprocessing.get_context("fork")
        inbox_out, self.inbox = context.Pipe(duplex=False)
        self.outbox, outbox_in = context.Pipe(duplex=False)
        # The child must open its own database connection, not share ours.
        connections.close_all()
        self.process = context.Process(
            target=_serve, args=(writer, inbox_out, outbox_in, (self.inbox, self.outbox)),
            name="linge-batch-writer", daemon=True,
        )
        self.process.start()
        inbox_out.close()
        outbox_in.close()

    def send(self, chunk: Chunk) -> None:
        if self.outbox.poll():  # the writer only speaks early when it failed
            self._raise(self._result())
        try:
            self.inbox.send(chunk)
        except (BrokenPipeError, EOFError, OSError):
            self._raise(self._result())

    def finish(self) -> tuple[int, tuple[int, str]]:
        """Wait for the writer; (cases written, (seq, hash) of the chain head)."""
        with contextlib.suppress(BrokenPipeError, OSError):
            self.inbox.send(None)
        message = self._result()
        self.process.join()
        if message[0] != "done":
            self._raise(message)
        return message[1], message[2]

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.terminate()
        self.process.join()

    def _result(self) -> tuple:
        try:
            return self.outbox.recv()
        except EOFError:
            self.process.join()
            return ("error", None, f"写入进程意外退出（退出码 {self.process.exitcode}）")

    def _raise(self, message: tuple) -> None:
        self.stop()
        _kind, error, text = message
        if isinstance(error, BaseException):
            raise error from WriterFailed(text)
        raise WriterFailed(text)


def _serve(writer: Writer, inbox, outbox, parent_ends) -> None:
    for end in parent_ends:
        end.close()
    # A thread takes chunks off the pipe while the main thread writes, so the teller
    # is not held up by a slow chunk (a few chunks wait at most: memory stays bounded).
    waiting: queue.Queue = queue.Queue(maxsize=WAITING_CHUNKS)

    def receive() -> None:
        try:
            while True:
                chunk = inbox.recv()
                waiting.put(chunk)
                if chunk is None:
                    return
        except BaseException as error:  # the teller went away: stop the writer
            waiting.put(error)

    threading.Thread(target=receive, name="linge-batch-receive", daemon=True).start()
    try:
        with bulk_load():
            while (chunk := waiting.get()) is not None:
                if isinstance(chunk, BaseException):
                    raise chunk
                writer.write(chunk)
        outbox.send(("done", writer.cases, writer.head))
    except BaseException as error:
        text = traceback.format_exc()
        try:
            pickle.dumps(error)
        except Exception:
            error = None
        outbox.send(("error", error, text))
    finally:
        connections.close_all()


def _reset_sequences(*models) -> None:
    """Cases were inserted with explicit ids: move PostgreSQL's id sequence past them."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(models))
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
