"""Benchmark the leaders' figures: rollups against a full scan of the same figure.

    python bench/bench_figures.py [--cases 100000] [--million] [--postgres URL] [--keep]
                                  [--repeat 30]

Each size runs in its own process on a fresh database (a temporary SQLite file, or a
scratch PostgreSQL database `linge_wt9_figbench` on the server of --postgres, created
and dropped): the demo city and `--cases` case histories (`linge demo`'s generator,
every move through the workflow), then `linge insights rebuild`, then VACUUM ANALYZE
(ANALYZE on SQLite), as autovacuum would have done on a database in use. It times, p95
over --repeat calls after one untimed call, what the API runs for:

- the city over the whole year (figures), a town over a quarter, a grid over a month,
  a worker over a quarter;
- rankings of all grids and of all workers over the year;

and, beside each figure, a full scan computing the same counts from the cases and
their events (one aggregate query over the period's cases, and one over their rating
events; for the grid rankings the same eight inputs per grid the board reads). The
scan's counts must equal the rollups'; a difference is a wrong answer
and the only reason this script exits non-zero. Targets: ≤ 100 ms a call, ≥ 100× the
scan at 1,000,000 cases where the scan grows with the table (a grid's month, read
through its index, does not: faster than its scan is all a rollup can be), the
1,000,000-case call ≤ 1.5× the 100,000-case call. Missed targets are printed plainly.

--keep keeps the filled SQLite file under var/ (var/bench_figures_<N>.sqlite3) and
reuses it on the next run, so the 1,000,000-case history is built once; --rebuild then
rebuilds (and times) its rollups.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from benchlib import hand_back, run_child, timed

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
UNTIL = date(2025, 12, 31)  # a fixed end: every run tells the same stories
SCRATCH = "linge_wt9_figbench"
TARGET_MS = 100
TARGET_SPEEDUP = 100
# A grid's month is scanned through the (grid, created_at) index: its few dozen cases,
# about 4 ms at 100,000 cases and at 1,000,000 alike. A scan that does not grow with the
# table leaves no room for 100×; for it the rollups must only be faster, and flat.
BOUNDED_SCANS = {"figures grid × month"}
TARGET_GROWTH = 1.5
COUNTS = ["received", "rejected", "merged", "closed", "closed_on_time", "closed_in_grid",
          "reopened", "staff_reported", "rated", "satisfied", "basic_satisfied", "unsatisfied"]


def scan_counts(area_filter: dict, since: date, until: date) -> dict:
    """The counts of figures.py, computed from the raw tables (the baseline)."""
    from datetime import datetime
    from datetime import time as clock

    from django.db.models import Count, F, Q
    from django.utils import timezone

    from linge.cases.models import Case, CaseEvent

    start = timezone.make_aware(datetime.combine(since, clock.min))
    end = timezone.make_aware(datetime.combine(until + timedelta(days=1), clock.min))
    cases = Case.objects.filter(created_at__gte=start, created_at__lt=end, **area_filter)
    kept = ~Q(state__in=["rejected", "merged"])
    closed = Q(state="closed")
    counts = cases.aggregate(
        received=Count("pk", filter=kept),
        rejected=Count("pk", filter=Q(state="rejected")),
        merged=Count("pk", filter=Q(state="merged")),
        closed=Count("pk", filter=closed),
        closed_on_time=Count("pk", filter=closed & (Q(resolve_due__isnull=True)
                                                    | Q(resolved_at__lte=F("resolve_due")))),
        closed_in_grid=Count("pk", filter=closed & Q(escalated=False)),
        reopened=Count("pk", filter=closed & Q(rework_count__gt=0)),
        staff_reported=Count("pk", filter=kept & Q(source__in=["patrol", "visit"])),
    )
    verdicts = dict(
        CaseEvent.objects.filter(action__in=["rate", "reopen"], case__in=cases.filter(kept))
        .values_list("data__rating").annotate(n=Count("pk")).values_list("data__rating", "n")
    )
    counts["satisfied"] = verdicts.get("satisfied", 0)
    counts["basic_satisfied"] = verdicts.get("basic", 0)
    counts["unsatisfied"] = verdicts.get("unsatisfied", 0)
    counts["rated"] = counts["satisfied"] + counts["basic_satisfied"] + counts["unsatisfied"]
    return counts


RANK_INPUTS = ["received", "closed", "closed_on_time", "closed_in_grid", "staff_reported",
               "rated", "satisfied", "basic_satisfied"]


def scan_grid_inputs(since: date, until: date) -> dict:
    """The rankings' eight inputs per grid from the raw tables (the baseline): the counts
    from the period's cases, the verdicts from their rating events, as scan_counts."""
    from datetime import datetime
    from datetime import time as clock

    from django.db.models import Count, F, Q
    from django.utils import timezone

    from linge.cases.models import Case, CaseEvent

    start = timezone.make_aware(datetime.combine(since, clock.min))
    end = timezone.make_aware(datetime.combine(until + timedelta(days=1), clock.min))
    closed = Q(state="closed")
    kept = (Case.objects.filter(created_at__gte=start, created_at__lt=end)
            .exclude(state__in=["rejected", "merged"]))
    rows = (kept.values("grid_id")
            .annotate(received=Count("pk"), closed=Count("pk", filter=closed),
                      closed_on_time=Count("pk", filter=closed & (
                          Q(resolve_due__isnull=True) | Q(resolved_at__lte=F("resolve_due")))),
                      closed_in_grid=Count("pk", filter=closed & Q(escalated=False)),
                      staff_reported=Count("pk", filter=Q(source__in=["patrol", "visit"]))))
    inputs = {r["grid_id"]: {**r, "rated": 0, "satisfied": 0, "basic_satisfied": 0}
              for r in rows}
    verdicts = (CaseEvent.objects.filter(action__in=["rate", "reopen"], case__in=kept)
                .values_list("case__grid_id", "data__rating").annotate(n=Count("pk")))
    for grid_id, rating, n in verdicts:
        counts = inputs[grid_id]
        if rating in ("satisfied", "basic", "unsatisfied"):
            counts["rated"] += n
        if rating == "satisfied":
            counts["satisfied"] += n
        elif rating == "basic":
            counts["basic_satisfied"] += n
    return inputs


