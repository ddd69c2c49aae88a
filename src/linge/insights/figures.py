"""Every figure leaders see, defined once (docs/figures.md explains each one).

Figures are counted by cohort: a case belongs to the period in which it was received
(the local date of its submission, LINGE_TIME_ZONE), and everything that later
happens to it — closing, rating, rework — is counted in that same period, as 数字城管
counts 应办结数 against the cases that came in. A period's closure rate therefore
keeps rising while its cases are being finished; `as_of` says when it was read.

The numbers are read from the rollups (insights/rollups.py), never by scanning cases;
`FIGURES` lists the keys the API returns, and tests/insights/test_figures_doc.py fails
when one of them is not documented.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Sum

from linge.insights.models import MEASURES, Grain, Rollup, Scope

# The counts, then the rates, then the times: the order of the API's JSON.
COUNTS = [
    "received", "closed", "closed_on_time", "closed_in_grid", "reopened", "staff_reported",
    "rejected", "merged", "rated", "satisfied", "basic_satisfied", "unsatisfied",
]
# rate name → (numerator, denominator); null when the denominator is 0.
RATES: dict[str, tuple[str, str]] = {
    "closure_rate": ("closed", "received"),
    "on_time_rate": ("closed_on_time", "received"),
    "satisfaction_rate": ("satisfied_or_basic", "rated"),
    "rating_rate": ("closed_rated", "closed"),
    "in_grid_rate": ("closed_in_grid", "closed"),
    "rework_rate": ("reopened", "closed"),
    "proactive_rate": ("staff_reported", "received"),
}
TIMES = ["response_median_s", "response_p90_s", "resolution_median_s", "resolution_p90_s"]
FIGURES = [*COUNTS, *RATES, *TIMES, "per_1000_households"]

# Durations go into log-spaced buckets: bucket i holds [RATIO**i, RATIO**(i+1)) seconds
# and stands for its geometric middle, RATIO**(i + 0.5), so any duration read back from
# a histogram is within sqrt(RATIO) - 1 = 4.88% of the true one (the promised 5%).
# Under a second is bucket -1 and reads as 0.
RATIO = 1.1
_LOG_RATIO = math.log(RATIO)
RELATIVE_ERROR = math.sqrt(RATIO) - 1


def bucket(seconds: float) -> int:
    if seconds < 1:
        return -1
    return int(math.floor(math.log(seconds) / _LOG_RATIO))


def bucket_value(index: int) -> float:
    if index < 0:
        return 0.0
    return RATIO ** (index + 0.5)


def percentile(hist: dict[int, int], q: float) -> float | None:
    """Nearest-rank percentile (the smallest value with at least q of the cases at or
    below it), read from bucket counts; None for an empty histogram."""
    total = sum(hist.values())
    if total <= 0:
        return None
    rank = max(1, math.ceil(q * total))
    seen = 0
    for index in sorted(hist):
        seen += hist[index]
        if seen >= rank:
            return round(bucket_value(index), 1)
    return None  # unreachable: seen reaches total


def merge_hists(target: dict[int, int], hist: dict) -> None:
    for key, count in hist.items():
        index = int(key)
        target[index] = target.get(index, 0) + count


def ratio(numerator: int, denominator: int) -> float | None:
    return None if not denominator else numerator / denominator


# Periods are read as whole years from the year rows, whole months from the month rows
# and the days at either end from the day rows: any period up to three years is at most
# 3 + 22 + 60 rows per key, whatever the number of cases.

def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _whole(since: date, until: date, first: Callable[[date], date],
           after: Callable[[date], date]) -> tuple[list[date], date, date]:
    """The whole units [first, after) inside since..until, and the span they cover."""
    start = since if first(since) == since else after(first(since))
    units = []
    cursor = start
    while after(cursor) - timedelta(days=1) <= until:
        units.append(cursor)
        cursor = after(cursor)
    return units, start, cursor


def _year(day: date) -> date:
    return day.replace(month=1, day=1)


def _next_year(day: date) -> date:
    return date(day.year + 1, 1, 1)


def split_period(since: date, until: date) -> tuple[list[date], list[date],
                                                      list[tuple[date, date]]]:
    """([1 January of whole years], [1st of whole months], [(first, last) days left])."""
    if since > until:
        return [], [], []
    years, start, end = _whole(since, until, _year, _next_year)
    if not years:
        edges = [(since, until)]
    else:
        edges = [(since, start - timedelta(days=1)), (end, until)]
    months: list[date] = []
    days: list[tuple[date, date]] = []
    for first, last in edges:
        if first > last:
            continue
        whole, m_start, m_end = _whole(first, last, month_start, next_month)
        if not whole:
            days.append((first, last))
            continue
        months += whole
        if first < m_start:
            days.append((first, m_start - timedelta(days=1)))
        if m_end <= last:
            days.append((m_end, last))
    return years, months, days


def period_filter(since: date, until: date):
    from django.db.models import Q

    years, months, days = split_period(since, until)
    q = Q(pk__in=[])
    if years:
        q |= Q(grain=Grain.YEAR, start__in=years)
    if months:
        q |= Q(grain=Grain.MONTH, start__in=months)
    for first, last in days:
        q |= Q(grain=Grain.DAY, start__gte=first, start__lte=last)
    return q


@dataclass
class Totals:
    measures: dict[str, int]
    response: dict[int, int]
    resolution: dict[int, int]


def period_sql(since: date, until: date) -> tuple[str, list] | None:
    """`period_filter` as an SQL condition and its parameters (None: an empty period),
    for the reads that run as plain SQL: the ORM compiled each of them again on every
    call, for more than the database took to answer."""
    from django.db import connection

    years, months, days = split_period(since, until)
    q = connection.ops.quote_name
    where, params = [], []
    if years:
        where.append(f"({q('grain')} = 'y' AND {q('start')} IN ({', '.join(['%s'] * len(years))}))")
        params += years
    if months:
        where.append(f"({q('grain')} = 'm' AND {q('start')} IN "
                     f"({', '.join(['%s'] * len(months))}))")
        params += months
    for first, last in days:
        where.append(f"({q('grain')} = 'd' AND {q('start')} >= %s AND {q('start')} <= %s)")
        params += [first, last]
    if not where:
        return None
    return f"({' OR '.join(where)})", [connection.ops.adapt_datefield_value(p) for p in params]


def _hist(value) -> dict:
    # A JSON column comes back as text from a plain query (the ORM decodes it).
    return json.loads(value) if isinstance(value, str) else value


def totals(scope: str, key: int, since: date, until: date, category_id: int = 0) -> Totals:
    from django.db import connection

    measures = dict.fromkeys(MEASURES, 0)
    response: dict[int, int] = {}
    resolution: dict[int, int] = {}
    period = period_sql(since, until)
    if period is None:
        return Totals(measures, response, resolution)
    q = connection.ops.quote_name
    columns = ", ".join(q(name) for name in [*MEASURES, "response_hist", "resolution_hist"])
    sql = (f"SELECT {columns} FROM {q(Rollup._meta.db_table)} WHERE {q('scope')} = %s AND "
           f"{q('key')} = %s AND {q('category_id')} = %s AND {period[0]}")
    with connection.cursor() as cursor:
        cursor.execute(sql, [scope, key, category_id, *period[1]])
        rows = cursor.fetchall()
    count = len(MEASURES)
    for row in rows:
        for name, value in zip(MEASURES, row[:count], strict=True):
            measures[name] += value
        merge_hists(response, _hist(row[count]))
        merge_hists(resolution, _hist(row[count + 1]))
    return Totals(measures, response, resolution)


def compute(t: Totals, households: int | None) -> dict:
    """The figures (FIGURES order) from summed measures and histograms."""
    m = dict(t.measures)
    m["satisfied_or_basic"] = m["satisfied"] + m["basic_satisfied"]
    out: dict = {name: m[name] for name in COUNTS}
    for name, (numerator, denominator) in RATES.items():
        out[name] = ratio(m[numerator], m[denominator])
    out["response_median_s"] = percentile(t.response, 0.5)
    out["response_p90_s"] = percentile(t.response, 0.9)
    out["resolution_median_s"] = percentile(t.resolution, 0.5)
    out["resolution_p90_s"] = percentile(t.resolution, 0.9)
    out["per_1000_households"] = (
        round(m["received"] * 1000 / households, 2) if households else None
    )
    return out


SCOPE_OF_LEVEL = {"city": Scope.CITY, "town": Scope.TOWN, "village": Scope.VILLAGE,
                  "grid": Scope.GRID}


def households_of(area) -> int:
    """Households in an area: the sum over its grids (areas above grids may carry none)."""
    from linge.areas.models import Area, Level

    if area.level == Level.GRID:
        return area.households
    from django.db import connection

    q = connection.ops.quote_name  # plain SQL, as totals()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT SUM({q('households')}) FROM {q(Area._meta.db_table)} WHERE "
                       f"{q('level')} = %s AND {q('code')} {connection.operators['startswith']}",
                       [Level.GRID.value, f"{connection.ops.prep_for_like_query(area.code)}%"])
        (total,) = cursor.fetchone()
    return total or area.households


def figures_for_area(area, since: date, until: date) -> dict:
    t = totals(SCOPE_OF_LEVEL[area.level], area.pk, since, until)
    return compute(t, households_of(area))


def figures_for_worker(user_id: int, since: date, until: date) -> dict:
    return compute(totals(Scope.WORKER, user_id, since, until), None)


def summed_by_key(scope: str, since: date, until: date, keys: Iterable[int] | None = None,
                  by_category: bool = False, measures: list[str] | None = None) -> dict:
    """{key (or (key, category)): measures} summed in the database; no histograms."""
    rows = Rollup.objects.filter(period_filter(since, until), scope=scope)
    if keys is not None:
        rows = rows.filter(key__in=list(keys))
    group = ["key", "category_id"] if by_category else ["key"]
    names = measures or MEASURES
    result = {}
    for row in rows.values(*group).annotate(**{f"s_{n}": Sum(n) for n in names}):
        measures = {n: row[f"s_{n}"] or 0 for n in names}
        result[(row["key"], row["category_id"]) if by_category else row["key"]] = measures
    return result


def summed_tuples(scope: str, since: date, until: date, measures: list[str],
                  keys: Iterable[int] | None = None) -> dict[int, tuple]:
    """{key: (sum of each measure, in order)} over category 0, read with one plain query:
    the rankings read thousands of keys, and the ORM's per-row work was half their time."""
    from django.db import connection

    period = period_sql(since, until)
    if period is None:
        return {}
    q = connection.ops.quote_name
    # Whole numbers from the database (PostgreSQL sums bigint columns to numeric), so that
    # each row is kept as it comes: no conversion per value for thousands of keys.
    sums = ", ".join(f"CAST(COALESCE(SUM({q(m)}), 0) AS BIGINT)" for m in measures)
    sql = (f"SELECT {q('key')}, {sums} "
           f"FROM {q(Rollup._meta.db_table)} WHERE {q('scope')} = %s AND "
           f"{q('category_id')} = 0 AND {period[0]}")
    params = [scope, *period[1]]
    if keys is not None:
        keys = list(keys)
        if not keys:
            return {}
        sql += f" AND {q('key')} IN ({', '.join(['%s'] * len(keys))})"
        params += keys
    sql += f" GROUP BY {q('key')}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0]: row[1:] for row in cursor.fetchall()}


def live_open(scope: str, keys: Iterable[int] | None = None) -> dict[int, tuple[int, int]]:
    """{key: (open, overdue_open)} now: the year rows over all cohorts."""
    rows = Rollup.objects.filter(scope=scope, grain=Grain.YEAR, category_id=0)
    if keys is not None:
        rows = rows.filter(key__in=list(keys))
    return {
        row["key"]: (row["o"] or 0, row["od"] or 0)
        for row in rows.values("key").annotate(o=Sum("open"), od=Sum("overdue_open"))
    }
