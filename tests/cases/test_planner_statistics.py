"""cases.jobs.refresh_planner_statistics: the worker keeps SQLite's planner statistics
up to date, as PostgreSQL's autovacuum does its own."""

from __future__ import annotations

import fcntl
import os
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from linge.cases import jobs
from linge.cases.models import Case, Source, State
from linge.notify import worker
from linge.notify.worker import Tally
from linge.people.models import Unit, UnitKind

pytestmark = pytest.mark.django_db


def _rows_counted(index: str) -> int | None:
    """The row count sqlite_stat1 holds for an index (None before any ANALYZE)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
        if cursor.fetchone() is None:
            return None
        cursor.execute("SELECT stat FROM sqlite_stat1 WHERE idx = %s", [index])
        row = cursor.fetchone()
    return int(row[0].split()[0]) if row else None


def _add_cases(city, count: int) -> None:
    now = timezone.now()
    team = Unit.objects.get(kind=UnitKind.GRID_TEAM, area=city.grid)
    first = Case.objects.count()
    Case.objects.bulk_create([
        Case(number=f"20000103-{first + i:06d}", source=Source.RESIDENT_PAGE, category=city.category,
             description="路灯不亮", grid=city.grid, village_id=city.village.pk,
             town_id=city.town.pk, owner_unit=team, state=State.CLOSED, created_at=now - timedelta(minutes=i),
             updated_at=now)
        for i in range(count)
    ], batch_size=2000)


@pytest.fixture(autouse=True)
def _forget_last_run():
    jobs._statistics_at.clear()
    yield
    jobs._statistics_at.clear()


@pytest.mark.database("sqlite")
def test_the_worker_brings_stale_statistics_up_to_date(city) -> None:
    _add_cases(city, 20)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    assert _rows_counted("case_grid_new") == 20
    _add_cases(city, 5000)  # the statistics still say 20 rows
    assert _rows_counted("case_grid_new") == 20

    worker.run_once()  # as `linge worker` runs its jobs

    counted = _rows_counted("case_grid_new")
    assert counted is not None and counted >= 4000  # sampled: an estimate near 5,020


@pytest.mark.database("sqlite")
def test_at_most_once_an_hour(city) -> None:
    now = timezone.now()
    assert jobs.refresh_planner_statistics(Tally(), now) is True
    _add_cases(city, 300)
    assert jobs.refresh_planner_statistics(Tally(), now + timedelta(minutes=59)) is False
    assert _rows_counted("case_grid_new") in (None, 0)  # not run again: as before the cases
    assert jobs.refresh_planner_statistics(Tally(), now + timedelta(minutes=61)) is True
    assert _rows_counted("case_grid_new") == 300


@pytest.mark.database("sqlite")
@pytest.mark.django_db(transaction=True)
def test_analyze_queues_with_the_other_writers(city) -> None:
    """ANALYZE writes sqlite_stat1: it takes the writers' file lock like any write."""
    import threading

    fd = os.open(f"{connection.settings_dict['NAME']}-writer.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    done = []

    def analyze() -> None:
        try:
            done.append(jobs.refresh_planner_statistics(Tally()))
        finally:
            connection.close()

    thread = threading.Thread(target=analyze, daemon=True)
    try:
        thread.start()
        thread.join(0.5)
        assert thread.is_alive() and not done
    finally:
        os.close(fd)
    thread.join(10)
    assert done == [True]


@pytest.mark.database("postgresql")
def test_postgresql_keeps_its_own(city) -> None:
    assert jobs.refresh_planner_statistics(Tally()) is False
