"""The leaders' figures on the rollup rows of 10,000,000 cases over three years.

    python bench/bench_projection.py [--cases 10000000] [--postgres URL] [--repeat 20]

Generating ten million case histories would take hours, and the figures never read
cases: they read rollup rows (insights/rollups.py). So this writes directly the rows
that many cases would leave, spread over the demo city's grids (by households) and
their grid workers, day by day from 2023-01-01 to 2025-12-31, with month and year rows
summed from the days, the town × category rows and the histograms. It times the calls
the API makes (p95), first with the rows of 2025 alone (about a third of the cases),
then again after the rows of 2023 and 2024 are added: the calls read 2025, so the
older years must cost them nothing. Target: every call ≤ 100 ms, and the ten-million
call at most 1.5× the one-year call.

The rows are written with the totals kept on the side; a call whose counts differ from
them is a wrong answer, the only reason this script exits non-zero. Each run is in its
own process on a fresh database (a temporary SQLite file, or a scratch PostgreSQL
database `linge_projection` on the server of --postgres, created and dropped). Prints
the rows written and the disk they take.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

from benchlib import hand_back, run_child, table_bytes, timed

ROOT = Path(__file__).resolve().parents[1]
SCRATCH = "linge_projection"
FIRST, LAST = date(2023, 1, 1), date(2025, 12, 31)
TARGET_MS = 100
TARGET_GROWTH = 1.5
# Of the cases received, what share is closed, closed on time, … (a plausible mix; the
# calls' cost does not depend on it, the check of their answers does).
SHARES = {"closed": 0.9, "closed_on_time": 0.8, "closed_in_grid": 0.7, "reopened": 0.03,
          "staff_reported": 0.3, "rated": 0.55, "satisfied": 0.5, "basic_satisfied": 0.04,
          "unsatisfied": 0.01, "closed_rated": 0.5, "solved_grid": 0.6, "solved_village": 0.1,
          "solved_town": 0.15, "solved_department": 0.05}
MEASURES = ["received", "rejected", "merged", "closed", "closed_on_time", "closed_in_grid",
            "reopened", "staff_reported", "rated", "satisfied", "basic_satisfied",
            "unsatisfied", "closed_rated", "open", "overdue_open", "solved_grid",
            "solved_village", "solved_town", "solved_department"]


def measures_of(received: int) -> list[int]:
    values = {"received": received, "rejected": 0, "merged": 0, "open": 0, "overdue_open": 0}
    values.update({name: int(received * share) for name, share in SHARES.items()})
    return [values[name] for name in MEASURES]


class Writer:
    """Rollup rows in batches of plain tuples (no model instances: ten million cases
    leave millions of rows)."""

    def __init__(self) -> None:
        from django.db import connection

        from linge.insights.models import Rollup

        q = connection.ops.quote_name
        columns = ["scope", "key", "category_id", "grain", "start", "response_hist",
                   "resolution_hist", *MEASURES]
        json_value = "%s::jsonb" if connection.vendor == "postgresql" else "%s"
        values = ["%s"] * 5 + [json_value] * 2 + ["%s"] * len(MEASURES)
        self.sql = (f"INSERT INTO {q(Rollup._meta.db_table)} ({', '.join(map(q, columns))}) "
                    f"VALUES ({', '.join(values)})")
        self.batch: list[tuple] = []
        self.rows = 0

    def add(self, scope: str, key: int, category: int, grain: str, start: date,
            measures: list[int]) -> None:
        from django.db import connection

        received = measures[0]
        response = json.dumps({"60": received}) if received else "{}"
        resolution = json.dumps({"110": measures[3]}) if measures[3] else "{}"
        self.batch.append((scope, key, category, grain,
                           connection.ops.adapt_datefield_value(start), response, resolution,
                           *measures))
        if len(self.batch) >= 20_000:
            self.flush()

    def flush(self) -> None:
        from django.db import connection, transaction

        if not self.batch:
            return
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(self.sql, self.batch)
        self.rows += len(self.batch)
        self.batch = []


def write_years(years: list[int], per_day: int, city, seed: int) -> dict:
    """Write every rollup row of these years; return the totals per (scope, key, year)."""
    import numpy as np

    from linge.areas.models import Area, Level
    from linge.cases.models import Category
    from linge.insights.models import Grain, Scope
    from linge.people.models import Membership, UnitKind
    from linge.people.roles import GRID_HANDS

    rng = np.random.default_rng(seed)
    grids = list(Area.objects.filter(level=Level.GRID).select_related("parent")
                 .order_by("code"))
    weights = np.array([max(g.households, 1) for g in grids], dtype=float)
    weights /= weights.sum()
    hands: dict[int, list[int]] = defaultdict(list)
    for user_id, area_id in (Membership.objects.filter(unit__kind=UnitKind.GRID_TEAM,
                                                       duty__in=GRID_HANDS)
                             .values_list("user_id", "unit__area_id").order_by("user_id")):
        hands[area_id].append(user_id)
    categories = list(Category.objects.filter(parent__isnull=False).order_by("code")
                      .values_list("pk", flat=True))[:12]
    writer = Writer()
    totals: dict[tuple, int] = defaultdict(int)
    for year in years:
        months: dict[tuple, list[int]] = {}
        day = date(year, 1, 1)
        while day.year == year:
            per_key: dict[tuple, int] = defaultdict(int)
            for grid, n in zip(grids, rng.multinomial(per_day, weights), strict=True):
                if not n:
                    continue
                village, town = grid.parent, grid.parent.parent_id
                per_key[(Scope.GRID, grid.pk, 0)] += int(n)
                per_key[(Scope.VILLAGE, village.pk, 0)] += int(n)
                per_key[(Scope.TOWN, town, 0)] += int(n)
                per_key[(Scope.CITY, city.pk, 0)] += int(n)
                workers = hands.get(grid.pk) or []
                for i, worker in enumerate(workers):
                    share = int(n) // len(workers) + (i < int(n) % len(workers))
                    if share:
                        per_key[(Scope.WORKER, worker, 0)] += share
                for i, category in enumerate(categories):
                    share = int(n) // len(categories) + (i < int(n) % len(categories))
                    if share:
                        per_key[(Scope.TOWN_CATEGORY, town, category)] += share
            for (scope, key, category), received in per_key.items():
                measures = measures_of(received)
                writer.add(scope, key, category, Grain.DAY, day, measures)
                month = months.setdefault((scope, key, category, day.month), [0] * len(MEASURES))
                for i, value in enumerate(measures):
                    month[i] += value
                totals[(scope, key, category, year)] += received
            day += timedelta(days=1)
        by_year: dict[tuple, list[int]] = {}
        for (scope, key, category, month_no), measures in months.items():
            writer.add(scope, key, category, Grain.MONTH, date(year, month_no, 1), measures)
            sums = by_year.setdefault((scope, key, category), [0] * len(MEASURES))
            for i, value in enumerate(measures):
                sums[i] += value
        for (scope, key, category), measures in by_year.items():
            writer.add(scope, key, category, Grain.YEAR, date(year, 1, 1), measures)
        writer.flush()
        print(f"    {year}: {writer.rows:,} rollup rows so far", flush=True)
    return {"totals": totals, "rows": writer.rows}


def calls(city, repeat: int, totals: dict) -> tuple[list[dict], list[str]]:
    """The API's calls over 2025, timed, and checked against the totals written."""
    from linge.areas.models import Area, Level
    from linge.insights import figures, rankings
    from linge.insights.models import Scope

    town = Area.objects.filter(level=Level.TOWN).order_by("code").first()
    grid = Area.objects.filter(level=Level.GRID).order_by("-households", "code").first()
    worker = max((k for k in totals if k[0] == Scope.WORKER and k[3] == 2025),
                 key=lambda k: totals[k])[1]
    year = (date(2025, 1, 1), date(2025, 12, 31))
    rolling = (date(2025, 1, 1) + timedelta(days=45), date(2025, 12, 31) - timedelta(days=9))
    quarter = (date(2025, 10, 1), date(2025, 12, 31))
    month = (date(2025, 11, 1), date(2025, 11, 30))
    plan = [
        ("figures city × year", lambda: figures.figures_for_area(city, *year),
         (Scope.CITY, city.pk)),
        ("figures city × 320 days", lambda: figures.figures_for_area(city, *rolling), None),
        ("figures town × quarter", lambda: figures.figures_for_area(town, *quarter), None),
        ("figures grid × month", lambda: figures.figures_for_area(grid, *month), None),
        ("figures worker × year", lambda: figures.figures_for_worker(worker, *year),
         (Scope.WORKER, worker)),
        ("rankings town × year", lambda: rankings.rankings("town", *year), None),
        ("rankings grid × year", lambda: rankings.rankings("grid", *year), None),
        ("rankings worker × year", lambda: rankings.rankings("worker", *year), None),
    ]
    rows, wrong = [], []
    for name, call, check in plan:
        ms, got = timed(call, repeat)
        rows.append({"name": name, "ms": ms})
        if check is not None and got["received"] != totals[(*check, 0, 2025)]:
            wrong.append(f"{name}: received {got['received']} ≠ {totals[(*check, 0, 2025)]}")
        if name == "rankings grid × year":
            for row in got["rows"]:
                want = totals.get((Scope.GRID, row["key"], 0, 2025), 0)
                if row["received"] != want:
                    wrong.append(f"{name}: grid {row['code']} received {row['received']} ≠ {want}")
                    break
    return rows, wrong


