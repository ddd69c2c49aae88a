"""Find the grid that contains a WGS-84 point, through an in-memory Shapely STRtree.

`GridIndex` is pure (no database): it holds the grid polygons twice, once in
longitude/latitude for the exact "inside" test and once projected to metres for the
nearest-grid fallback. `locate()` keeps one `GridIndex` per process, built lazily from
the grid rows of `Area`, rebuilt when `invalidate()` is called (every saved or deleted
area does) or when a fingerprint of the grid rows, compared at most every few seconds,
changes (so an import made by another process is seen too; see below).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

logger = logging.getLogger(__name__)

How = Literal["inside", "nearest", "outside"]

# WGS-84 ellipsoid, for the local radii of curvature of the equirectangular projection.
_WGS84_A = 6378137.0
_WGS84_E2 = 6.69437999014e-3

# Codes of `how` in the arrays returned by `GridIndex.query_arrays`.
INSIDE, NEAREST, OUTSIDE = 0, 1, 2
_HOW_NAMES: tuple[How, How, How] = ("inside", "nearest", "outside")


@dataclass(frozen=True, slots=True)
class LocateResult:
    """Where a point falls: in a grid, near one (within the fallback distance), or outside.

    `distance_m` is 0 when inside, the distance in metres to the grid when nearest, and
    infinity when outside (no grid within the fallback distance).
    """

    grid_id: int | None
    grid_code: str | None
    how: How
    distance_m: float


OUTSIDE_RESULT = LocateResult(None, None, "outside", math.inf)


@dataclass(frozen=True, slots=True)
class LocateArrays:
    """Vectorised results: index into the GridIndex items (-1 when outside), how, distance."""

    index: np.ndarray  # int64, position in GridIndex.ids / GridIndex.codes, -1 if outside
    how: np.ndarray  # int8, INSIDE / NEAREST / OUTSIDE
    distance_m: np.ndarray  # float64, 0 inside, metres nearest, inf outside


class LocalProjection:
    """Equirectangular projection to metres around a reference latitude.

    Uses the WGS-84 radii of curvature at that latitude, so distances of a few hundred
    metres within a county are right to well under one percent.
    """

    def __init__(self, lat0: float) -> None:
        phi = math.radians(lat0)
        w = math.sqrt(1.0 - _WGS84_E2 * math.sin(phi) ** 2)
        meridian_radius = _WGS84_A * (1.0 - _WGS84_E2) / w**3
        normal_radius = _WGS84_A / w
        self.lat0 = lat0
        self.kx = math.radians(1.0) * normal_radius * math.cos(phi)  # metres per degree lon
        self.ky = math.radians(1.0) * meridian_radius  # metres per degree lat

    def xy(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return lon * self.kx, lat * self.ky

    def geometries(self, geoms: np.ndarray) -> np.ndarray:
        """Project an array of lon/lat geometries to metres (one vectorised call)."""
        scale = np.array([self.kx, self.ky])
        return shapely.transform(geoms, lambda coords: coords * scale)


def as_geometry(value: BaseGeometry | Mapping[str, Any]) -> BaseGeometry:
    """A Shapely geometry from a Shapely geometry or a GeoJSON geometry mapping."""
    geom = value if isinstance(value, BaseGeometry) else shape(value)
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    return geom


def _valid_coords(lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
    return (
        np.isfinite(lons) & np.isfinite(lats)
        & (np.abs(lons) <= 180.0) & (np.abs(lats) <= 90.0)
    )


def _lowest_per_input(n: int, inputs: np.ndarray, tree_idx: np.ndarray) -> np.ndarray:
    """For each of n inputs, the lowest tree index among its hits (-1 without hits)."""
    best = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(best, inputs, tree_idx.astype(np.int64))
    best[best == np.iinfo(np.int64).max] = -1
    return best


class GridIndex:
    """Spatial index over grid polygons; `items` are (id, code, geometry) tuples.

    A geometry may be a Shapely geometry or a GeoJSON mapping in WGS-84 lon/lat. Items
    are ordered by code, so when a point lies on a border shared by several grids the
    grid with the lowest code wins, whatever the order of `items`.
    """

    def __init__(
        self,
        items: Iterable[tuple[int, str, BaseGeometry | Mapping[str, Any]]],
        fallback_m: float = 300.0,
    ) -> None:
        rows = sorted(
            ((code, grid_id, as_geometry(geom)) for grid_id, code, geom in items),
            key=lambda row: row[0],
        )
        rows = [row for row in rows if not row[2].is_empty]
        self.fallback_m = float(fallback_m)
        self.codes: list[str] = [code for code, _, _ in rows]
        self.ids: list[int] = [grid_id for _, grid_id, _ in rows]
        self.geometries = np.array([geom for _, _, geom in rows], dtype=object)
        lat0 = self._mean_latitude()
        self.projection = LocalProjection(lat0)
        self.tree = shapely.STRtree(self.geometries)
        self.metric_tree = shapely.STRtree(self.projection.geometries(self.geometries))
        self._build_cells()

    def __len__(self) -> int:
        return len(self.codes)

    def _mean_latitude(self) -> float:
        if not len(self.geometries):
            return 0.0
        bounds = shapely.bounds(self.geometries)
        return float(np.mean((bounds[:, 1] + bounds[:, 3]) / 2.0))

    def locate(self, lon: float, lat: float, fallback_m: float | None = None) -> LocateResult:
        """Locate one point; `fallback_m` overrides the index's fallback distance.

        Same answers as `locate_many`, through scalar tree queries (less overhead).
        """
        lon, lat = float(lon), float(lat)
        # Scalar checks: numpy arrays for one point cost more than the tree query.
        if not (self.codes and math.isfinite(lon) and math.isfinite(lat)
                and abs(lon) <= 180.0 and abs(lat) <= 90.0):
            return OUTSIDE_RESULT
        inside = self._inside(lon, lat)
        if inside >= 0:
            return self._result(inside, INSIDE, 0.0)
        limit = self.fallback_m if fallback_m is None else float(fallback_m)
        if limit <= 0 or self._beyond(lon, lat, limit):
            return OUTSIDE_RESULT
        x, y = self.projection.xy(np.array(lon), np.array(lat))
        near, dists = self.metric_tree.query_nearest(
            shapely.Point(x, y), max_distance=limit, return_distance=True, all_matches=True
        )
        if not len(near):
            return OUTSIDE_RESULT
        return self._result(int(near.min()), NEAREST, float(dists.min()))

    def _build_cells(self) -> None:
        """A regular raster over the polygons' extent, each cell listing (in code order) the
        polygons whose bounding box reaches it: one point is then tested against a few
        prepared polygons with no Point object and no tree query, which for one point at
        a time costs several times what the test itself does."""
        self._cells: list[tuple[np.ndarray, np.ndarray] | None] = []
        if not len(self):
            self._nx = self._ny = 0
            return
        shapely.prepare(self.geometries)
        bounds = shapely.bounds(self.geometries)
        self._x0, self._y0 = float(bounds[:, 0].min()), float(bounds[:, 1].min())
        self._x1, self._y1 = float(bounds[:, 2].max()), float(bounds[:, 3].max())
        width = max(float(bounds[:, 2].max()) - self._x0, 1e-9)
        height = max(float(bounds[:, 3].max()) - self._y0, 1e-9)
        side = max(1, min(1024, round(2 * math.sqrt(len(self)))))  # ~4 cells per polygon
        self._nx = self._ny = side
        self._kx, self._ky = side / width, side / height
        members: list[list[int]] = [[] for _ in range(side * side)]
        for k, (minx, miny, maxx, maxy) in enumerate(bounds.tolist()):
            # The same arithmetic as _cell(), so a point on a box's edge finds the box.
            x1, y1 = self._cell_x(minx), self._cell_y(miny)
            x2, y2 = self._cell_x(maxx), self._cell_y(maxy)
            for iy in range(y1, y2 + 1):
                row = iy * side
                for ix in range(x1, x2 + 1):
                    members[row + ix].append(k)
        for found in members:
            if found:
                ids = np.array(found, dtype=np.int64)  # ascending: lowest code first
                self._cells.append((ids, self.geometries[ids]))
            else:
                self._cells.append(None)

    def _cell_x(self, x: float) -> int:
        return min(max(int((x - self._x0) * self._kx), 0), self._nx - 1)

    def _cell_y(self, y: float) -> int:
        return min(max(int((y - self._y0) * self._ky), 0), self._ny - 1)

    def _beyond(self, lon: float, lat: float, limit: float) -> bool:
        """Farther than `limit` metres from the box around every polygon, in the projection
        the nearest-grid fallback measures in: no polygon can be within reach."""
        dx = max(self._x0 - lon, lon - self._x1, 0.0) * self.projection.kx
        dy = max(self._y0 - lat, lat - self._y1, 0.0) * self.projection.ky
        return dx > limit or dy > limit

    def _inside(self, lon: float, lat: float) -> int:
        """Position of the lowest-coded polygon containing the point (border included),
        or -1."""
        fx, fy = (lon - self._x0) * self._kx, (lat - self._y0) * self._ky
        if not (0.0 <= fx <= self._nx and 0.0 <= fy <= self._ny):
            return -1  # outside every bounding box
        cell = self._cells[self._cell_y(lat) * self._nx + self._cell_x(lon)]
        if cell is None:
            return -1
        ids, geometries = cell
        hits = shapely.intersects_xy(geometries, lon, lat)
        first = int(hits.argmax())
        return int(ids[first]) if hits[first] else -1

    def locate_many(
        self, points: Sequence[tuple[float, float]] | np.ndarray, fallback_m: float | None = None
    ) -> list[LocateResult]:
        """Locate many (lon, lat) points at once, with vectorised tree queries."""
        coords = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        found = self.query_arrays(coords[:, 0], coords[:, 1], fallback_m)
        result = self._result
        return [result(i, h, d) for i, h, d in
                zip(found.index.tolist(), found.how.tolist(), found.distance_m.tolist(), strict=True)]

    def _result(self, index: int, how: int, distance_m: float) -> LocateResult:
        if index < 0:
            return OUTSIDE_RESULT
        return LocateResult(self.ids[index], self.codes[index], _HOW_NAMES[how], distance_m)

    def query_arrays(
        self, lons: np.ndarray, lats: np.ndarray, fallback_m: float | None = None
    ) -> LocateArrays:
        """Vectorised core of `locate_many`: numpy arrays in, numpy arrays out."""
        lons = np.asarray(lons, dtype=np.float64)
        lats = np.asarray(lats, dtype=np.float64)
        n = len(lons)
        index = np.full(n, -1, dtype=np.int64)
        how = np.full(n, OUTSIDE, dtype=np.int8)
        distance = np.full(n, np.inf, dtype=np.float64)
        valid = np.flatnonzero(_valid_coords(lons, lats))
        if not len(self) or not len(valid):
            return LocateArrays(index, how, distance)
        points = shapely.points(lons[valid], lats[valid])
        inputs, tree_idx = self.tree.query(points, predicate="intersects")
        inside = _lowest_per_input(len(valid), inputs, tree_idx)
        hit = inside >= 0
        index[valid[hit]] = inside[hit]
        how[valid[hit]] = INSIDE
        distance[valid[hit]] = 0.0
        limit = self.fallback_m if fallback_m is None else float(fallback_m)
        missed = valid[~hit]
        if len(missed) and limit > 0:
            self._nearest(lons[missed], lats[missed], limit, missed, index, how, distance)
        return LocateArrays(index, how, distance)

    def _nearest(
        self,
        lons: np.ndarray,
        lats: np.ndarray,
        limit: float,
        where: np.ndarray,
        index: np.ndarray,
        how: np.ndarray,
        distance: np.ndarray,
    ) -> None:
        """Fill in the nearest grid within `limit` metres for the points at `where`."""
        xs, ys = self.projection.xy(lons, lats)
        points = shapely.points(xs, ys)
        (inputs, tree_idx), dists = self.metric_tree.query_nearest(
            points, max_distance=limit, return_distance=True, all_matches=True
        )
        if not len(inputs):
            return
        nearest = _lowest_per_input(len(where), inputs, tree_idx)
        near_dist = np.full(len(where), np.inf)
        np.minimum.at(near_dist, inputs, dists)
        hit = nearest >= 0
        index[where[hit]] = nearest[hit]
        how[where[hit]] = NEAREST
        distance[where[hit]] = near_dist[hit]


# ---------------------------------------------------------------------------
# The per-process index built from the database.
#
# Freshness: locate() itself runs no query. In this process every save or delete of an
# Area (admin, shell, an import's updates) calls invalidate() at once and again when its
# transaction commits (areas/apps.py connects the signals); imports, whose bulk inserts
# send no signals, call it on commit too. Another process (`linge import-areas` next to
# the web workers) cannot reach this one, so at most every FULL_CHECK_SECONDS the next
# locate() compares fingerprints of the grid rows: count and highest id (grids added or
# removed) and the sums of the grid centres, which an import resets from each boundary
# (grids redrawn). A change made elsewhere is therefore seen within that delay.

FULL_CHECK_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class _Cached:
    index: GridIndex
    quick: tuple[Any, ...]
    full: tuple[Any, ...]
    checked_at: float


_lock = threading.Lock()
_cached: _Cached | None = None
_generation = 0  # bumped by invalidate(), so a build that raced with it is not kept


def invalidate(*_args: Any, **_kwargs: Any) -> None:
    """Drop the cached index; the next `locate()` rebuilds it from the database. Takes
    and ignores a signal's arguments."""
    global _cached, _generation
    with _lock:
        _cached = None
        _generation += 1


