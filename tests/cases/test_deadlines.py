"""Deadlines on the real 2026 Chinese calendar (chinesecalendar 1.11.0)."""

from __future__ import annotations

import logging
import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from django.core.exceptions import ImproperlyConfigured

from linge.cases import deadlines
from linge.cases.deadlines import WorkCalendar, budget, calendar, due, light
from linge.cases.models import TimeUnit

SH = ZoneInfo("Asia/Shanghai")
UTC = ZoneInfo("UTC")
DEFAULT_HOURS = "08:30-12:00,13:30-17:30"


def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0, us: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, us, tzinfo=SH)


@pytest.fixture(autouse=True)
def default_calendar(settings):
    settings.LINGE_WORK_HOURS = DEFAULT_HOURS
    settings.TIME_ZONE = "Asia/Shanghai"
    calendar.cache_clear()
    yield
    calendar.cache_clear()


@pytest.fixture
def cal() -> WorkCalendar:
    return calendar()


def test_calendar_facts_the_tests_rely_on():
    # If chinesecalendar changes, fail here rather than in a puzzling deadline test.
    assert not chinese_calendar.is_workday(date(2026, 9, 25))  # 中秋 Friday
    assert all(not chinese_calendar.is_workday(date(2026, 10, d)) for d in range(1, 8))
    assert chinese_calendar.is_workday(date(2026, 9, 20))  # Sunday 调休
    assert chinese_calendar.is_workday(date(2026, 10, 10))  # Saturday 调休
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2027, 3, 1))


# -- budget ----------------------------------------------------------------------------


def test_budget_units():
    assert budget(3, TimeUnit.CLOCK_HOURS) == (3 * 3600, "wall")
    assert budget(2, TimeUnit.CALENDAR_DAYS) == (2 * 86400, "wall")
    assert budget(5, TimeUnit.WORK_HOURS) == (5 * 3600, "work")
    assert budget(2, TimeUnit.WORK_DAYS) == (2 * 7.5 * 3600, "work")
    assert budget(0, "work_days") == (0, "work")


@pytest.mark.parametrize("amount,unit", [(1, "weeks"), (1, ""), (-1, "work_hours")])
def test_budget_rejects(amount, unit):
    with pytest.raises(ValueError):
        budget(amount, unit)


# -- the work clock --------------------------------------------------------------------


def test_work_hours_cross_the_lunch_break():
    assert due(at(2026, 3, 10, 11), 2, TimeUnit.WORK_HOURS) == at(2026, 3, 10, 14, 30)


def test_work_hours_roll_over_the_weekend():
    # Friday 16:00-17:30 is 1.5 h; the other 2.5 h run from Monday 08:30.
    assert due(at(2026, 3, 13, 16), 4, TimeUnit.WORK_HOURS) == at(2026, 3, 16, 11)


def test_one_work_day_is_the_same_time_next_working_day():
    assert due(at(2026, 3, 9, 10), 1, TimeUnit.WORK_DAYS) == at(2026, 3, 10, 10)


def test_work_day_skips_national_day():
    assert due(at(2026, 9, 30, 10), 1, TimeUnit.WORK_DAYS) == at(2026, 10, 8, 10)


def test_work_day_skips_mid_autumn_weekend():
    # Thu Sep 24 17:00: 0.5 h that day, Fri 25 – Sun 27 off, then Monday.
    assert due(at(2026, 9, 24, 17), 1, TimeUnit.WORK_HOURS) == at(2026, 9, 28, 9)


def test_budget_lands_on_make_up_saturday():
    # Fri Oct 9 15:00: 2.5 h that day, the remaining 1.5 h on 调休 Saturday Oct 10.
    assert due(at(2026, 10, 9, 15), 4, TimeUnit.WORK_HOURS) == at(2026, 10, 10, 10)


def test_make_up_sunday_counts():
    assert due(at(2026, 9, 19, 20), 1, TimeUnit.WORK_HOURS) == at(2026, 9, 20, 9, 30)


