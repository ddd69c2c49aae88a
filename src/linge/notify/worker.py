"""`linge worker`: delivers the outbox, sweeps deadlines, closes unrated cases.

Safe to run as several copies, and to kill at any moment:

- Outbox rows are *claimed* before they are sent: a claim writes a random token and a
  lease end on the row, by a conditional UPDATE that only succeeds on rows nobody
  holds (on PostgreSQL the candidates are first picked with
  ``SELECT … FOR UPDATE SKIP LOCKED`` so copies do not queue on each other; on SQLite
  writers are serialized and the conditional UPDATE alone decides).
- A row is marked sent only after the sender accepted it. A worker killed in between
  leaves the row claimed; when the lease runs out another copy takes it over and sends
  again with the same key, which the sender refuses to deliver twice.
- Every case write (marking overdue, escalating, closing) goes through
  ``cases.workflow`` with the SYSTEM actor; deadline reminders are outbox rows with a
  key per (case, deadline, level, recipient), inserted with ``ignore_conflicts``, so a
  second sweep of the same case adds nothing.
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
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from linge.cases import deadlines, workflow
from linge.cases.models import Case, CaseEvent, Light, State
from linge.notify.messages import in_site_language
from linge.notify.models import Channel, Outbox, Reminder, Status, WorkerRun
from linge.notify.senders import SendFailed, get_sender
from linge.people.models import Duty, Membership, Unit, UnitKind
from linge.people.scope import GRID_HANDS, SYSTEM

log = logging.getLogger("linge.worker")

BATCH = 100
MAX_ATTEMPTS = 8
BACKOFF_BASE = 30  # seconds; doubles with each attempt
BACKOFF_MAX = 3600
# Open states with a running clock, and which deadline each runs against.
SWEPT_STATES = (State.SUBMITTED, State.ACCEPTED, State.ESCALATED, State.DISPATCHED,
                State.VERIFYING)
# How far ahead the sweep looks for deadlines that may already be yellow: a work-clock
# budget's last 20% can stretch over a long holiday.
LOOKAHEAD = timedelta(days=12)


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


# Deadline sweep.

def _members(unit_ids: list[int], duties: set[str]) -> list[int]:
    return sorted(set(
        Membership.objects.filter(unit_id__in=unit_ids, duty__in=duties)
        .values_list("user_id", flat=True)
    ))


def _unit(area_id: int, kind: str) -> list[int]:
    return list(Unit.objects.filter(area_id=area_id, kind=kind).values_list("pk", flat=True))


def watchers(case: Case) -> tuple[list[int], list[int]]:
    """(who handles the case now, who supervises them) as user ids."""
    if case.state in (State.SUBMITTED, State.ACCEPTED):
        if case.assignee_id:
            handlers = [case.assignee_id]
        else:
            handlers = _members(_unit(case.grid_id, UnitKind.GRID_TEAM), GRID_HANDS)
        supervisors = _members(_unit(case.village_id, UnitKind.VILLAGE), {Duty.VILLAGE_STAFF})
    elif case.state in (State.ESCALATED, State.VERIFYING):
        platform = _unit(case.town_id, UnitKind.TOWN_PLATFORM)
        handlers = _members(platform, {Duty.DISPATCHER})
        supervisors = _members(platform, {Duty.LEADER})
    else:  # dispatched
        unit = [case.dispatched_unit_id] if case.dispatched_unit_id else []
        handlers = _members(unit, {Duty.HANDLER})
        supervisors = _members(unit, {Duty.LEADER}) + _members(
            _unit(case.town_id, UnitKind.TOWN_PLATFORM), {Duty.DISPATCHER}
        )
    return handlers, [s for s in supervisors if s not in handlers]


def current_deadline(case: Case) -> tuple[datetime | None, int, str, str]:
    """(due, budget seconds, clock, stage) of the deadline the case now runs against."""
    if case.state == State.SUBMITTED:
        unit, due, budget, stage = (case.category.accept_unit, case.accept_due,
                                    case.accept_budget, "accept")
    else:
        unit, due, budget, stage = (case.category.resolve_unit, case.resolve_due,
                                    case.resolve_budget, "resolve")
    clock = deadlines.budget(0, unit)[1] if unit else deadlines.WALL
    return due, budget, clock, stage


@in_site_language
def remind(case: Case, level: str, due: datetime, stage: str, now: datetime) -> int:
    """Tell the handler and the supervisor that a deadline turned yellow or red, once."""
    if Reminder.objects.filter(case=case, stage=stage, due=due, level=level).exists():
        return 0  # told already: one indexed lookup per case on later sweeps
    event = CaseEvent.objects.filter(case=case).order_by("-seq").first()
    if event is None:
        return 0
    handlers, supervisors = watchers(case)
    what = _("受理") if stage == "accept" else _("办结")
    if level == Light.YELLOW:
        text = _("案件 %(n)s「%(cat)s」%(what)s期限临近（%(due)s），请抓紧办理。")
    else:
        text = _("案件 %(n)s「%(cat)s」已超过%(what)s期限（%(due)s），请尽快办理。")
    values = {"n": case.number, "cat": case.category.name, "what": what,
              "due": timezone.localtime(due).strftime("%m-%d %H:%M")}
    prefix = f"due:{case.pk}:{stage}:{int(due.timestamp())}:{level}:"
    rows = []
    for role, users in (("handler", handlers), ("supervisor", supervisors)):
        message = text % values
        if role == "supervisor":
            message = _("【督促】") + message
        for user_id in users:
            rows.append(Outbox(
                key=f"{prefix}{user_id}:inbox"[:96],
                event=event, case=case, recipient_id=user_id, channel=Channel.INBOX,
                text=message[:300], created_at=now, next_attempt_at=now,
            ))
    try:
        with transaction.atomic():
            # The reminder row and its notices commit together; a second copy sweeping
            # the same case at the same moment fails on the unique reminder and adds nothing.
            Reminder.objects.create(case=case, stage=stage, due=due, level=level, at=now)
            Outbox.objects.bulk_create(rows)
    except IntegrityError:
        return 0
    return len(rows)


def sweep_deadlines(tally: Tally, now: datetime | None = None) -> None:
    now = now or timezone.now()
    horizon = now + LOOKAHEAD
    near = (
        Q(state=State.SUBMITTED, accept_due__lte=horizon)
        | Q(state__in=SWEPT_STATES[1:], resolve_due__lte=horizon)
    )
    for case in Case.objects.filter(near).select_related("category").order_by("pk").iterator(
        chunk_size=500
    ):
        due, budget, clock, stage = current_deadline(case)
        if due is None:
            continue
        level = deadlines.light(now, due, budget, clock)
        if level == Light.GREEN:
            continue
        try:
            if remind(case, level, due, stage, now):
                tally.warned += 1
            if level == Light.RED:
                _overdue(case, now, tally)
        except Exception as error:  # noqa: BLE001 - one bad case must not stop the sweep
            log.exception("sweep of case %s failed", case.number)
            tally.errors.append(f"{case.number}: {error}")


def _overdue(case: Case, now: datetime, tally: Tally) -> None:
    if not case.overdue:
        try:
            workflow.flag_overdue(case, SYSTEM, now=now)
            tally.flagged += 1
        except workflow.WorkflowError:
            case.refresh_from_db()
    if case.state == State.ACCEPTED and case.overdue and case.category.auto_escalate:
        try:
            workflow.escalate(case, SYSTEM, reason=_("网格超期未办结，系统自动上报镇街"), now=now)
            tally.escalated += 1
        except workflow.WorkflowError as error:
            log.info("auto-escalation of %s refused: %s", case.number, error)


# Auto-close.

def close_unrated(tally: Tally, now: datetime | None = None) -> None:
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.LINGE_AUTO_CLOSE_DAYS)
    ids = Case.objects.filter(state=State.RESOLVED, resolved_at__lte=cutoff).values_list(
        "pk", flat=True
    )
    for pk in list(ids[:1000]):
        case = Case.objects.get(pk=pk)
        try:
            workflow.auto_close(case, SYSTEM, now=now)
            tally.closed += 1
        except workflow.WorkflowError as error:  # rated meanwhile, or another copy closed it
            log.info("auto-close of %s refused: %s", case.number, error)


# One pass, and the loop.

def run_once(now: datetime | None = None) -> WorkerRun:
    run = WorkerRun.objects.create(
        pid=os.getpid(), host=socket.gethostname()[:64], started_at=timezone.now()
    )
    tally = Tally()
    steps: list[tuple[str, Callable[[], None]]] = [
        ("sweep", lambda: sweep_deadlines(tally, now)),
        ("close", lambda: close_unrated(tally, now)),
        # Last, so the reminders and the notices of the moves above go out in this pass.
        ("send", lambda: send_outbox(tally)),
    ]
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