def area_changed(sender: Any, using: str = "default", **_kwargs: Any) -> None:
    """post_save / post_delete of an Area: drop the index now (this thread may locate
    before it commits) and once more on commit (another thread may have rebuilt it from
    what was committed before)."""
    from django.db import transaction

    invalidate()
    transaction.on_commit(invalidate, using=using)


def cached_index() -> GridIndex | None:
    """The index currently cached in this process, if any (for tests and diagnostics)."""
    cached = _cached
    return cached.index if cached else None


def _grid_rows():
    from linge.areas.models import Area, Level

    return Area.objects.filter(level=Level.GRID)


def quick_fingerprint() -> tuple[Any, ...]:
    """Count and highest id of the grid rows: changes when grids are added or removed."""
    from django.db.models import Count, Max

    row = _grid_rows().aggregate(count=Count("id"), max_id=Max("id"))
    return (row["count"], row["max_id"])


def full_fingerprint() -> tuple[Any, ...]:
    """Also the sums of the grid centres in integer micro-degrees (exact, so the same on
    every call): changes when a grid is redrawn, since imports set its centre."""
    from django.db.models import BigIntegerField, Count, F, Max, Sum
    from django.db.models.functions import Cast

    def micro(field: str) -> Sum:
        return Sum(Cast(F(field) * 1_000_000, BigIntegerField()))

    row = _grid_rows().filter(boundary__isnull=False).aggregate(
        count=Count("id"), max_id=Max("id"), lon=micro("center_lon"), lat=micro("center_lat")
    )
    return (row["count"], row["max_id"], row["lon"], row["lat"])