def run_one(cases: int, database_url: str | None, keep: bool, repeat: int) -> dict:
    var = tempfile.mkdtemp(prefix="linge-figbench-")
    os.environ["LINGE_VAR_DIR"] = var
    if database_url:
        os.environ["LINGE_DATABASE_URL"] = database_url
    else:
        path = (ROOT / "var" / f"bench_figures_{cases}.sqlite3") if keep else Path(var) / "b.db"
        path.parent.mkdir(exist_ok=True)
        os.environ["LINGE_DATABASE_URL"] = f"sqlite:///{path}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linge.settings")
    import django

    django.setup()
    from datetime import datetime
    from datetime import time as clock
    from zoneinfo import ZoneInfo

    from django.core.management import call_command
    from django.db import connection

    from linge.areas.models import Area, Level
    from linge.cases.models import Case
    from linge.insights import figures, rankings, rollups

    call_command("migrate", verbosity=0)
    built = {}
    if not Case.objects.exists():
        from linge.demo.city import build_city
        from linge.demo.history import make_history

        started = time.monotonic()
        info = build_city()
        end = datetime.combine(UNTIL, clock(18, 0), tzinfo=ZoneInfo("Asia/Shanghai"))

        def progress(n: int) -> None:
            if n % 100_000 == 0:
                print(f"    {n:>9,} cases  {time.monotonic() - started:7.1f} s", flush=True)

        make_history(info, cases, end=end, progress=progress)
        built["history_s"] = time.monotonic() - started
        started = time.monotonic()
        rollups.rebuild()
        built["rebuild_s"] = time.monotonic() - started
    elif os.environ.get("BENCH_REBUILD"):
        started = time.monotonic()
        rollups.rebuild()
        built["rebuild_s"] = time.monotonic() - started
    else:
        rollups.catch_up_all()
    _settle()
    from linge.wsgi import freeze_heap

    freeze_heap()  # the heap of a server worker (linge/wsgi.py), not of a history build
    from linge.insights.models import CaseFact, Rollup

    built["rollup_rows"] = Rollup.objects.count()
    built["facts"] = CaseFact.objects.count()
    year = (UNTIL - timedelta(days=364), UNTIL)
    quarter = (date(2025, 10, 1), UNTIL)
    month = (date(2025, 11, 1), date(2025, 11, 30))
    city = Area.objects.get(level=Level.CITY)
    town = Area.objects.filter(level=Level.TOWN).order_by("code").first()
    grid = (Area.objects.filter(level=Level.GRID, cases__isnull=False).order_by("code")
            .first())
    from linge.insights.models import Scope

    worker = (Rollup.objects.filter(scope=Scope.WORKER, grain="m").order_by("-received")
              .values_list("key", flat=True).first())
    checks = [
        ("figures city × year", lambda: figures.figures_for_area(city, *year),
         lambda: scan_counts({}, *year)),
        ("figures town × quarter", lambda: figures.figures_for_area(town, *quarter),
         lambda: scan_counts({"town_id": town.pk}, *quarter)),
        ("figures grid × month", lambda: figures.figures_for_area(grid, *month),
         lambda: scan_counts({"grid_id": grid.pk}, *month)),
        ("figures worker × quarter", lambda: figures.figures_for_worker(worker, *quarter),
         None),
    ]
    out = {"cases": Case.objects.count(), "vendor": connection.vendor, **built, "rows": [],
           "wrong": []}
    for name, fast, scan in checks:
        fast_ms, got = timed(fast, repeat)
        row = {"name": name, "ms": fast_ms}
        if scan is not None:
            scan_ms, want = timed(scan, 3)
            row["scan_ms"] = scan_ms
            for key in COUNTS:
                if got[key] != want[key]:
                    out["wrong"].append(f"{name}: {key} rollups {got[key]} ≠ scan {want[key]}")
        out["rows"].append(row)
    rank_ms, ranked = timed(lambda: rankings.rankings("grid", *year), repeat)
    scan_ms, inputs = timed(lambda: scan_grid_inputs(*year), 3)
    for row in ranked["rows"]:
        raw = inputs.get(row["key"], dict.fromkeys(RANK_INPUTS, 0))
        for key in RANK_INPUTS:
            if row[key] != raw[key]:
                out["wrong"].append(f"rankings grid {row['code']}: {key} {row[key]} ≠ {raw[key]}")
    out["rows"].append({"name": "rankings grid × year", "ms": rank_ms, "scan_ms": scan_ms})
    worker_ms, _ = timed(lambda: rankings.rankings("worker", *year), repeat)
    out["rows"].append({"name": "rankings worker × year", "ms": worker_ms})
    connection.close()
    shutil.rmtree(var, ignore_errors=True)  # its media, its key and (unless kept) the database
    return out


