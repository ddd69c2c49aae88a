"""Background work on cases, run by `linge worker` (registered in `CasesConfig.ready`):
the deadline sweep (临期/超期 reminders, marking overdue, auto-escalation), closing
cases left unrated, and removing photo files that no case took.

Every case write goes through `cases.workflow` with the SYSTEM actor; reminders are
outbox rows keyed per (case, deadline, level, recipient) and a unique `Reminder` row,
so a second sweep of the same case, by this copy or another, adds nothing.
"""

from __future__ import annotations

import logging
import os
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linge.cases import deadlines, holidays, owners, workflow
from linge.cases.messages import links, reminder_text
from linge.cases.models import Attachment, Case, Light, Reminder, State
from linge.notify.models import Channel, Outbox
from linge.notify.worker import Tally
from linge.people.roles import SYSTEM

log = logging.getLogger("linge.worker")

# A photo file is written before its case commits; one older than this that no case
# references was left by a refused submit or a killed process.
ORPHAN_AGE = timedelta(hours=6)
PHOTO_ROOT = "cases"


def remind(case: Case, level: str, deadline: deadlines.Current, now: datetime) -> int:
    """Tell the handler and the supervisor that a deadline turned yellow or red, once."""
    due, stage = deadline.due, deadline.stage
    if Reminder.objects.filter(case=case, stage=stage, due=due, level=level).exists():
        return 0  # told already: one indexed lookup per case on later sweeps
    prefix = f"due:{case.pk}:{stage}:{int(due.timestamp())}:{level}:"
    _resident_link, staff_link = links(case)
    rows = []
    for supervisor, users in ((False, owners.handlers(case)), (True, owners.supervisors(case))):
        message = reminder_text(case, level, due, stage, supervisor)
        for user_id in users:
            rows.append(Outbox(
                key=f"{prefix}{user_id}:inbox"[:96], subject=case.number, kind=f"due_{level}",
                link=staff_link, recipient_id=user_id, channel=Channel.INBOX,
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
    # Cases near their current deadline (a stage's or the overall one), and staged cases
    # whose overall deadline passed while their stage still runs (to flag 超期).
    near = deadlines.due_by_q(now + deadlines.LOOKAHEAD) | deadlines.overall_passed_q(now)
    for case in Case.objects.filter(near).select_related("category").order_by("pk").iterator(
        chunk_size=500
    ):
        deadline = deadlines.current(case)
        if deadline is None:
            continue
        level = deadline.light(now)
        try:
            if level != Light.GREEN and remind(case, level, deadline, now):
                tally.warned += 1
            _overdue(case, now, tally, level == Light.RED)
        except Exception as error:  # noqa: BLE001 - one bad case must not stop the sweep
            log.exception("sweep of case %s failed", case.number)
            tally.errors.append(f"{case.number}: {error}")


def _overdue(case: Case, now: datetime, tally: Tally, red: bool) -> None:
    # The 超期 flag (and the figures) follow the overall deadline; a stage gone red
    # (派遣时限, 处置时限) is reminded of above but is not yet the case being late.
    whole = deadlines.overall(case)
    if not case.overdue and whole is not None and whole.overdue(now):
        try:
            workflow.flag_overdue(case, SYSTEM, now=now)
            tally.flagged += 1
        except workflow.WorkflowError:
            case.refresh_from_db()
    if red and case.state == State.ACCEPTED and case.overdue and case.category.auto_escalate:
        try:
            workflow.escalate(case, SYSTEM, reason=_("网格超期未办结，系统自动上报镇街"), now=now)
            tally.escalated += 1
        except workflow.WorkflowError as error:
            log.info("auto-escalation of %s refused: %s", case.number, error)


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


def _walk(folder: str):
    try:
        folders, files = default_storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in files:
        yield f"{folder}/{name}"
    for sub in folders:
        yield from _walk(f"{folder}/{sub}")


def sweep_orphan_photos(tally: Tally, now: datetime | None = None) -> int:
    """Remove photo files older than ORPHAN_AGE that no attachment references."""
    now = now or timezone.now()
    cutoff = now - ORPHAN_AGE
    removed = 0
    for name in _walk(PHOTO_ROOT):
        try:
            if default_storage.get_modified_time(name) > cutoff:
                continue
        except (FileNotFoundError, OSError):
            continue
        thumb = "/thumbs/" in name
        column = "thumbnail" if thumb else "file"
        if Attachment.objects.filter(**{column: name}).exists():
            continue
        default_storage.delete(name)
        removed += 1
    if removed:
        log.info("removed %s photo files no case took (pid %s)", removed, os.getpid())
    return removed


_calendar_checked: set[tuple[int, date]] = set()


def check_calendar(tally: Tally, now: datetime | None = None) -> int | None:
    """Say in the log, once a day per process, when the holiday table lacks this year
    or (from October) next year: working-day deadlines would count Monday–Friday."""
    today = timezone.localdate(now or timezone.now())
    key = (os.getpid(), today)
    if key in _calendar_checked:
        return None
    _calendar_checked.add(key)
    return holidays.warn_if_missing(today)


# SQLite's planner statistics. PostgreSQL's autovacuum keeps its own; SQLite keeps none
# until someone runs ANALYZE, and a plan chosen on statistics from the day a table was
# small stays wrong as it grows (the rankings' month query read a whole scope's rollup
# rows through the unique index, not the month's, with statistics older than the rows).

STATISTICS_EVERY = timedelta(hours=1)
# Rows sampled per index: a few milliseconds on any size of table, and close enough for
# the planner to tell a selective index from one that is not.
STATISTICS_SAMPLE = 1000
_statistics_at: dict[int, datetime] = {}


def refresh_planner_statistics(tally: Tally, now: datetime | None = None) -> bool:
    """On SQLite, a sampled ANALYZE of every table, at most once an hour per worker
    process; whether it ran. Other open connections plan with the new statistics once
    they reconnect (every LINGE_DB_CONN_MAX_AGE seconds, 60 by default)."""
    if connection.vendor != "sqlite":
        return False
    now = now or timezone.now()
    last = _statistics_at.get(os.getpid())
    if last is not None and now - last < STATISTICS_EVERY:
        return False
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA analysis_limit = {STATISTICS_SAMPLE}")
        cursor.execute("ANALYZE")
    _statistics_at[os.getpid()] = now
    return True
