"""Deadlines on the Chinese working calendar, and the traffic light they drive.

A time budget is a number of seconds on one of two clocks:

- ``"wall"``: plain elapsed time (紧急时 clock hours, 自然日 calendar days);
- ``"work"``: only time inside the working periods of working days counts
  (工作时 working hours, 工作日 working days). Working days follow the holiday table
  (`CalendarDay`, edited in the admin, seeded from ``chinese_calendar``): public
  holidays are off, make-up working days (调休) are on; a year the table does not know
  counts Monday–Friday and is logged.

``WorkCalendar.add`` turns a start and a budget into a deadline; ``between`` measures
how much of a clock lies between two instants, so the time left and the traffic light
can be computed, and a suspended case can keep the seconds it had left.

Internally instants are integer microseconds since the Unix epoch: exact (so
``between(s, add(s, n)) == n`` holds to the microsecond) and independent of the
input's time zone and of DST in the calendar's zone.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from time import monotonic as _monotonic
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import chinese_calendar
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.db.models import Case as Case_
from django.db.models import F, Q, When
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from linge.cases.models import OPEN_CLOCK_STATES, CalendarDay, Light, State, TimeUnit

logger = logging.getLogger(__name__)

WALL = "wall"
WORK = "work"
CLOCKS = (WALL, WORK)

_US = 1_000_000
_ONE_US = timedelta(microseconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Enough for several years of dates: deadlines cluster around today, and the demo
# generator spans a few years at most.
_DAY_CACHE_SIZE = 8192

_PERIOD_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")

# One day's working periods as (start_us, end_us) epoch microseconds, and their total.
_Day = tuple[tuple[tuple[int, int], ...], int]


def _to_us(dt: datetime) -> int:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"an aware datetime is required, got naive {dt!r}")
    # Subtracting an aware UTC epoch converts through UTC, whatever dt's zone is.
    return (dt - _EPOCH) // _ONE_US


def _check_clock(clock: str) -> None:
    if clock not in CLOCKS:
        raise ValueError(f"unknown clock {clock!r}; expected one of {CLOCKS}")


class WorkCalendar:
    """Working periods of a day, in a time zone, on the Chinese working-day calendar."""

    def __init__(self, periods: Iterable[tuple[time, time]], tz: tzinfo,
                 days: tuple[dict[date, bool], set[int]] | None = None) -> None:
        """`days`: the holiday table's ({day: is a working day}, years it knows), from
        `cases.holidays.exceptions()`; None asks `chinese_calendar` directly."""
        self.periods: tuple[tuple[time, time], ...] = tuple(periods)
        self.tz = tz
        self.days, self.years = days if days is not None else (None, set())
        _validate_periods(self.periods)
        self.day_seconds: int = sum(
            _seconds_of_day(end) - _seconds_of_day(start) for start, end in self.periods
        )
        self._warned_years: set[int] = set()
        # Per instance, so a calendar with other hours or zone never sees stale days;
        # keyed on the date's ordinal because ints hash and step faster than dates.
        self._day = functools.lru_cache(maxsize=_DAY_CACHE_SIZE)(self._compute_day)

    @classmethod
    def from_setting(cls, text: str, tz_name: str,
                     days: tuple[dict[date, bool], set[int]] | None = None) -> WorkCalendar:
        """Parse ``"HH:MM-HH:MM,..."`` (settings.LINGE_WORK_HOURS) for zone ``tz_name``."""
        example = "expected comma-separated HH:MM-HH:MM periods, e.g. '08:30-12:00,13:30-17:30'"
        periods: list[tuple[time, time]] = []
        for item in (text or "").split(","):
            match = _PERIOD_RE.match(item)
            if not match:
                raise ImproperlyConfigured(
                    f"LINGE_WORK_HOURS={text!r}: cannot read period {item.strip()!r}; {example}"
                )
            h1, m1, h2, m2 = (int(g) for g in match.groups())
            try:
                periods.append((time(h1, m1), time(h2, m2)))
            except ValueError as exc:
                raise ImproperlyConfigured(
                    f"LINGE_WORK_HOURS={text!r}: {item.strip()!r} is not a valid time ({exc}); "
                    f"{example}"
                ) from exc
        try:
            tz = ZoneInfo(tz_name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ImproperlyConfigured(f"unknown time zone {tz_name!r}") from exc
        try:
            return cls(periods, tz, days)
        except ValueError as exc:
            raise ImproperlyConfigured(f"LINGE_WORK_HOURS={text!r}: {exc}; {example}") from exc

    def __repr__(self) -> str:
        spans = ",".join(f"{s:%H:%M}-{e:%H:%M}" for s, e in self.periods)
        return f"<WorkCalendar {spans} {self.tz}>"

    # -- days -------------------------------------------------------------------------

    def is_workday(self, d: date) -> bool:
        if self.days is not None:
            if d.year in self.years:
                return self.days.get(d, d.weekday() < 5)
            if d.year not in self._warned_years:
                self._warned_years.add(d.year)
                logger.warning(
                    "the holiday table has no days for %d: counting Monday-Friday as working "
                    "days (enter the year's holidays and 调休 in the admin)", d.year)
            return d.weekday() < 5
        try:
            return chinese_calendar.is_workday(d)
        except NotImplementedError:
            # The package only knows the years the State Council has announced; a
            # deadline must still be computable, so count Monday–Friday and say so.
            if d.year not in self._warned_years:
                self._warned_years.add(d.year)
                logger.warning(
                    "chinese_calendar %s has no holiday data for %d: counting Monday-Friday "
                    "as working days (upgrade chinesecalendar for holidays and 调休)",
                    getattr(chinese_calendar, "__version__", "?"),
                    d.year,
                )
            return d.weekday() < 5

    def _compute_day(self, ordinal: int) -> _Day:
        d = date.fromordinal(ordinal)
        if not self.is_workday(d):
            return (), 0
        spans = []
        for start, end in self.periods:
            # combine() + the zone gives the right offset on each date, DST included.
            s = _to_us(datetime.combine(d, start, tzinfo=self.tz))
            e = _to_us(datetime.combine(d, end, tzinfo=self.tz))
            if e > s:  # a period swallowed by a DST gap contributes nothing
                spans.append((s, e))
        return tuple(spans), sum(e - s for s, e in spans)

    def working_periods(self, d: date) -> list[tuple[datetime, datetime]]:
        """The working periods of date ``d`` as aware datetimes (empty on days off)."""
        spans, _ = self._day(d.toordinal())
        return [(self._from_us(s), self._from_us(e)) for s, e in spans]

    def _ordinal(self, dt: datetime) -> int:
        return dt.astimezone(self.tz).toordinal()

    def _from_us(self, us: int) -> datetime:
        seconds, micro = divmod(us, _US)
        return datetime.fromtimestamp(seconds, self.tz).replace(microsecond=micro)

    # -- arithmetic -------------------------------------------------------------------

    def add(self, start: datetime, seconds: int, clock: str) -> datetime:
        """The instant at which ``seconds`` of ``clock`` have elapsed after ``start``.

        On the work clock this is the earliest such instant: counting starts at the
        next working period if ``start`` is outside one, and a budget that runs out
        exactly at a period's end returns that end (not the next period's start).
        Zero returns ``start``. A negative budget counts backwards symmetrically
        (the latest instant with that much working time before ``start``), so a
        suspended case that was already overdue keeps its overdraft when resumed.
        """
        _check_clock(clock)
        t = _to_us(start)
        n = seconds * _US  # whole seconds: budget() and the stored budgets are ints
        if clock == WALL or n == 0:
            return self._from_us(t + n)
        o = self._ordinal(start)
        if n > 0:
            return self._from_us(self._forward(t, o, n))
        return self._from_us(self._backward(t, o, -n))

    def _forward(self, t: int, o: int, rem: int) -> int:
        day = self._day
        for s, e in day(o)[0]:
            if e <= t:
                continue
            b = s if s > t else t
            if rem <= e - b:
                return b + rem
            rem -= e - b
        while True:
            o += 1
            spans, total = day(o)
            if rem > total:  # skip the whole day (days off have total 0)
                rem -= total
                continue
            for s, e in spans:
                if rem <= e - s:
                    return s + rem
                rem -= e - s

    def _backward(self, t: int, o: int, rem: int) -> int:
        day = self._day
        for s, e in reversed(day(o)[0]):
            if s >= t:
                continue
            b = e if e < t else t
            if rem <= b - s:
                return b - rem
            rem -= b - s
        while True:
            o -= 1
            spans, total = day(o)
            if rem > total:
                rem -= total
                continue
            for s, e in reversed(spans):
                if rem <= e - s:
                    return e - rem
                rem -= e - s

    def between(self, a: datetime, b: datetime, clock: str) -> int:
        """Whole seconds of ``clock`` from ``a`` to ``b``; negative if ``b`` is before ``a``.

        Fractions of a second are truncated toward zero.
        """
        _check_clock(clock)
        ta, tb = _to_us(a), _to_us(b)
        if clock == WALL:
            diff = tb - ta
        elif tb >= ta:
            diff = self._work_us(ta, self._ordinal(a), tb, self._ordinal(b))
        else:
            diff = -self._work_us(tb, self._ordinal(b), ta, self._ordinal(a))
        return diff // _US if diff >= 0 else -(-diff // _US)

    def _work_us(self, ta: int, oa: int, tb: int, ob: int) -> int:
        """Working microseconds in [ta, tb), ta <= tb, on local dates oa..ob."""
        day = self._day
        total = 0
        for o in (oa, ob) if ob != oa else (oa,):
            for s, e in day(o)[0]:
                lo = s if s > ta else ta
                hi = e if e < tb else tb
                if hi > lo:
                    total += hi - lo
        for o in range(oa + 1, ob):
            total += day(o)[1]
        return total


def _seconds_of_day(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def _validate_periods(periods: Sequence[tuple[time, time]]) -> None:
    if not periods:
        raise ValueError("no working periods")
    previous_end: time | None = None
    for start, end in periods:
        if start.tzinfo is not None or end.tzinfo is not None:
            raise ValueError("working periods are local times and must be naive")
        if end <= start:
            raise ValueError(f"period {start:%H:%M}-{end:%H:%M} ends before it starts")
        if previous_end is not None and start < previous_end:
            raise ValueError(
                f"period {start:%H:%M}-{end:%H:%M} overlaps or precedes the one before it; "
                "list periods in order without overlap"
            )
        previous_end = end


# -- module-level helpers, on the calendar from settings ---------------------------------


# How long a process keeps its calendar before reading the holiday table again: an
# administrator's edit reaches the other processes (web workers, `linge worker`) within
# this; the process that saved it clears its own at once.
CALENDAR_TTL = 300.0
_calendar_cache: list[tuple[WorkCalendar, float]] = []


def calendar() -> WorkCalendar:
    """The calendar from settings.LINGE_WORK_HOURS, settings.TIME_ZONE and the holiday
    table (`cases.holidays`), cached for CALENDAR_TTL seconds."""
    from linge.cases.holidays import exceptions

    now = _monotonic()
    if _calendar_cache and now - _calendar_cache[0][1] < CALENDAR_TTL:
        return _calendar_cache[0][0]
    built = WorkCalendar.from_setting(settings.LINGE_WORK_HOURS, settings.TIME_ZONE,
                                      exceptions())
    _calendar_cache[:] = [(built, now)]
    return built


def _clear_calendar() -> None:
    _calendar_cache.clear()


calendar.cache_clear = _clear_calendar  # type: ignore[attr-defined]


@receiver(setting_changed)
def _settings_changed(*, setting: str, **kwargs: object) -> None:
    # override_settings in tests would otherwise keep serving the old calendar.
    if setting in ("LINGE_WORK_HOURS", "TIME_ZONE"):
        _clear_calendar()


@receiver(post_save, sender=CalendarDay)
@receiver(post_delete, sender=CalendarDay)
def _holidays_changed(**kwargs: object) -> None:
    _clear_calendar()


# Seconds per unit (None: one working day, from the calendar) and the clock it runs on.
_UNITS: dict[str, tuple[int | None, str]] = {
    TimeUnit.CLOCK_HOURS.value: (3600, WALL),
    TimeUnit.CALENDAR_DAYS.value: (86400, WALL),
    TimeUnit.WORK_HOURS.value: (3600, WORK),
    TimeUnit.WORK_DAYS.value: (None, WORK),
}


def budget(amount: int | Decimal, unit: str) -> tuple[int, str]:
    """A deadline of ``amount`` ``unit`` (a TimeUnit) as (seconds, clock)."""
    if amount < 0:
        raise ValueError(f"a deadline cannot be negative: {amount} {unit}")
    try:
        per_unit, clock = _UNITS[unit]
    except KeyError:
        raise ValueError(
            f"unknown time unit {unit!r}; expected one of {list(TimeUnit.values)}"
        ) from None
    if per_unit is None:
        # A working day is the length of the configured working periods (7.5 h by
        # default), so "1 工作日" from Monday 10:00 is due Tuesday 10:00.
        per_unit = calendar().day_seconds
    # Whole seconds: a fractional amount (0.5 紧急时) is rounded to the second.
    return int(round(Decimal(amount) * per_unit)), clock


def due(start: datetime, amount: int, unit: str) -> datetime:
    """The deadline ``amount`` ``unit`` after ``start``."""
    seconds, clock = budget(amount, unit)
    return calendar().add(start, seconds, clock)


def light(now: datetime, due_at: datetime, budget_seconds: int, clock: str) -> str:
    """Green until 80% of the budget is used, yellow up to the deadline, red after it."""
    if now > due_at:
        return Light.RED.value
    if budget_seconds <= 0:
        return Light.YELLOW.value
    used = budget_seconds - calendar().between(now, due_at, clock)
    # Integer comparison: used / budget >= 0.8 without float rounding at the edge.
    if used * 5 >= budget_seconds * 4:
        return Light.YELLOW.value
    return Light.GREEN.value


# The case's current deadline: one definition for the inbox, exports, the case page,
# reminders and the workflow.

# How far ahead to look for deadlines that may already be yellow: the last 20% of a
# working-time budget can stretch over a long holiday (Spring Festival: 9 days off).
LOOKAHEAD = timedelta(days=12)


def clock_of(unit: str) -> str:
    return budget(0, unit)[1] if unit else WALL


@dataclass(frozen=True)
class Current:
    due: datetime
    budget: int  # seconds on `clock`
    clock: str
    stage: str  # "accept" or "resolve"

    def light(self, now: datetime) -> str:
        return light(now, self.due, self.budget, self.clock)

    def overdue(self, now: datetime) -> bool:
        return now > self.due


# States that run on a stage deadline of their own (派遣时限, 处置时限) when one is set.
STAGES = {State.ESCALATED: "dispatch", State.DISPATCHED: "handle"}
_STAGED = tuple(STAGES)
_UNSTAGED = (State.ACCEPTED, State.VERIFYING)
_TIMED = (State.SUBMITTED, *_UNSTAGED, *_STAGED)  # the states with a current deadline


def current(case) -> Current | None:
    """The deadline the case runs against now; None when its clock does not run (a
    suspended, resolved or closed case) or its category sets none. An escalated case
    runs against the town's 派遣时限, a dispatched one against the unit's 处置时限;
    cases escalated or dispatched before stages existed run against the overall one."""
    if case.state not in OPEN_CLOCK_STATES:
        return None
    if case.state in STAGES and case.stage_due is not None:
        unit = (case.category.accept_unit if case.state == State.ESCALATED
                else case.category.resolve_unit)
        return Current(case.stage_due, case.stage_budget, clock_of(unit), STAGES[case.state])
    return overall(case)


def overall(case) -> Current | None:
    """The case's overall deadline (to accept, then to resolve): what the figures and
    the 超期 flag count, whatever the stage."""
    if case.state not in OPEN_CLOCK_STATES:
        return None
    if case.state == State.SUBMITTED:
        due_at, seconds, unit, stage = (case.accept_due, case.accept_budget,
                                        case.category.accept_unit, "accept")
    else:
        due_at, seconds, unit, stage = (case.resolve_due, case.resolve_budget,
                                        case.category.resolve_unit, "resolve")
    if due_at is None:
        return None
    return Current(due_at, seconds, clock_of(unit), stage)


def is_overdue(case, now: datetime) -> bool:
    """Overdue now: its current deadline has passed (whether or not the worker ran)."""
    deadline = current(case)
    return deadline is not None and deadline.overdue(now)


def _current_q(**test: object) -> Q:
    """Cases whose current deadline passes `test` (a lookup suffix → value, as
    {"__lt": now}): the same choice of deadline as `current`."""
    def on(field: str) -> dict:
        return {f"{field}{suffix}": value for suffix, value in test.items()}

    # The states again around the whole condition: an index on (area, state) answers
    # it, where SQLite read the area's whole history by (area, created_at) to test the OR.
    return Q(state__in=_TIMED) & (
        Q(state=State.SUBMITTED, **on("accept_due"))
        | Q(state__in=_UNSTAGED, **on("resolve_due"))
        | Q(state__in=_STAGED, stage_due__isnull=False, **on("stage_due"))
        | Q(state__in=_STAGED, stage_due__isnull=True, **on("resolve_due")))


def current_due() -> Case_:
    """The current deadline as an SQL expression: the same choice as `current` and
    `_current_q` (NULL for a case whose clock does not run)."""
    return Case_(When(state=State.SUBMITTED, then=F("accept_due")),
                 When(state__in=_UNSTAGED, then=F("resolve_due")),
                 When(state__in=_STAGED, stage_due__isnull=False, then=F("stage_due")),
                 When(state__in=_STAGED, then=F("resolve_due")))


def overdue_q(now: datetime) -> Q:
    """The same rule as `is_overdue`, as a filter on cases."""
    return _current_q(__lt=now)


def due_within_q(now: datetime, horizon: datetime) -> Q:
    """Open cases whose current deadline falls between now and the horizon."""
    return _current_q(__gte=now, __lte=horizon)


def due_by_q(horizon: datetime) -> Q:
    """Open cases whose current deadline falls before the horizon (passed ones too)."""
    return _current_q(__lte=horizon)


def overall_passed_q(now: datetime) -> Q:
    """Staged cases whose overall deadline has passed (their stage may still run)."""
    return Q(state__in=_STAGED, stage_due__isnull=False, resolve_due__lt=now)
