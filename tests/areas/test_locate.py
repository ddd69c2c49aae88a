"""locate(): inside, on shared borders, nearest fallback, outside, and index freshness."""

from __future__ import annotations

import math

import pytest
from shapely.geometry import shape

from linge.areas import locate as locate_module
from linge.areas.importers import import_areas
from linge.areas.locate import GridIndex, LocateResult, locate
from linge.areas.models import Area, Level
from tests.areas.conftest import GRID_A, GRID_B, VILLAGE, box, feature, make_area, write_geojson

EARTH_RADIUS_M = 6_371_008.8
LAT = 28.305  # mid-height of the test grids


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


@pytest.fixture
def grids(tree) -> dict[str, Area]:
    # Created B before A, so neither id order nor insertion order matches code order.
    b = make_area(GRID_B, "上墩村第2网格", Level.GRID, tree["village"], box(1, 0))
    a = make_area(GRID_A, "上墩村第1网格", Level.GRID, tree["village"], box(0, 0))
    return {"a": a, "b": b}


@pytest.mark.django_db
def test_inside(grids):
    assert locate(121.305, LAT) == LocateResult(grids["a"].pk, GRID_A, "inside", 0.0)
    assert locate(121.315, LAT) == LocateResult(grids["b"].pk, GRID_B, "inside", 0.0)


@pytest.mark.django_db
@pytest.mark.parametrize("point", [(121.31, LAT), (121.31, 28.3), (121.31, 28.31)])
def test_shared_border_picks_lowest_code(grids, point):
    result = locate(*point)
    assert (result.grid_code, result.how, result.distance_m) == (GRID_A, "inside", 0.0)
    assert result.grid_id == grids["a"].pk


@pytest.mark.django_db
def test_outer_edge_counts_as_inside(grids):
    assert locate(121.32, LAT).how == "inside"
    assert locate(121.32, LAT).grid_code == GRID_B


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("lon", "lat", "edge_lon", "edge_lat", "code"),
    [
        (121.322, LAT, 121.32, LAT, GRID_B),  # east of B, ~196 m
        (121.305, 28.3125, 121.305, 28.31, GRID_A),  # north of A, ~277 m
        (121.2985, 28.2988, 121.30, 28.30, GRID_A),  # south-west of A's corner
    ],
)
def test_nearest_within_fallback(grids, lon, lat, edge_lon, edge_lat, code):
    expected = haversine_m(lon, lat, edge_lon, edge_lat)
    assert expected < 300
    result = locate(lon, lat)
    assert (result.grid_code, result.how) == (code, "nearest")
    assert result.distance_m == pytest.approx(expected, rel=0.02)


@pytest.mark.django_db
def test_outside_beyond_fallback(grids):
    assert haversine_m(121.325, LAT, 121.32, LAT) > 300
    result = locate(121.325, LAT)
    assert result == LocateResult(None, None, "outside", math.inf)


@pytest.mark.django_db
def test_fallback_distance_follows_settings(grids, settings):
    settings.LINGE_LOCATE_FALLBACK_M = 1000
    assert locate(121.325, LAT).how == "nearest"
    settings.LINGE_LOCATE_FALLBACK_M = 0
    assert locate(121.322, LAT).how == "outside"


@pytest.mark.django_db
@pytest.mark.parametrize("point", [(math.nan, LAT), (121.305, math.inf), (500.0, LAT), (0.0, 0.0)])
def test_nonsense_points_are_outside(grids, point):
    assert locate(*point).how == "outside"


@pytest.mark.django_db
def test_no_grids_is_outside(tree):
    assert locate(121.305, LAT).how == "outside"


@pytest.mark.django_db
def test_new_grid_seen_without_invalidate(grids):
    assert locate(121.325, LAT).how == "outside"
    make_area("331081107001003", "上墩村第3网格", Level.GRID, grids["a"].parent, box(2, 0))
    assert locate(121.325, LAT).grid_code == "331081107001003"


@pytest.mark.django_db
def test_redrawn_grid_seen_after_invalidate(grids):
    a = grids["a"]
    assert locate(121.305, LAT).grid_code == GRID_A
    a.boundary = box(0, 3)
    a.save()
    locate_module.invalidate()
    assert locate(121.305, LAT).grid_code is None
    assert locate(121.305, 28.335).grid_code == GRID_A