@pytest.mark.parametrize(
    "start,expected",
    [
        (at(2026, 3, 10, 20), at(2026, 3, 11, 9, 30)),  # evening
        (at(2026, 3, 10, 7), at(2026, 3, 10, 9, 30)),  # before work
        (at(2026, 3, 10, 12, 30), at(2026, 3, 10, 14, 30)),  # lunch
        (at(2026, 3, 10, 17, 30), at(2026, 3, 11, 9, 30)),  # exactly at closing time
        (at(2026, 3, 14, 10), at(2026, 3, 16, 9, 30)),  # Saturday
        (at(2026, 10, 3, 10), at(2026, 10, 8, 9, 30)),  # holiday
    ],
)
def test_start_outside_working_time(start, expected):
    assert due(start, 1, TimeUnit.WORK_HOURS) == expected


def test_budget_ending_at_period_end_returns_that_end(cal):
    assert due(at(2026, 3, 10, 10), 2, TimeUnit.WORK_HOURS) == at(2026, 3, 10, 12)
    assert due(at(2026, 3, 10, 13, 30), 4, TimeUnit.WORK_HOURS) == at(2026, 3, 10, 17, 30)
    # From Friday 17:30 back: the end of the period, not Monday's start.
    assert cal.add(at(2026, 3, 13, 12), 4 * 3600, "work") == at(2026, 3, 13, 17, 30)


def test_zero_budget_is_the_start(cal):
    start = at(2026, 3, 14, 10)  # a Saturday
    assert cal.add(start, 0, "work") == start
    assert cal.add(start, 0, "wall") == start


def test_negative_work_budget_counts_backwards(cal):
    assert cal.add(at(2026, 3, 16, 11), -4 * 3600, "work") == at(2026, 3, 13, 16)
    assert cal.add(at(2026, 10, 8, 10), -27000, "work") == at(2026, 9, 30, 10)


# -- the wall clock --------------------------------------------------------------------


def test_clock_hours_and_calendar_days_ignore_the_calendar():
    start = at(2026, 10, 1, 22)  # a holiday evening
    assert due(start, 3, TimeUnit.CLOCK_HOURS) == at(2026, 10, 2, 1)
    assert due(start, 3, TimeUnit.CALENDAR_DAYS) == at(2026, 10, 4, 22)


# -- time zones ------------------------------------------------------------------------


def test_any_input_zone_gives_the_calendar_zone(cal):
    start = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)  # 11:00 in Shanghai
    for clock, expected in (("work", at(2026, 3, 10, 14, 30)), ("wall", at(2026, 3, 10, 13))):
        result = cal.add(start, 7200, clock)
        assert result == expected
        assert result.tzinfo == SH
        assert result.utcoffset() == timedelta(hours=8)
    # A UTC evening can be the next Shanghai morning.
    assert cal.add(datetime(2026, 3, 10, 23, 30, tzinfo=UTC), 3600, "work") == at(
        2026, 3, 11, 8, 30
    ) + timedelta(hours=1)


def test_naive_datetimes_are_refused(cal):
    with pytest.raises(ValueError, match="aware"):
        cal.add(datetime(2026, 3, 10, 11), 3600, "work")
    with pytest.raises(ValueError, match="aware"):
        cal.between(datetime(2026, 3, 10, 11), at(2026, 3, 10, 12), "wall")


def test_unknown_clock_is_refused(cal):
    with pytest.raises(ValueError, match="clock"):
        cal.add(at(2026, 3, 10, 11), 60, "moon")
    with pytest.raises(ValueError, match="clock"):
        cal.between(at(2026, 3, 10, 11), at(2026, 3, 10, 12), "moon")


