"""Benchmark `linge demo`'s case history: batch generation against per-move writes.

    python bench/bench_demo.py [--cases 10000] [--baseline 500] [--million]
                               [--postgres postgres://postgres@127.0.0.1:5432/postgres]

Every measurement runs in its own process on a fresh database: a temporary SQLite
file (LINGE_VAR_DIR points at a new temporary folder before django.setup(), then
`migrate`), or, with --postgres, a scratch database `lingebench` created and dropped
on that server. Each run builds the demo city and then times `make_history` alone
(every case told through the workflow functions, rows written, chain sealed), and
checks the result with `linge audit verify`.

The baseline is the same generator writing through `cases.store.Store`, the plain
store the web uses: one transaction per move, row locks, notifications queued. It
is slow, so it runs on a few hundred cases; the ratio shows what the batch store
buys. The issue's target is 1,000,000 cases in under 15 minutes on the 2-core
machine; the projection from 10,000 cases is optimistic (the indexes grow), so
--million measures it (many minutes; progress is printed every 10,000 cases).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from benchlib import hand_back, run_child

ROOT = Path(__file__).resolve().parents[1]
TARGET_CASES = 1_000_000
TARGET_SECONDS = 15 * 60
CITY_TARGET_SECONDS = 30
SCRATCH_DB = "lingebench"
# A fixed end date, so every run tells the same stories (the demo's --until).
UNTIL = (2025, 6, 30)


# -- one measurement, in a child process --------------------------------------------


def run_one(cases: int, mode: str, database_url: str | None) -> dict:
    """Build the city and `cases` stories on a fresh database; return the figures."""
    with tempfile.TemporaryDirectory(prefix="linge-bench-") as var_dir:
        os.environ["LINGE_VAR_DIR"] = var_dir  # before django.setup(): settings read it
        if database_url:
            os.environ["LINGE_DATABASE_URL"] = database_url
        else:
            os.environ.pop("LINGE_DATABASE_URL", None)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linge.settings")
        import django

        django.setup()
        return _measure(cases, mode)


def _measure(cases: int, mode: str) -> dict:
    import io
    import resource
    from datetime import date, datetime
    from datetime import time as clock
    from zoneinfo import ZoneInfo

    from django.core.management import CommandError, call_command
    from django.db import connection

    from linge.cases.store import Store
    from linge.demo.city import build_city
    from linge.demo.history import make_history

    started = time.monotonic()
    call_command("migrate", verbosity=0)
    info = build_city()
    city_seconds = time.monotonic() - started
    end = datetime.combine(date(*UNTIL), clock(18, 0), tzinfo=ZoneInfo("Asia/Shanghai"))
    history_started = time.monotonic()
    cpu_started = time.process_time()

    def progress(n: int) -> None:
        if n % 50_000 == 0:
            elapsed = time.monotonic() - history_started
            print(f"    {n:>9,} cases  {elapsed:7.1f} s  {n / elapsed:6.0f} cases/s", flush=True)

    report = make_history(
        info, cases, end=end, progress=progress if cases >= 50_000 else None,
        store=Store() if mode == "store" else None,
    )
    seconds = time.monotonic() - history_started
    cpu = time.process_time() - cpu_started
    writer = resource.getrusage(resource.RUSAGE_CHILDREN)
    verify_started = time.monotonic()
    out = io.StringIO()
    try:
        call_command("audit", "verify", stdout=out)
        verified, verify_text = True, out.getvalue().strip()
    except CommandError as error:
        verified, verify_text = False, str(error)
    verify_seconds = time.monotonic() - verify_started
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "mode": mode, "vendor": connection.vendor, "cases": report.cases,
        "events": report.events, "seconds": seconds, "rate": report.cases / seconds,
        "city_seconds": city_seconds, "verified": verified, "verify_text": verify_text,
        "verify_seconds": verify_seconds, "rss_mib": own / 1024, "cpu": cpu,
        "writer_cpu": writer.ru_utime + writer.ru_stime,
        "writer_rss_mib": children / 1024,
    }


def _child_main(args: argparse.Namespace) -> int:
    result = run_one(args.one, args.mode, args.database_url)
    hand_back(result)
    return 0


# -- the driver ------------------------------------------------------------------------


def measure(cases: int, mode: str, database_url: str | None = None) -> dict:
    """Run one measurement in a fresh process, passing its progress lines through."""
    command = [sys.executable, __file__, "--one", str(cases), "--mode", mode]
    if database_url:
        command += ["--database-url", database_url]
    return run_child(command, f"{mode}, {cases} cases")


def show(label: str, result: dict) -> None:
    check = "ok" if result["verified"] else "FAILED"
    print(
        f"  {label:<28} {result['cases']:>9,} cases {result['events']:>10,} events "
        f"{result['seconds']:8.1f} s {result['rate']:7.0f} cases/s   audit verify {check} "
        f"({result['verify_seconds']:.1f} s)",
        flush=True,
    )
    writer = result["writer_rss_mib"] > 0
    print(
        f"  {'':<28} CPU {result['cpu']:.1f} s"
        + (f" + writer process {result['writer_cpu']:.1f} s" if writer else "")
        + f"; peak RSS {result['rss_mib']:.0f} MiB"
        + (f" + writer process {result['writer_rss_mib']:.0f} MiB" if writer else ""),
        flush=True,
    )
    if not result["verified"]:
        print(f"    {result['verify_text']}")
    # Timed here rather than asserted in tests/demo/test_city.py: tests never assert on time.
    city_ok = result["city_seconds"] < CITY_TARGET_SECONDS
    print(f"  {'':<28} demo city (areas, units, staff) built in {result['city_seconds']:.1f} s "
          f"(target < {CITY_TARGET_SECONDS} s: {'met' if city_ok else 'NOT met'})", flush=True)


def verdict(rate: float, label: str) -> bool:
    """Print whether the time target is met. A missed target is said plainly but does
    not fail the run: only a wrong answer (an unverified history) does."""
    projected = TARGET_CASES / rate
    ok = projected < TARGET_SECONDS
    print(
        f"  {label}: 1,000,000 cases in {projected / 60:.1f} min at {rate:.0f} cases/s "
        f"(target < {TARGET_SECONDS // 60} min): {'met' if ok else 'NOT met'}"
    )
    return ok


def compare(vendor: str, batch: dict, base: dict) -> None:
    ratio = batch["rate"] / base["rate"]
    print(f"  {vendor}: batch {batch['rate']:.0f} cases/s vs per-move Store "
          f"{base['rate']:.0f} cases/s: {ratio:.1f}x")


class ScratchDatabase:
    """CREATE the scratch database on the server of `url`; DROP it on exit."""

    def __init__(self, url: str, name: str = SCRATCH_DB) -> None:
        parts = urlsplit(url)
        self.admin_url = urlunsplit(parts._replace(path="/postgres"))
        self.url = urlunsplit(parts._replace(path=f"/{name}"))
        self.name = name

    def _execute(self, sql: str) -> None:
        import psycopg
        from psycopg import sql as q

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(q.SQL(sql).format(q.Identifier(self.name)))

    def __enter__(self) -> str:
        self._execute("DROP DATABASE IF EXISTS {} WITH (FORCE)")
        self._execute("CREATE DATABASE {}")
        return self.url

    def __exit__(self, *exc: object) -> None:
        self._execute("DROP DATABASE IF EXISTS {} WITH (FORCE)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=10_000, help="cases for the main run")
    parser.add_argument("--baseline", type=int, default=500,
                        help="cases for the per-move Store baseline")
    parser.add_argument("--million", action="store_true", help="also run 1,000,000 cases")
    parser.add_argument("--postgres", metavar="URL",
                        help="also measure on this PostgreSQL server (scratch database "
                             f"{SCRATCH_DB!r} is created and dropped)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="batch", choices=["batch", "store"],
                        help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        return _child_main(args)

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"linge demo history: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
          f"load average {load} (other work on the machine slows every figure)")
    ok = True
    print(f"SQLite (fresh temporary database per run, --until {UNTIL[0]}-{UNTIL[1]:02d}-"
          f"{UNTIL[2]:02d}):", flush=True)
    base = measure(args.baseline, "store")
    show("per-move Store (baseline)", base)
    batch = measure(args.cases, "batch")
    show("BatchStore", batch)
    ok &= base["verified"] and batch["verified"]
    compare("SQLite", batch, base)
    verdict(batch["rate"], f"projected from {batch['cases']:,} cases")
    if args.million:
        print("SQLite, 1,000,000 cases (progress every 50,000):", flush=True)
        million = measure(TARGET_CASES, "batch")
        show("BatchStore", million)
        ok &= million["verified"]
        verdict(million["rate"], "measured")
        total = million["seconds"] + million["city_seconds"]
        print(f"  with migrate and the city: {total / 60:.1f} min")
    if args.postgres:
        with ScratchDatabase(args.postgres) as url:
            print(f"PostgreSQL ({url}, recreated per run):", flush=True)
            pg_base = measure(args.baseline, "store", url)
        show("per-move Store (baseline)", pg_base)
        with ScratchDatabase(args.postgres) as url:
            pg_batch = measure(args.cases, "batch", url)
        show("BatchStore", pg_batch)
        ok &= pg_base["verified"] and pg_batch["verified"]
        compare("PostgreSQL", pg_batch, pg_base)
        verdict(pg_batch["rate"], f"projected from {pg_batch['cases']:,} cases")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
