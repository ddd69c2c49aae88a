"""Holidays and 调休 in a table administrators edit: seeded from chinesecalendar, read
by the deadlines' calendar, with a warning in the admin and the worker's log when a
year is missing."""

from __future__ import annotations

import logging
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from linge.cases import deadlines, holidays, jobs
from linge.cases.models import CalendarDay, TimeUnit
from linge.notify.worker import Tally
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def at(y, mo, d, h=0, mi=0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=SH)


def test_the_migration_seeded_the_package_years() -> None:
    national = CalendarDay.objects.get(day=date(2026, 10, 1))
    assert national.workday is False and national.name == "国庆节"
    assert national.source == "chinesecalendar"
    makeup = CalendarDay.objects.get(day=date(2026, 10, 10))  # a Saturday 调休
    assert makeup.workday is True
    assert holidays.known_years() == set(range(2004, 2027))
    assert holidays.seed_from_packages() == 0  # nothing missing: corrections stay


def test_deadlines_follow_the_table_and_a_new_year_entered() -> None:
    deadlines.calendar.cache_clear()
    # 2027 is not known: Friday 1 January counts as a working day.
    assert deadlines.due(at(2026, 12, 31, 16), 4, TimeUnit.WORK_HOURS) == at(2027, 1, 1, 11)
    # The administrator enters 元旦 2027 (Friday 1 January off) and a Saturday 调休.
    CalendarDay.objects.create(day=date(2027, 1, 1), workday=False, name="元旦")
    CalendarDay.objects.create(day=date(2027, 1, 2), workday=True, name="元旦")
    # Saved in this process: the calendar reads the table again at once.
    assert deadlines.due(at(2026, 12, 31, 16), 4, TimeUnit.WORK_HOURS) == at(2027, 1, 2, 11)
    # A correction: 10 October 2026 (Saturday 调休) turned into a day off.
    CalendarDay.objects.filter(day=date(2026, 10, 10)).update(workday=False)
    deadlines.calendar.cache_clear()  # what CALENDAR_TTL does in the other processes
    assert deadlines.due(at(2026, 10, 9, 15), 4, TimeUnit.WORK_HOURS) == at(2026, 10, 12, 10)


def test_missing_year() -> None:
    assert holidays.missing_year(date(2026, 9, 30)) is None
    assert holidays.missing_year(date(2026, 10, 1)) == 2027  # next year due by now
    CalendarDay.objects.create(day=date(2027, 1, 1), name="元旦")
    assert holidays.missing_year(date(2026, 11, 30)) is None
    assert holidays.missing_year(date(2028, 3, 1)) == 2028


def test_worker_logs_a_missing_year_once_a_day(caplog) -> None:
    jobs._calendar_checked.clear()
    with caplog.at_level(logging.WARNING, logger="linge.calendar"):
        assert jobs.check_calendar(Tally(), at(2026, 11, 30, 9)) == 2027
        assert jobs.check_calendar(Tally(), at(2026, 11, 30, 10)) is None  # same day
    assert [r.getMessage()[:22] for r in caplog.records] == ["节假日表缺少 2027 年的放假和调休安排："]


def test_admin_warns_and_edits(city) -> None:
    client = Client()
    assert client.login(username="admin", password=PASSWORD)
    this_year = date.today().year
    CalendarDay.objects.filter(day__year=this_year).delete()
    page = client.get("/admin/cases/calendarday/").content.decode()
    assert f"尚未录入 {this_year} 年的放假和调休安排" in page
    response = client.post("/admin/cases/calendarday/add/", {
        "day": f"{this_year}-01-01", "workday": "", "name": "元旦"})
    assert response.status_code == 302
    added = CalendarDay.objects.get(day=date(this_year, 1, 1))
    assert added.source == "admin" and not added.workday
    assert deadlines.calendar().is_workday(date(this_year, 1, 1)) is False