def disk_bytes() -> int:
    from linge.insights.models import Rollup

    return table_bytes(Rollup)


def run_one(cases: int, database_url: str | None, repeat: int) -> dict:
    var = tempfile.mkdtemp(prefix="linge-projection-")
    os.environ["LINGE_VAR_DIR"] = var
    os.environ["LINGE_DATABASE_URL"] = database_url or f"sqlite:///{var}/p.db"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linge.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from linge.areas.models import Area, Level
    from linge.demo.city import build_city

    call_command("migrate", verbosity=0)
    build_city()
    city = Area.objects.get(level=Level.CITY)
    per_day = cases // ((LAST - FIRST).days + 1)
    out: dict = {"vendor": connection.vendor, "cases": per_day * ((LAST - FIRST).days + 1),
                 "grids": Area.objects.filter(level=Level.GRID).count(), "wrong": []}
    started = time.monotonic()
    recent = write_years([2025], per_day, city, seed=2025)
    out["one_year"] = {"rows": recent["rows"], "write_s": time.monotonic() - started}
    _analyze()
    out["one_year"]["calls"], wrong = calls(city, repeat, recent["totals"])
    out["wrong"] += wrong
    started = time.monotonic()
    older = write_years([2023, 2024], per_day, city, seed=2023)
    out["three_years"] = {"rows": recent["rows"] + older["rows"],
                          "write_s": time.monotonic() - started}
    _analyze()
    out["three_years"]["calls"], wrong = calls(city, repeat, recent["totals"])
    out["wrong"] += wrong
    out["disk_bytes"] = disk_bytes()
    connection.close()
    shutil.rmtree(var, ignore_errors=True)  # its media, its key and (unless kept) the database
    return out


