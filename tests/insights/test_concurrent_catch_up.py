"""Two workers folding at once fold every event once: the mark row is locked first."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from linge.insights import rollups
from tests.insights.histories import History
from tests.insights.test_figures_brute_force import check_everything, snapshot


@pytest.mark.database("postgresql")  # two connections writing at once
def test_two_workers_at_once(transactional_db, city) -> None:
    history = History(city, 31)
    history.play(40)
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def worker() -> None:
        try:
            start.wait()
            while rollups.catch_up(limit=11):
                pass
        except BaseException as error:  # reported by the main thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    check_everything(city, history)
    folded = snapshot()
    rollups.rebuild()
    assert snapshot() == folded
