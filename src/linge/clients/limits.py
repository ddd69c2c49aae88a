"""Rate limits shared by every app process: fixed windows counted in the database.

`count(scope, who, limit)` adds one to the counter of (scope, who) in the current
window with a single INSERT … ON CONFLICT DO UPDATE … RETURNING (SQLite ≥ 3.35 and
PostgreSQL both), so two gunicorn processes never lose a count; past the limit it
raises `Throttled` with the seconds until the window ends (the Retry-After). The
identifier (an address, a phone, a key) is stored only as a keyed hash.

Why not django-ratelimit: its counters live in Django's cache, whose database
backend increments by reading and writing (two processes lose counts), and it gives
no time to wait. The table here is small: `linge worker` deletes the ended windows on
every pass (`sweep_ended`).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import connection

from linge.clients.models import Hit


@dataclass(frozen=True)
class Limit:
    scope: str
    count: int  # at most this many in a window
    seconds: int  # the window


class Throttled(Exception):
    """Over a limit: `retry_after` whole seconds until it opens again."""

    def __init__(self, retry_after: int, scope: str = "") -> None:
        self.retry_after = max(1, int(retry_after))
        self.scope = scope
        super().__init__(f"rate limit {scope}: retry after {self.retry_after} s")


def _key(scope: str, who: str) -> str:
    secret = (settings.SECRET_KEY + ":linge.limits").encode()
    return hmac.new(secret, f"{scope}\0{who}".encode(), hashlib.sha256).hexdigest()


_UPSERT = (
    'INSERT INTO {table} ("key", "slot", "count", "expires") VALUES {rows} '
    'ON CONFLICT ("key", "slot") DO UPDATE SET "count" = {table}."count" + 1 '
    'RETURNING "key", "count"'
)


def _increment(rows: list[tuple[str, int, int]]) -> dict[str, int]:
    """Add one to each (key, slot) counter in a single statement; the new counts by key."""
    table = connection.ops.quote_name(Hit._meta.db_table)
    sql = _UPSERT.format(table=table, rows=", ".join(["(%s, %s, 1, %s)"] * len(rows)))
    with connection.cursor() as cursor:
        cursor.execute(sql, [value for row in rows for value in row])
        return {key: int(n) for key, n in cursor.fetchall()}


def _counted(limits: list[tuple[Limit, str | None]], now: float) -> list[tuple[Limit, int, float]]:
    """Count every (limit, who) with a `who` in one statement (a report's two windows
    cost one round trip): (limit, its count in this window, the seconds to wait if over)."""
    counted = [(limit, _key(limit.scope, who), int(now // limit.seconds))
               for limit, who in limits if who]
    if not counted:
        return []
    # One row per (key, slot): the same row twice in one INSERT … ON CONFLICT is an
    # error on PostgreSQL, and counting it twice is not what was asked.
    rows = {(key, slot): (key, slot, (slot + 1) * limit.seconds) for limit, key, slot in counted}
    counts = _increment(list(rows.values()))
    return [(limit, counts[key], (slot + 1) * limit.seconds - now)
            for limit, key, slot in counted]


def _raise_if_over(results: list[tuple[Limit, int, float]]) -> None:
    over = [(wait, limit.scope) for limit, n, wait in results if n > limit.count]
    if over:
        wait, scope = max(over)
        raise Throttled(wait, scope)


def count(limit: Limit, who: str | None, now: float | None = None) -> int:
    """Count one for `who` under `limit`; raises Throttled past it. `who` None (no
    address known) is not counted. Returns the count in this window."""
    results = _counted([(limit, who)], time.time() if now is None else now)
    _raise_if_over(results)
    return results[0][1] if results else 0


def count_all(limits: list[tuple[Limit, str | None]], now: float | None = None) -> None:
    """Count every (limit, who) in one statement; raises Throttled with the longest wait
    of those over."""
    _raise_if_over(_counted(limits, time.time() if now is None else now))


def used(limit: Limit, who: str, now: float | None = None) -> int:
    """How many were counted for `who` in the current window (no count added)."""
    now = time.time() if now is None else now
    slot = int(now // limit.seconds)
    row = Hit.objects.filter(key=_key(limit.scope, who), slot=slot).values_list(
        "count", flat=True).first()
    return row or 0


def sweep(now: float | None = None) -> int:
    """Delete the counters of windows that have ended."""
    now = time.time() if now is None else now
    deleted, _rows = Hit.objects.filter(expires__lt=int(now)).delete()
    return deleted


def sweep_ended(tally: object, now: datetime | None = None) -> None:
    """`linge worker`'s job (registered by notify): the ended windows go in the background,
    not, one time in a thousand, inside a request that was only counting."""
    sweep(now.timestamp() if now is not None else None)


# The limits of the pages and interfaces, in one place (README, "Rate limits").
MINUTE, HOUR, DAY = 60, 3600, 86400
# Anonymous reports (no resident logged in) from one address.
ANONYMOUS_REPORTS = [Limit("report-address", 10, 10 * MINUTE), Limit("report-address-day", 50, DAY)]
# Reports carrying one phone number (a logged-in resident, or Open311's phone field).
PHONE_REPORTS = [Limit("report-phone", 5, HOUR), Limit("report-phone-day", 20, DAY)]
# Login attempts (workbench passwords, residents' codes) from one address.
LOGINS = [Limit("login-address", 30, 10 * MINUTE)]
# Tracking-code guesses on /track from one address.
TRACKING = [Limit("track-address", 10, MINUTE), Limit("track-address-day", 200, DAY)]


def message(retry_after: int) -> str:
    from django.utils.translation import gettext as _

    if retry_after < 120:
        return _("操作过于频繁，请 %(n)s 秒后再试") % {"n": retry_after}
    return _("操作过于频繁，请 %(n)s 分钟后再试") % {"n": (retry_after + 59) // 60}


def too_many(request, retry_after: int, text: str | None = None):
    """The page's answer past a limit: 429 with Retry-After and a Chinese message (JSON
    for the pages' scripts)."""
    from django.http import JsonResponse
    from django.shortcuts import render

    text = text or message(retry_after)
    if "application/json" in request.headers.get("Accept", ""):
        response = JsonResponse({"ok": False, "error": text}, status=429)
    else:
        response = render(request, "429.html", {"message": text}, status=429)
    response["Retry-After"] = str(retry_after)
    return response