def test_dst_zone_is_handled():
    berlin = ZoneInfo("Europe/Berlin")
    cal = WorkCalendar.from_setting("09:00-17:00", "Europe/Berlin")
    # Clocks go forward on Sunday 2026-03-29: 48 elapsed hours are 49 on the wall.
    start = datetime(2026, 3, 28, 12, tzinfo=berlin)
    assert cal.add(start, 48 * 3600, "wall") == datetime(2026, 3, 30, 13, tzinfo=berlin)
    assert cal.between(start, datetime(2026, 3, 30, 13, tzinfo=berlin), "wall") == 48 * 3600
    # Working periods are local times on each side of the change.
    friday = datetime(2026, 3, 27, 16, tzinfo=berlin)
    assert cal.add(friday, 2 * 3600, "work") == datetime(2026, 3, 30, 10, tzinfo=berlin)


# -- between ---------------------------------------------------------------------------


def test_between_basics(cal):
    a, b = at(2026, 3, 10, 11), at(2026, 3, 10, 14, 30)
    assert cal.between(a, b, "work") == 7200
    assert cal.between(b, a, "work") == -7200
    assert cal.between(a, b, "wall") == 12600
    assert cal.between(b, a, "wall") == -12600
    assert cal.between(at(2026, 3, 10, 18), at(2026, 3, 10, 23), "work") == 0
    assert cal.between(at(2026, 9, 30, 17), at(2026, 10, 8, 9), "work") == 3600
    assert cal.between(a, a, "work") == 0


def test_between_inverts_add_over_random_starts(cal):
    rng = random.Random(20260930)
    first = at(2025, 12, 1)
    for _ in range(3000):
        # Microsecond starts anywhere across 2025-12..2026-12, around the holidays too.
        start = first + timedelta(microseconds=rng.randrange(396 * 86400 * 10**6))
        n = rng.choice(
            [rng.randrange(1, 60), rng.randrange(1, 8 * 3600), rng.randrange(1, 15 * 27000)]
        )
        end = cal.add(start, n, "work")
        assert end > start
        assert cal.between(start, end, "work") == n
        assert cal.between(end, start, "work") == -n
        # Earliest instant: one second earlier, the budget is not yet used up.
        assert cal.between(start, end - timedelta(seconds=1), "work") < n
        # Adding in two steps is adding once.
        k = rng.randrange(0, n + 1)
        assert cal.add(cal.add(start, k, "work"), n - k, "work") == end
        # Counting backwards is the mirror image.
        back = cal.add(start, -n, "work")
        assert cal.between(back, start, "work") == n


def test_add_agrees_with_minute_stepping(cal):
    # An independent, slow model: walk minute by minute (in naive Shanghai time, which
    # has no DST) and count working minutes.
    periods = [(time(8, 30), time(12)), (time(13, 30), time(17, 30))]
    workday: dict[date, bool] = {}

    def working_minute(t: datetime) -> bool:
        d = t.date()
        if d not in workday:
            workday[d] = chinese_calendar.is_workday(d)
        return workday[d] and any(s <= t.time() < e for s, e in periods)

    rng = random.Random(7)
    minute = timedelta(minutes=1)
    for _ in range(40):
        start = datetime(2026, 9, 15) + timedelta(minutes=rng.randrange(30 * 1440))
        minutes = rng.randrange(1, 2 * 450)
        t, counted = start, 0
        while counted < minutes:
            counted += working_minute(t)
            t += minute
        result = cal.add(start.replace(tzinfo=SH), minutes * 60, "work")
        assert result == t.replace(tzinfo=SH), (start, minutes)


# -- traffic light ---------------------------------------------------------------------


def test_light_on_the_wall_clock():
    start = at(2026, 3, 10, 9)
    b = 100 * 3600
    due_at = start + timedelta(seconds=b)
    assert light(start + timedelta(hours=79), due_at, b, "wall") == "green"
    assert light(start + timedelta(hours=80), due_at, b, "wall") == "yellow"
    assert light(due_at, due_at, b, "wall") == "yellow"  # 100%: due now, not yet late
    assert light(due_at + timedelta(seconds=1), due_at, b, "wall") == "red"


