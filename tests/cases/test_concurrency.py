"""Two writers at once: a double-clicked submit makes one case; numbers never repeat;
the event chain stays whole. Real threads, real connections (transactional DB)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from linge.cases import workflow
from linge.cases.chain import verify_chain
from linge.cases.models import Case
from tests.conftest import build_city

pytestmark = pytest.mark.django_db(transaction=True)


def run_together(count: int, work) -> list:
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def target(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as error:  # reported to the test below
            results[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_double_submit_makes_one_case() -> None:
    city = build_city()
    results = run_together(4, lambda i: workflow.submit(
        city["resident"], category=city.plain, description="双击提交", grid=city.grid,
        submit_key="same-key"))
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors
    assert len({r.case.pk for r in results}) == 1
    assert sum(r.created for r in results) == 1
    assert Case.objects.count() == 1
    assert verify_chain()[1] is None


def test_parallel_reports_get_distinct_numbers() -> None:
    city = build_city()
    results = run_together(6, lambda i: workflow.submit(
        city["resident"], category=city.plain, description=f"同时上报{i}", grid=city.grid).case)
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors
    numbers = sorted(case.number for case in results)
    assert len(set(numbers)) == 6
    assert verify_chain() == (6, None)
