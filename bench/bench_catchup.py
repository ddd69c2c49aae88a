"""The worker catching up the rollups: its memory and time, and the disk they take.

    python bench/bench_catchup.py [--cases 100000 300000] [--postgres URL]

For each size, on a fresh database (a temporary SQLite file, or a scratch PostgreSQL
database `linge_catchup` on the server of --postgres, created and dropped): the demo
city and that many cases of history, written as `linge demo` writes them, which folds
none of their events into the rollups. Then a process of its own, as `linge worker`
would, loads Django and folds the whole backlog (`rollups.catch_up_all()`, batches of
5,000 events). Printed: the fold's time and events per second, the process's resident
memory at rest (Django loaded, connected) and at its peak while folding, and the disk
the rollup tables take afterwards (rows and indexes), per million cases.

Target (issue #9): the memory a catch-up takes does not grow with the backlog: the
larger size's peak above rest is at most 1.5× the smaller's (a miss is printed). Exits
non-zero only on a wrong answer: the rollups' count of the cases received, over the
whole history, differs from the cases in the table.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from benchlib import hand_back, run_child, table_bytes

ROOT = Path(__file__).resolve().parents[1]
SCRATCH = "linge_catchup"
TARGET_GROWTH = 1.5


def _setup(var: str, database_url: str) -> None:
    os.environ["LINGE_VAR_DIR"] = var
    os.environ["LINGE_DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linge.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()


def build(cases: int, var: str, database_url: str) -> dict:
    _setup(var, database_url)
    from django.core.management import call_command

    from linge.cases.models import Case

    call_command("migrate", verbosity=0)
    started = time.monotonic()
    call_command("demo", cases=cases, verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    return {"cases": Case.objects.count(), "build_s": time.monotonic() - started}


def _rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def fold(var: str, database_url: str) -> dict:
    _setup(var, database_url)
    from django.db import connection

    from linge.areas.models import Area, Level
    from linge.cases.models import Case, CaseEvent
    from linge.insights import figures, rollups
    from linge.insights.models import CaseFact, Rollup, RollupMark

    connection.ensure_connection()
    events = CaseEvent.objects.count()
    rest = _rss_kib()
    started = time.monotonic()
    rollups.catch_up_all()
    seconds = time.monotonic() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    city = Area.objects.get(level=Level.CITY)
    got = figures.figures_for_area(city, date(2000, 1, 1), date(2100, 12, 31))["received"]
    want = Case.objects.exclude(state__in=["rejected", "merged"]).count()
    return {"events": events, "fold_s": seconds, "rest_mib": rest / 1024,
            "peak_mib": peak / 1024, "rollup_rows": Rollup.objects.count(),
            "disk_bytes": table_bytes(Rollup, CaseFact, RollupMark),
            "wrong": [] if got == want else [f"received {got} ≠ {want} cases"]}


def measure(cases: int, postgres: str | None) -> dict:
    var = tempfile.mkdtemp(prefix="linge-catchup-")
    url = f"sqlite:///{var}/c.db"
    if postgres:
        import psycopg

        base = postgres.rsplit("/", 1)[0]
        url = f"{base}/{SCRATCH}"
        with psycopg.connect(f"{base}/postgres".replace("postgres://", "postgresql://", 1),
                             autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {SCRATCH}")
            conn.execute(f"CREATE DATABASE {SCRATCH}")
    try:
        me = [sys.executable, __file__, "--var", var, "--database-url", url]
        print(f"{cases:,} cases: building…", flush=True)
        built = run_child([*me, "--build", str(cases)], f"build {cases}")
        print("  folding the backlog in a fresh process…", flush=True)
        return {**built, **run_child([*me, "--fold"], f"fold {cases}")}
    finally:
        shutil.rmtree(var, ignore_errors=True)
        if postgres:
            import psycopg

            with psycopg.connect(f"{base}/postgres".replace("postgres://", "postgresql://", 1),
                                 autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {SCRATCH}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, nargs="+", default=[100_000, 300_000])
    parser.add_argument("--postgres", help="postgres://user@host:5432/anything")
    parser.add_argument("--build", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--fold", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--var", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build:
        hand_back(build(args.build, args.var, args.database_url))
        return 0
    if args.fold:
        hand_back(fold(args.var, args.database_url))
        return 0
    results = [measure(n, args.postgres) for n in sorted(args.cases)]
    vendor = "postgresql" if args.postgres else "sqlite"
    print(f"\n{vendor}: the worker folding a whole backlog")
    print(f"  {'cases':>10} {'events':>10} {'fold s':>8} {'events/s':>9} {'rest MiB':>9} "
          f"{'peak MiB':>9} {'rollup rows':>12} {'disk MB':>8} {'MB per 1M cases':>16}")
    for r in results:
        mb = r["disk_bytes"] / 1e6
        print(f"  {r['cases']:>10,} {r['events']:>10,} {r['fold_s']:>8.1f} "
              f"{r['events'] / r['fold_s']:>9,.0f} {r['rest_mib']:>9.0f} {r['peak_mib']:>9.0f} "
              f"{r['rollup_rows']:>12,} {mb:>8.0f} {mb * 1e6 / r['cases']:>16,.0f}")
    wrong = [f"{r['cases']:,} cases: {w}" for r in results for w in r["wrong"]]
    if len(results) >= 2:
        small, large = results[0], results[-1]
        growth = ((large["peak_mib"] - large["rest_mib"])
                  / max(small["peak_mib"] - small["rest_mib"], 1))
        print(f"  memory while folding, above rest: {growth:.2f}× from {small['cases']:,} to "
              f"{large['cases']:,} cases (target ≤ {TARGET_GROWTH}×)")
        if growth > TARGET_GROWTH:
            print(f"MISSED TARGET: the fold's memory grew {growth:.2f}× with the backlog")
    for line in wrong:
        print(f"WRONG ANSWER: {line}")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