def test_light_on_the_work_clock():
    start = at(2026, 3, 9, 8, 30)  # Monday
    b = 10 * 3600
    due_at = calendar().add(start, b, "work")
    assert due_at == at(2026, 3, 10, 11)
    assert light(at(2026, 3, 9, 20), due_at, b, "work") == "green"  # 75%, evening
    assert light(at(2026, 3, 10, 8, 54), due_at, b, "work") == "green"  # 79%
    assert light(at(2026, 3, 10, 9), due_at, b, "work") == "yellow"  # 80%
    assert light(due_at, due_at, b, "work") == "yellow"
    assert light(due_at + timedelta(microseconds=1), due_at, b, "work") == "red"


def test_light_with_zero_budget():
    due_at = at(2026, 3, 10, 9)
    assert light(due_at - timedelta(hours=1), due_at, 0, "work") == "yellow"
    assert light(due_at, due_at, 0, "work") == "yellow"
    assert light(due_at + timedelta(seconds=1), due_at, 0, "work") == "red"


# -- years without data ----------------------------------------------------------------


def test_year_without_data_falls_back_to_weekdays(caplog):
    cal = WorkCalendar.from_setting(DEFAULT_HOURS, "Asia/Shanghai")
    with caplog.at_level(logging.WARNING, logger=deadlines.__name__):
        assert cal.is_workday(date(2027, 1, 1))  # a Friday; the holiday is unknown
        assert not cal.is_workday(date(2027, 1, 2))
        assert not cal.is_workday(date(2027, 1, 3))
        assert cal.is_workday(date(2027, 1, 4))
        # Friday 16:00 + 4 h rolls to Monday, as on any Monday-Friday week.
        friday = datetime(2027, 1, 8, 16, tzinfo=SH)
        assert cal.add(friday, 4 * 3600, "work") == datetime(2027, 1, 11, 11, tzinfo=SH)
        # From the last known day into the unknown year.
        assert cal.add(at(2026, 12, 31, 17), 3600, "work") == datetime(2027, 1, 1, 9, tzinfo=SH)
    warnings = [r for r in caplog.records if "2027" in r.getMessage()]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING


# -- configuration ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "08:30-12:00;13:30-17:30",
        "8.30-12",
        "12:00-08:30",  # ends before it starts
        "08:30-08:30",  # empty
        "08:30-12:00,11:00-17:30",  # overlap
        "13:30-17:30,08:30-12:00",  # unsorted
        "08:30-12:00,",
        "25:00-26:00",
        "08:61-09:00",
    ],
)
def test_bad_work_hours_setting(settings, text):
    settings.LINGE_WORK_HOURS = text
    with pytest.raises(ImproperlyConfigured, match="LINGE_WORK_HOURS"):
        calendar()


def test_bad_time_zone():
    with pytest.raises(ImproperlyConfigured, match="time zone"):
        WorkCalendar.from_setting(DEFAULT_HOURS, "Mars/Olympus")


def test_non_default_hours_via_from_setting():
    cal = WorkCalendar.from_setting(" 09:00-12:00 , 13:00-18:00 ", "Asia/Shanghai")
    assert cal.periods == ((time(9), time(12)), (time(13), time(18)))
    assert cal.day_seconds == 8 * 3600
    assert cal.add(at(2026, 3, 10, 11), 2 * 3600, "work") == at(2026, 3, 10, 14)
    assert cal.add(at(2026, 3, 9, 10), cal.day_seconds, "work") == at(2026, 3, 10, 10)


def test_calendar_follows_settings(settings):
    first = calendar()
    assert calendar() is first
    settings.LINGE_WORK_HOURS = "09:00-17:00"
    assert calendar() is not first
    assert budget(1, TimeUnit.WORK_DAYS) == (8 * 3600, "work")
    assert due(at(2026, 3, 13, 16), 2, TimeUnit.WORK_HOURS) == at(2026, 3, 16, 10)


def test_working_periods(cal):
    assert cal.working_periods(date(2026, 10, 1)) == []
    assert cal.working_periods(date(2026, 10, 10)) == [
        (at(2026, 10, 10, 8, 30), at(2026, 10, 10, 12)),
        (at(2026, 10, 10, 13, 30), at(2026, 10, 10, 17, 30)),
    ]
