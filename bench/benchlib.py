"""What the benchmarks share: each measurement runs in a child process of its own (a
fresh interpreter, settings and database), prints its progress, and hands its figures
back on one line starting with RESULT."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULT = "RESULT "


def run_child(command: list[str], what: str) -> dict:
    """Run `command`, echo its output, return the JSON it printed after RESULT."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    result = None
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith(RESULT):
            result = json.loads(line[len(RESULT):])
        else:
            print(line, end="", flush=True)
    if process.wait() != 0 or result is None:
        raise SystemExit(f"measurement failed ({what}, exit {process.returncode})")
    return result


def hand_back(result: dict) -> None:
    """The child's last line: its figures for the parent."""
    print(RESULT + json.dumps(result), flush=True)


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, int(round(0.95 * len(ordered))) - 1)]


def timed(call, repeat: int) -> tuple[float, object]:
    """(p95 in ms over `repeat` calls after one untimed call, the last call's result).

    The untimed call warms what a running server has warm (the database's pages, the
    first query of its kind): with 10 samples a p95 is their maximum, which was the
    cold call alone."""
    call()
    samples, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = call()
        samples.append((time.perf_counter() - started) * 1000)
    return p95(samples), result


def table_bytes(*models) -> int:
    """The disk the models' tables take with their indexes (SQLite: dbstat)."""
    from django.db import connection

    tables = [model._meta.db_table for model in models]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            total = 0
            for table in tables:
                cursor.execute("SELECT pg_total_relation_size(%s)", [table])
                total += int(cursor.fetchone()[0] or 0)
            return total
        marks = ", ".join(["%s"] * len(tables))
        cursor.execute(f"SELECT SUM(pgsize) FROM dbstat WHERE name IN ({marks}) OR name IN "
                       f"(SELECT name FROM sqlite_master WHERE tbl_name IN ({marks}))",
                       [*tables, *tables])
        return int(cursor.fetchone()[0] or 0)
