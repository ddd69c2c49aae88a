"""Benchmark `linge worker`: outbox rows delivered per second, and the deadline sweep.

    python bench/bench_worker.py [--cases 2000]

A fresh temporary SQLite file; the test city; `--cases` resident reports made through
the workflow (each queues inbox notices for the grid team and an inbox + SMS notice for
the reporter, about 6 rows). Then one worker pass is timed (console SMS sender, which
records a Delivery row per key), and a second sweep over the same open cases, which
finds nothing new to do, after a first sweep 10 days later that
flags every case overdue (a workflow move each) and queues its reminders. The baseline is a plain loop that marks the same number of
rows sent with one UPDATE each (the least any delivery must cost).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=2000)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="linge-worker-")
    os.environ["LINGE_VAR_DIR"] = tmp
    os.environ["LINGE_DATABASE_URL"] = f"sqlite:///{tmp}/worker.sqlite3"
    os.environ["LINGE_LOG_LEVEL"] = "WARNING"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linge.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone
    from tests.conftest import build_city

    from linge.cases import workflow
    from linge.notify import worker
    from linge.notify.models import Outbox, Status

    call_command("migrate", verbosity=0)
    city = build_city()
    for i in range(args.cases):
        workflow.submit(city["resident"], category=city.plain, description=f"楼道堆物 {i}",
                        grid=city.grid)
    rows = Outbox.objects.count()
    t = time.perf_counter()
    total = 0
    while Outbox.objects.filter(status=Status.PENDING).exists():
        total += worker.run_once().sent
    elapsed = time.perf_counter() - t
    print(f"worker: {total} of {rows} rows in {elapsed:.1f} s = {total / elapsed:.0f} rows/s")
    Outbox.objects.update(status=Status.PENDING)
    ids = list(Outbox.objects.values_list("pk", flat=True))
    t = time.perf_counter()
    for pk in ids:
        Outbox.objects.filter(pk=pk).update(status=Status.SENT, sent_at=timezone.now())
    base = time.perf_counter() - t
    print(f"baseline (one UPDATE per row): {len(ids) / base:.0f} rows/s; "
          f"worker / baseline time = {elapsed / base:.1f}")
    later = timezone.now() + timedelta(days=10)  # every case overdue by then
    for label in ("first sweep (all overdue)", "second sweep (nothing new)"):
        t = time.perf_counter()
        tally = worker.Tally()
        worker.sweep_deadlines(tally, now=later)
        print(f"{label} of {args.cases} open cases: {time.perf_counter() - t:.2f} s "
              f"(warned {tally.warned}, flagged {tally.flagged})")


if __name__ == "__main__":
    main()