def _settle() -> None:
    """Planner statistics and a vacuumed heap for every table, as autovacuum keeps them on
    a database in use: right after the bulk build, PostgreSQL would plan on empty tables."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def measure(cases: int, args: argparse.Namespace) -> dict:
    url = None
    if args.postgres:
        import psycopg

        base = args.postgres.rsplit("/", 1)[0]
        url = f"{base}/{SCRATCH}_{cases}"
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                  [f"{SCRATCH}_{cases}"]).fetchone()
            if not (args.keep and exists):
                conn.execute(f"DROP DATABASE IF EXISTS {SCRATCH}_{cases}")
                conn.execute(f"CREATE DATABASE {SCRATCH}_{cases}")
    command = [sys.executable, __file__, "--one", str(cases), "--repeat", str(args.repeat)]
    if url:
        command += ["--database-url", url]
    if args.keep:
        command.append("--keep")
    result = run_child(command, f"{cases} cases")
    if args.postgres and not args.keep:
        import psycopg

        base = args.postgres.rsplit("/", 1)[0]
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {SCRATCH}_{cases}")
    return result


def report(result: dict) -> list[str]:
    missed = []
    print(f"\n{result['cases']:,} cases on {result['vendor']}"
          + (f" (history {result['history_s']:.0f} s)" if "history_s" in result else "")
          + (f" (rebuild {result['rebuild_s']:.0f} s)" if "rebuild_s" in result else "")
          + f"; {result['facts']:,} case facts, {result['rollup_rows']:,} rollup rows")
    print(f"  {'call':<26} {'p95 ms':>9} {'scan ms':>10} {'scan/rollups':>13}")
    for row in result["rows"]:
        scan = row.get("scan_ms")
        ratio = scan / row["ms"] if scan else None
        print(f"  {row['name']:<26} {row['ms']:>9.1f} "
              f"{(f'{scan:10.1f}' if scan else '         -')} "
              f"{(f'{ratio:12.0f}×' if ratio else '            -')}")
        if row["ms"] > TARGET_MS:
            missed.append(f"{result['cases']:,} cases, {row['name']}: p95 {row['ms']:.1f} ms "
                          f"> {TARGET_MS} ms")
        speedup = 1 if row["name"] in BOUNDED_SCANS else TARGET_SPEEDUP
        if ratio is not None and result["cases"] >= 1_000_000 and ratio < speedup:
            missed.append(f"{result['cases']:,} cases, {row['name']}: {ratio:.0f}× the scan "
                          f"< {speedup}×")
    return missed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--million", action="store_true", help="also run 1,000,000 cases")
    parser.add_argument("--postgres", help="postgres://user@host:5432/anything")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--rebuild", action="store_true",
                        help="with --keep: rebuild the kept database's rollups (timed)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rebuild:
        os.environ["BENCH_REBUILD"] = "1"
    if args.one:
        result = run_one(args.one, args.database_url, args.keep, args.repeat)
        hand_back(result)
        return 0
    sizes = [args.cases] + ([1_000_000] if args.million and args.cases != 1_000_000 else [])
    results = [measure(n, args) for n in sizes]
    missed, wrong = [], []
    for result in results:
        missed += report(result)
        wrong += result["wrong"]
    if len(results) == 2:
        small, large = results
        print(f"\n  growth {small['cases']:,} → {large['cases']:,} cases (p95 ratio; target ≤ "
              f"{TARGET_GROWTH}):")
        for a, b in zip(small["rows"], large["rows"], strict=True):
            growth = b["ms"] / a["ms"] if a["ms"] else float("inf")
            print(f"    {a['name']:<26} {growth:5.2f}×")
            if growth > TARGET_GROWTH:
                missed.append(f"{a['name']}: 1M is {growth:.2f}× the {small['cases']:,} call")
    for line in missed:
        print(f"MISSED TARGET: {line}")
    if not missed:
        print("\nall targets met")
    for line in wrong:
        print(f"WRONG ANSWER: {line}")
    return 1 if wrong else 0


if __name__ == "__main__":
    raise SystemExit(main())