def _analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:  # planner statistics, as autovacuum would
        cursor.execute("ANALYZE")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=10_000_000)
    parser.add_argument("--postgres", help="postgres://user@host:5432/anything")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        hand_back(run_one(args.cases, args.database_url, args.repeat))
        return 0
    url = None
    if args.postgres:
        import psycopg

        base = args.postgres.rsplit("/", 1)[0]
        url = f"{base}/{SCRATCH}"
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {SCRATCH}")
            conn.execute(f"CREATE DATABASE {SCRATCH}")
    command = [sys.executable, __file__, "--one", "--cases", str(args.cases), "--repeat",
               str(args.repeat)] + (["--database-url", url] if url else [])
    try:
        result = run_child(command, f"{args.cases:,} cases")
    finally:
        if args.postgres:
            import psycopg

            with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {SCRATCH}")
    return report(result)


def report(result: dict) -> int:
    one, three = result["one_year"], result["three_years"]
    print(f"\n{result['vendor']}: {result['grids']:,} grids; {result['cases']:,} cases over "
          f"three years as rollup rows")
    print(f"  2025 alone: {one['rows']:,} rows written in {one['write_s']:.0f} s; all three "
          f"years: {three['rows']:,} rows ({three['write_s']:.0f} s more), "
          f"{result['disk_bytes'] / 1e9:.2f} GB with indexes "
          f"({result['disk_bytes'] / three['rows']:.0f} bytes a row; the rows grow with "
          f"grids, workers and days, not with cases)")
    print(f"  {'call (over 2025)':<26} {'1 year ms':>10} {'3 years ms':>11} {'growth':>7}")
    missed = []
    for a, b in zip(one["calls"], three["calls"], strict=True):
        growth = b["ms"] / a["ms"] if a["ms"] else float("inf")
        print(f"  {a['name']:<26} {a['ms']:>10.1f} {b['ms']:>11.1f} {growth:>6.2f}×")
        if b["ms"] > TARGET_MS:
            missed.append(f"{b['name']}: p95 {b['ms']:.1f} ms > {TARGET_MS} ms")
        if growth > TARGET_GROWTH:
            missed.append(f"{b['name']}: {growth:.2f}× with three years' rows")
    for line in missed:
        print(f"MISSED TARGET: {line}")
    if not missed:
        print("all targets met")
    for line in result["wrong"]:
        print(f"WRONG ANSWER: {line}")
    return 1 if result["wrong"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
