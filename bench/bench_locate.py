"""Benchmark GridIndex (STRtree) against a naive linear scan over the same grid polygons.

    python bench/bench_locate.py [--grids 10000] [--points 200000] [--sample 200]

No database: 10,000 grid polygons tile a region the size of 温岭 (121.1–121.6 E,
28.1–28.6 N, about 49 × 55 km, so each grid is about 490 × 550 m). The tiling is a
jittered lattice whose edges are wiggly polylines shared by both neighbours, so each
polygon has 36 vertices and neighbouring grids share their borders exactly. Random
points cover the region plus a 2 km margin, so some fall back to the nearest grid and
some are outside.

The naive scan (for each point, test every polygon in code order with `covers`, then
the nearest polygon in metres if none covers it) is far too slow to run on every
point; it is timed on a small sample and its rate extrapolated, as printed.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from linge.areas.locate import GridIndex, LocalProjection, LocateResult  # noqa: E402

WEST, SOUTH, EAST, NORTH = 121.1, 28.1, 121.6, 28.6
MARGIN_DEG = 0.02  # about 2 km
FALLBACK_M = 300.0
TARGET_PER_S = 100_000
WIGGLES = 8  # intermediate points on each edge


def lattice(side: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Corner coordinates of a side × side tiling, jittered by up to 20 % of a cell."""
    dx, dy = (EAST - WEST) / side, (NORTH - SOUTH) / side
    xs, ys = np.meshgrid(WEST + np.arange(side + 1) * dx, SOUTH + np.arange(side + 1) * dy)
    inner = (slice(1, -1), slice(1, -1))  # keep the outer boundary straight
    xs[inner] += rng.uniform(-0.2, 0.2, xs[inner].shape) * dx
    ys[inner] += rng.uniform(-0.2, 0.2, ys[inner].shape) * dy
    return xs, ys


def wiggly_edge(a: np.ndarray, b: np.ndarray, rng: np.random.Generator, outer: bool) -> np.ndarray:
    """Points from a to b (a included, b excluded), pushed sideways by up to 6 % unless
    the edge is on the region's outer boundary."""
    t = np.linspace(0.0, 1.0, WIGGLES + 2)[:-1]
    points = a + np.outer(t, b - a)
    normal = np.array([a[1] - b[1], b[0] - a[0]])
    offsets = np.zeros(len(t)) if outer else rng.uniform(-0.06, 0.06, len(t))
    offsets[0] = 0.0
    return points + np.outer(offsets, normal)


def grid_polygons(side: int, seed: int = 7) -> list[tuple[int, str, shapely.Polygon]]:
    """side × side polygons tiling the region, as (id, code, polygon) items."""
    rng = np.random.default_rng(seed)
    xs, ys = lattice(side, rng)
    corner = lambda i, j: np.array([xs[i, j], ys[i, j]])  # noqa: E731
    edges: dict[tuple[tuple[int, int], tuple[int, int]], np.ndarray] = {}

    def edge(p: tuple[int, int], q: tuple[int, int]) -> np.ndarray:
        if (q, p) in edges:  # the neighbour drew it: same points, reversed
            reverse = edges[(q, p)]
            return np.vstack([corner(*p), reverse[:0:-1]])
        outer = (p[0] == q[0] in (0, side)) or (p[1] == q[1] in (0, side))
        edges[(p, q)] = wiggly_edge(corner(*p), corner(*q), rng, outer)
        return edges[(p, q)]

    items = []
    for i in range(side):
        for j in range(side):
            ring = [(i, j), (i, j + 1), (i + 1, j + 1), (i + 1, j)]
            coords = np.vstack([edge(ring[k], ring[(k + 1) % 4]) for k in range(4)])
            n = i * side + j
            code = f"331081{n // 10000 + 1:03d}{n // 100 % 100 + 1:03d}{n % 100 + 1:03d}"
            items.append((n + 1, code, shapely.Polygon(coords)))
    return items


def border_points(items: list[tuple[int, str, shapely.Polygon]], count: int,
                  seed: int = 13) -> np.ndarray:
    """Vertices of random polygons: points on borders shared by two to four grids."""
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(items), count)
    return np.array([items[k][2].exterior.coords[int(rng.integers(0, 36))] for k in picks])


def random_points(count: int, seed: int = 11) -> np.ndarray:
    rng = np.random.default_rng(seed)
    lons = rng.uniform(WEST - MARGIN_DEG, EAST + MARGIN_DEG, count)
    lats = rng.uniform(SOUTH - MARGIN_DEG, NORTH + MARGIN_DEG, count)
    return np.column_stack([lons, lats])


