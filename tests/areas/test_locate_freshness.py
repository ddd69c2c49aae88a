"""locate() as the views call it runs no query; the index still follows every change:
at once for a change made in this process, within FULL_CHECK_SECONDS for another's."""

from __future__ import annotations

import pytest

from linge.areas import locate as locate_module
from linge.areas.locate import locate
from linge.areas.models import Area, Level
from tests.areas.conftest import GRID_A, GRID_B, box, make_area

LAT = 28.305
pytestmark = pytest.mark.django_db


@pytest.fixture
def grids(tree) -> dict[str, Area]:
    return {"a": make_area(GRID_A, "上墩村第1网格", Level.GRID, tree["village"], box(0, 0)),
            "b": make_area(GRID_B, "上墩村第2网格", Level.GRID, tree["village"], box(1, 0))}


def test_no_query_per_call(grids, django_assert_num_queries) -> None:
    assert locate(121.305, LAT).grid_code == GRID_A  # builds the index
    with django_assert_num_queries(0):
        for _ in range(20):
            assert locate(121.315, LAT).grid_code == GRID_B


def test_after_the_delay_one_check_and_no_rebuild(grids, monkeypatch,
                                                  django_assert_num_queries) -> None:
    locate(121.305, LAT)
    index = locate_module.cached_index()
    monkeypatch.setattr(locate_module, "FULL_CHECK_SECONDS", 0.0)
    with django_assert_num_queries(2):  # the two fingerprints, nothing rebuilt
        assert locate(121.315, LAT).grid_code == GRID_B
    assert locate_module.cached_index() is index


def test_a_grid_saved_here_is_seen_at_once(grids) -> None:
    assert locate(121.305, LAT).grid_code == GRID_A
    grids["a"].boundary = box(0, 3)
    grids["a"].save()
    assert locate_module.cached_index() is None
    assert locate(121.305, LAT).how == "outside"
    assert locate(121.305, 28.335).grid_code == GRID_A


def test_a_grid_added_or_deleted_here_is_seen_at_once(grids) -> None:
    assert locate(121.325, LAT).how == "outside"
    make_area("331081107001003", "上墩村第3网格", Level.GRID, grids["a"].parent, box(2, 0))
    assert locate(121.325, LAT).grid_code == "331081107001003"
    grids["b"].delete()
    assert locate(121.315, LAT).grid_code != GRID_B


def test_another_process_is_seen_only_after_the_delay(grids, monkeypatch) -> None:
    assert locate(121.315, LAT).grid_code == GRID_B
    Area.objects.filter(pk=grids["b"].pk).delete()  # a queryset delete still sends signals
    assert locate(121.315, LAT).grid_code != GRID_B
    # A row added with a raw insert sends none: seen after FULL_CHECK_SECONDS only.
    Area.objects.bulk_create([Area(code=GRID_B, name="上墩村第2网格", level=Level.GRID,
                                   parent=grids["a"].parent, boundary=box(1, 0))])
    assert locate(121.315, LAT).grid_code != GRID_B
    monkeypatch.setattr(locate_module, "FULL_CHECK_SECONDS", 0.0)
    assert locate(121.315, LAT).grid_code == GRID_B
