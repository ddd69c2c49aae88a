"""Public holidays and make-up working days (调休), kept in `CalendarDay` rows that
administrators edit in the admin; `deadlines.calendar()` reads them.

The rows are seeded from the packages that know the State Council's schedule
(`chinesecalendar`; the `holidays` package knew no more years when this was written)
by the migration and by `seed_from_packages()` (the admin's "从软件包补充" action), which
adds only dates not yet in the table, so an administrator's corrections stay.
"""

from __future__ import annotations

import logging
from datetime import date

from django.db import DatabaseError

from linge.cases.models import CalendarDay

log = logging.getLogger("linge.calendar")
PACKAGE = "chinesecalendar"


def package_days() -> list[tuple[date, bool, str]]:
    """(day, is a working day, Chinese name) for every exception the package knows."""
    import chinese_calendar
    from chinese_calendar.constants import Holiday

    names = {h.value: h.chinese for h in Holiday}
    days = [(d, False, names.get(n, n or "")) for d, n in chinese_calendar.holidays.items()]
    days += [(d, True, names.get(n, n or "")) for d, n in chinese_calendar.workdays.items()]
    return sorted(days)


def seed_from_packages() -> int:
    """Add the package's days missing from the table; returns how many were added."""
    have = set(CalendarDay.objects.values_list("day", flat=True))
    new = [CalendarDay(day=d, workday=w, name=n[:32], source=PACKAGE)
           for d, w, n in package_days() if d not in have]
    CalendarDay.objects.bulk_create(new, batch_size=500)
    return len(new)


def exceptions() -> tuple[dict[date, bool], set[int]] | None:
    """({day: is a working day}, the years the table knows); None when the table is
    empty or cannot be read (a database not migrated or seeded yet, a test without a
    database): the calendar then asks the package itself."""
    try:
        rows = list(CalendarDay.objects.values_list("day", "workday"))
    except (DatabaseError, RuntimeError):  # RuntimeError: pytest-django's "no database"
        return None
    if not rows:
        return None
    return dict(rows), {d.year for d, _w in rows}


def known_years() -> set[int]:
    return {d.year for d in CalendarDay.objects.dates("day", "year")}


def missing_year(today: date) -> int | None:
    """Next year when the table knows nothing of it yet (holidays and 调休 must be
    entered before deadlines run into it), else None. From October on, and always when
    this year itself is missing."""
    years = known_years()
    if today.year not in years:
        return today.year
    if today.month >= 10 and today.year + 1 not in years:
        return today.year + 1
    return None


def warn_if_missing(today: date) -> int | None:
    year = missing_year(today)
    if year is not None:
        log.warning("节假日表缺少 %d 年的放假和调休安排：工作日时限按周一至周五计算。"
                    "请在管理后台“节假日与调休”中录入国务院办公厅公布的安排。", year)
    return year