class NaiveScan:
    """Reference answer: a Python loop over every polygon, no spatial index."""

    def __init__(self, items: list[tuple[int, str, shapely.Polygon]], lat0: float) -> None:
        self.items = sorted(items, key=lambda item: item[1])
        self.projection = LocalProjection(lat0)
        polygons = np.array([polygon for _, _, polygon in self.items], dtype=object)
        self.metric = list(self.projection.geometries(polygons))

    def locate(self, lon: float, lat: float) -> LocateResult:
        point = shapely.Point(lon, lat)
        for grid_id, code, polygon in self.items:
            if polygon.covers(point):
                return LocateResult(grid_id, code, "inside", 0.0)
        x, y = self.projection.xy(np.array(lon), np.array(lat))
        metric_point = shapely.Point(float(x), float(y))
        best = min(range(len(self.items)), key=lambda k: (self.metric[k].distance(metric_point), k))
        distance = self.metric[best].distance(metric_point)
        if distance > FALLBACK_M:
            return LocateResult(None, None, "outside", math.inf)
        grid_id, code, _ = self.items[best]
        return LocateResult(grid_id, code, "nearest", distance)


def timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - start


def best_of(runs: int, function, *args):
    """The result and the shortest time of `runs` calls (timings on a busy machine vary)."""
    best = math.inf
    for _ in range(runs):
        result, seconds = timed(function, *args)
        best = min(best, seconds)
    return result, best


def same(a: LocateResult, b: LocateResult) -> bool:
    if (a.grid_id, a.grid_code, a.how) != (b.grid_id, b.grid_code, b.how):
        return False
    return a.distance_m == b.distance_m or math.isclose(a.distance_m, b.distance_m, rel_tol=1e-9)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--grids", type=int, default=10_000, help="number of grids (a square)")
    parser.add_argument("--points", type=int, default=200_000)
    parser.add_argument("--sample", type=int, default=200, help="points for the naive scan")
    parser.add_argument("--single", type=int, default=5_000, help="points for single locate()")
    args = parser.parse_args()
    side = round(math.sqrt(args.grids))

    items, seconds = timed(grid_polygons, side)
    polygons = [polygon for _, _, polygon in items]
    assert all(shapely.is_valid(polygons)), "generated an invalid polygon"
    cover = sum(p.area for p in polygons) / ((EAST - WEST) * (NORTH - SOUTH))
    print(f"grids: {len(items):,} polygons of {len(polygons[0].exterior.coords) - 1} vertices, "
          f"areas sum to {cover:.9f} of the region (a tiling), made in {seconds:.2f} s")

    index, seconds = timed(GridIndex, items, FALLBACK_M)
    print(f"GridIndex built in {seconds:.2f} s")

    points = random_points(args.points)
    results, seconds = best_of(3, index.locate_many, points)
    many_rate = len(points) / seconds
    hows = {how: sum(r.how == how for r in results) for how in ("inside", "nearest", "outside")}
    print(f"GridIndex.locate_many: {len(points):,} points in {seconds:.2f} s (best of 3) "
          f"= {many_rate:,.0f} points/s  ({', '.join(f'{k} {v:,}' for k, v in hows.items())})")
    _, seconds = best_of(3, index.query_arrays, points[:, 0], points[:, 1])
    print(f"GridIndex.query_arrays (numpy out, no result objects): {len(points) / seconds:,.0f} "
          "points/s (best of 3)")

    single = points[: args.single]
    start = time.perf_counter()
    singles = [index.locate(lon, lat) for lon, lat in single]
    single_rate = len(single) / (time.perf_counter() - start)
    print(f"GridIndex.locate (one point per call): {single_rate:,.0f} points/s over {len(single):,} calls")
    assert singles == results[: len(single)], "locate() and locate_many() disagree"

    naive = NaiveScan(items, index.projection.lat0)
    sample = points[: args.sample]
    start = time.perf_counter()
    expected = [naive.locate(lon, lat) for lon, lat in sample]
    naive_rate = len(sample) / (time.perf_counter() - start)
    print(f"naive linear scan: {naive_rate:,.1f} points/s, measured on a sample of {len(sample)} "
          f"points and extrapolated (200,000 points would take {args.points / naive_rate / 60:,.0f} min)")

    # Same answers on the timed sample, plus shared-border points where ties are broken.
    borders = border_points(items, args.sample // 4)
    expected += [naive.locate(lon, lat) for lon, lat in borders]
    got = results[: len(sample)] + index.locate_many(borders)
    assert got[len(sample):] == [index.locate(lon, lat) for lon, lat in borders]
    checked = np.vstack([sample, borders])
    mismatches = [k for k in range(len(checked)) if not same(expected[k], got[k])]
    hows = {how: sum(r.how == how for r in expected) for how in ("inside", "nearest", "outside")}
    print(f"same answers as the naive scan: {'yes' if not mismatches else 'NO'} "
          f"({len(checked) - len(mismatches)}/{len(checked)} points: the {len(sample)} timed "
          f"+ {len(borders)} polygon vertices on shared borders; "
          f"{', '.join(f'{k} {v}' for k, v in hows.items())})")
    for k in mismatches[:5]:
        print(f"  point {tuple(checked[k])}: index {got[k]}, naive {expected[k]}")

    print(f"speed-up of locate_many over the naive scan: {many_rate / naive_rate:,.0f}×")
    met = many_rate >= TARGET_PER_S
    print(f"target ≥ {TARGET_PER_S:,} points/s: {'met' if met else 'NOT met'} ({many_rate:,.0f} points/s)")
    return 0 if met and not mismatches else 1


if __name__ == "__main__":
    sys.exit(main())
