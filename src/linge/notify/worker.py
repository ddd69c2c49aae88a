"""`linge worker`: runs the registered jobs of the features (the case deadline sweep,
auto-close, …), then delivers the outbox.

Safe to run as several copies, and to kill at any moment:

- Outbox rows are *claimed* before they are sent: a claim writes a random token and a
  lease end on the row, by a conditional UPDATE that only succeeds on rows nobody
  holds (on PostgreSQL the candidates are first picked with
  ``SELECT … FOR UPDATE SKIP LOCKED`` so copies do not queue on each other; on SQLite
  writers are serialized and the conditional UPDATE alone decides).
- A row is marked sent only after the sender accepted it. A worker killed in between
  leaves the row claimed; when the lease runs out another copy takes it over and sends
  again with the same key, which the sender refuses to deliver twice.
- The features' jobs (`register`) are written to be safe under several copies too;
  `cases.jobs` says how.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from linge.notify.models import Channel, Outbox, Status, WorkerRun
from linge.notify.senders import SendFailed, get_sender

log = logging.getLogger("linge.worker")

BATCH = 100
MAX_ATTEMPTS = 8
BACKOFF_BASE = 30  # seconds; doubles with each attempt
BACKOFF_MAX = 3600


@dataclass
class Tally:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    warned: int = 0
    flagged: int = 0
    escalated: int = 0
    closed: int = 0
    errors: list[str] = field(default_factory=list)

    def total(self) -> int:
        return self.sent + self.retried + self.failed + self.warned + self.flagged + \
            self.escalated + self.closed


def lease_seconds() -> int:
    return settings.LINGE_WORKER_LEASE


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(BACKOFF_BASE * 2 ** max(attempts - 1, 0), BACKOFF_MAX))


# Outbox delivery.

def _due_rows(now: datetime) -> Q:
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    ready = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    return Q(status=Status.PENDING) & ready & free


def claim(limit: int = BATCH, now: datetime | None = None) -> tuple[str, list[Outbox]]:
    """Claim up to `limit` deliverable rows for this worker; returns (token, rows)."""
    now = now or timezone.now()
    token = secrets.token_hex(16)
    until = now + timedelta(seconds=lease_seconds())
    with transaction.atomic():
        candidates = Outbox.objects.filter(_due_rows(now)).order_by("pk")
        if connection.vendor == "postgresql":
            candidates = candidates.select_for_update(skip_locked=True)
        ids = list(candidates.values_list("pk", flat=True)[:limit])
        if not ids:
            return token, []
        # Conditional: a row another copy claimed meanwhile no longer matches.
        Outbox.objects.filter(_due_rows(now), pk__in=ids).update(
            claim_token=token, lease_until=until
        )
    return token, list(Outbox.objects.filter(claim_token=token, status=Status.PENDING)
                       .order_by("pk"))


def _finish(row: Outbox, token: str, **values) -> bool:
    """Write the outcome only if this worker still holds the row."""
    updated = Outbox.objects.filter(pk=row.pk, claim_token=token, status=Status.PENDING).update(
        claim_token="", lease_until=None, **values
    )
    return updated == 1


def deliver(row: Outbox, token: str, sender, now: datetime, tally: Tally) -> None:
    try:
        if row.channel == Channel.SMS:
            if not row.phone:
                raise SendFailed(_("没有手机号"))
            sender.send(row.phone, row.text, row.key)  # False: delivered before; fine
    except Exception as error:  # noqa: BLE001 - any sender failure is retried later
        attempts = row.attempts + 1
        final = attempts >= MAX_ATTEMPTS
        _finish(
            row, token, attempts=attempts, last_error=str(error)[:300],
            status=Status.FAILED if final else Status.PENDING,
            next_attempt_at=now + backoff(attempts),
        )
        if final:
            tally.failed += 1
            log.error("outbox %s failed for good: %s", row.key, error)
        else:
            tally.retried += 1
            log.warning("outbox %s: attempt %s failed: %s", row.key, attempts, error)
        return
    if _finish(row, token, status=Status.SENT, sent_at=timezone.now(), attempts=row.attempts + 1):
        tally.sent += 1


def send_outbox(tally: Tally, *, limit: int = BATCH, max_batches: int = 50,
                now: Callable[[], datetime] = timezone.now) -> None:
    sender = get_sender()
    for _batch in range(max_batches):
        token, rows = claim(limit, now())
        if not rows:
            return
        # Stop well before the lease runs out: rows left over are taken again after it,
        # rather than sent by this copy while another already holds them.
        stop_at = time.monotonic() + lease_seconds() * 0.8
        for row in rows:
            if time.monotonic() > stop_at:
                break
            deliver(row, token, sender, now(), tally)


# Jobs of the features (cases, insights) run before the outbox is sent; they register
# here so that notify knows nothing of them.

Job = Callable[[Tally, "datetime | None"], object]
JOBS: dict[str, tuple[int, Job]] = {}


def register(name: str, job: Job, order: int = 50) -> None:
    JOBS[name] = (order, job)


# One pass, and the loop.

def run_once(now: datetime | None = None) -> WorkerRun:
    run = WorkerRun.objects.create(
        pid=os.getpid(), host=socket.gethostname()[:64], started_at=timezone.now()
    )
    tally = Tally()
    jobs = sorted(JOBS.items(), key=lambda item: item[1][0])
    steps: list[tuple[str, Callable[[], object]]] = [
        (name, lambda job=job: job(tally, now)) for name, (_order, job) in jobs
    ]
    # Last, so the reminders and the notices of the jobs above go out in this pass.
    steps.append(("send", lambda: send_outbox(tally)))
    for name, step in steps:
        try:
            step()
        except Exception as error:  # noqa: BLE001 - record it, carry on with the next step
            log.exception("worker step %s failed", name)
            tally.errors.append(f"{name}: {error}")
    WorkerRun.objects.filter(pk=run.pk).update(
        finished_at=timezone.now(), sent=tally.sent, retried=tally.retried, failed=tally.failed,
        warned=tally.warned, flagged=tally.flagged, escalated=tally.escalated,
        closed=tally.closed, error="\n".join(tally.errors)[:5000],
    )
    run.refresh_from_db()
    return run


def run_forever(interval: float, stop: Callable[[], bool] = lambda: False) -> None:
    while not stop():
        run = run_once()
        log.info("worker pass: sent %s, retried %s, failed %s, warned %s, flagged %s, "
                 "escalated %s, closed %s", run.sent, run.retried, run.failed, run.warned,
                 run.flagged, run.escalated, run.closed)
        waited = 0.0
        while waited < interval and not stop():
            time.sleep(min(0.5, interval))
            waited += 0.5