@pytest.mark.django_db
def test_import_invalidates_index_on_commit(grids, tmp_path, django_capture_on_commit_callbacks):
    assert locate(121.305, LAT).grid_code == GRID_A
    index_before = locate_module.get_index()
    path = write_geojson(tmp_path / "moved.geojson", [
        feature(GRID_A, "上墩村第1网格", "grid", VILLAGE, box(0, 1)),
    ])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        import_areas(path)
    assert locate_module.invalidate in callbacks
    assert locate_module.cached_index() is None
    assert locate(121.305, LAT).grid_code is None  # A moved north; the old place is empty
    assert locate(121.305, 28.315).grid_code == GRID_A
    assert locate_module.get_index() is not index_before


@pytest.mark.django_db
def test_redrawn_grid_seen_through_full_fingerprint(grids, monkeypatch):
    # An import in another process cannot call our invalidate(); the centres it sets
    # change the full fingerprint, checked at most every FULL_CHECK_SECONDS. A queryset
    # update plays that process: it sends no signal to this one.
    assert locate(121.305, LAT).grid_code == GRID_A
    moved = box(0, 1)
    centre = shape(moved).centroid
    Area.objects.filter(code=GRID_A).update(boundary=moved, center_lon=centre.x,
                                            center_lat=centre.y)
    assert locate(121.305, LAT).grid_code == GRID_A  # within the delay: the old outline
    monkeypatch.setattr(locate_module, "FULL_CHECK_SECONDS", 0.0)
    assert locate(121.305, LAT).grid_code is None
    assert locate(121.305, 28.315).grid_code == GRID_A


@pytest.mark.django_db
def test_index_is_cached(grids, django_assert_max_num_queries):
    locate(121.305, LAT)
    with django_assert_max_num_queries(1):  # only the quick fingerprint
        assert locate(121.315, LAT).grid_code == GRID_B


# GridIndex on its own: no database.


def _index(fallback_m: float = 300.0) -> GridIndex:
    return GridIndex([(2, GRID_B, box(1, 0)), (1, GRID_A, shape(box(0, 0)))], fallback_m)


def test_grid_index_locate_many_matches_locate():
    index = _index()
    points = [(121.305, LAT), (121.31, LAT), (121.315, LAT), (121.322, LAT), (121.4, LAT),
              (math.nan, math.nan)]
    many = index.locate_many(points)
    assert many == [index.locate(lon, lat) for lon, lat in points]
    assert [r.how for r in many] == ["inside", "inside", "inside", "nearest", "outside", "outside"]
    assert [r.grid_id for r in many] == [1, 1, 2, 2, None, None]


def test_grid_index_empty():
    assert GridIndex([]).locate(121.305, LAT).how == "outside"
    assert GridIndex([]).locate_many([]) == []


def test_grid_index_hole_and_multipolygon():
    ring = box(0, 0, 3 * 0.01)["coordinates"][0]
    hole = box(1, 1)["coordinates"][0]
    donut = {"type": "Polygon", "coordinates": [ring, hole]}
    pair = {"type": "MultiPolygon",
            "coordinates": [box(1, 1)["coordinates"], box(5, 5)["coordinates"]]}
    index = GridIndex([(1, "331081107001001", donut), (2, "331081107001002", pair)])
    assert index.locate(121.315, 28.315).grid_id == 2  # in the hole, filled by the pair
    assert index.locate(121.355, 28.355).grid_id == 2  # the pair's other part
    assert index.locate(121.305, 28.305).grid_id == 1


def test_grid_index_equidistant_nearest_picks_lowest_code():
    index = GridIndex([(2, GRID_B, box(1, 0)), (1, GRID_A, box(0, 0))])
    # Just south of the shared corner: equally near both grids.
    result = index.locate(121.31, 28.299)
    assert (result.grid_id, result.how) == (1, "nearest")


@pytest.mark.django_db
def test_grid_with_unusable_boundary_left_out(grids, caplog):
    make_area("331081107001003", "坏网格", Level.GRID, grids["a"].parent,
              {"type": "Point", "coordinates": [121.325, LAT]})
    make_area("331081107001004", "坏网格2", Level.GRID, grids["a"].parent, {"type": "Polygon"})
    assert locate(121.305, LAT).grid_code == GRID_A
    assert "331081107001003" in caplog.text and "331081107001004" in caplog.text


@pytest.mark.django_db
def test_module_locate_many(grids):
    results = locate_module.locate_many([(121.305, LAT), (121.315, LAT), (121.4, LAT)])
    assert [r.grid_code for r in results] == [GRID_A, GRID_B, None]