def grid_items() -> list[tuple[int, str, BaseGeometry]]:
    """(id, code, polygon) of every grid with a usable boundary.

    Boundaries are fetched as JSON text and parsed by GEOS in one vectorised call,
    several times faster than decoding 10,000 dicts in Python and calling shape().
    """
    from django.db.models import TextField
    from django.db.models.functions import Cast

    rows = list(
        _grid_rows().filter(boundary__isnull=False)
        .annotate(geojson=Cast("boundary", TextField()))
        .values_list("id", "code", "geojson")
    )
    texts = np.array([text for _, _, text in rows], dtype=object)
    geometries = shapely.from_geojson(texts, on_invalid="ignore") if rows else []
    items = []
    for (grid_id, code, _), geom in zip(rows, geometries, strict=True):
        if geom is None or geom.geom_type not in ("Polygon", "MultiPolygon") or geom.is_empty:
            logger.warning("locate: grid %s has no usable boundary; left out", code)
            continue
        items.append((grid_id, code, geom))
    return items


def build_index() -> GridIndex:
    """A fresh GridIndex over every grid with a boundary."""
    from django.conf import settings

    return GridIndex(grid_items(), fallback_m=settings.LINGE_LOCATE_FALLBACK_M)


def _still_fresh(cached: _Cached, now: float) -> tuple[bool, tuple[Any, ...] | None]:
    """(fresh, quick fingerprint if it was read): no query within FULL_CHECK_SECONDS of
    the last check, both fingerprints after it."""
    global _cached
    if now - cached.checked_at < FULL_CHECK_SECONDS:
        return True, None
    quick = quick_fingerprint()
    if quick != cached.quick or full_fingerprint() != cached.full:
        return False, quick
    with _lock:
        if _cached is cached:
            _cached = _Cached(cached.index, cached.quick, cached.full, now)
    return True, quick


def get_index() -> GridIndex:
    """The cached index, rebuilt when invalidated or when the grid rows changed."""
    global _cached
    now = time.monotonic()
    cached, generation = _cached, _generation
    quick = None
    if cached is not None:
        fresh, quick = _still_fresh(cached, now)
        if fresh:
            return cached.index
    if quick is None:
        quick = quick_fingerprint()
    full = full_fingerprint()
    index = build_index()
    with _lock:
        if generation == _generation:
            _cached = _Cached(index, quick, full, now)
    return index


def locate(lon: float, lat: float) -> LocateResult:
    """The grid containing (lon, lat) in WGS-84, else the nearest one within
    settings.LINGE_LOCATE_FALLBACK_M metres, else an "outside" result."""
    from django.conf import settings

    return get_index().locate(lon, lat, settings.LINGE_LOCATE_FALLBACK_M)


def locate_many(points: Sequence[tuple[float, float]]) -> list[LocateResult]:
    """`locate()` for many (lon, lat) points, with one freshness check."""
    from django.conf import settings

    return get_index().locate_many(points, settings.LINGE_LOCATE_FALLBACK_M)
