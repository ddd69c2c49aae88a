"""Benchmark `locate()` as the views call it against a vectorised scan of the same polygons.

    python bench/bench_locate.py [--grids 10000] [--points 50000] [--sample 1000]

10,000 grid polygons, written as Area rows to a scratch SQLite database, tile a region the size of 温岭 (121.1–121.6 E,
28.1–28.6 N, about 49 × 55 km, so each grid is about 490 × 550 m). The tiling is a
jittered lattice whose edges are wiggly polylines shared by both neighbours, so each
polygon has 36 vertices and neighbouring grids share their borders exactly. Random
points cover the region plus a 2 km margin, so some fall back to the nearest grid and
some are outside.

`locate()` is timed one point per call, as the report form and the QR page call it:
the index is built from the database on first use, then each call checks its freshness
without a query (see areas/locate.py). The baseline, timed in the same run on a sample,
tests each point against all polygons at once with shapely's vectorised predicates, no
Python loop and no spatial index. Both must give the same answers; the script exits
non-zero only when they do not. Target: 100,000 points/s.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from linge.areas.locate import LocalProjection, LocateResult  # noqa: E402

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


class VectorScan:
    """The fair baseline: no spatial index, but no Python loop over polygons either; each
    point is tested against every polygon at once (shapely's intersects_xy over the
    whole array, the border counting as inside as in the app), and when none holds it,
    the distances to all polygons in metres in one call."""

    def __init__(self, items: list[tuple[int, str, shapely.Polygon]], lat0: float) -> None:
        self.items = sorted(items, key=lambda item: item[1])
        self.polygons = np.array([polygon for _, _, polygon in self.items], dtype=object)
        shapely.prepare(self.polygons)
        self.projection = LocalProjection(lat0)
        self.metric = self.projection.geometries(self.polygons)

    def locate(self, lon: float, lat: float) -> LocateResult:
        hits = np.flatnonzero(shapely.intersects_xy(self.polygons, lon, lat))
        if len(hits):
            grid_id, code, _ = self.items[hits[0]]
            return LocateResult(grid_id, code, "inside", 0.0)
        x, y = self.projection.xy(np.array(lon), np.array(lat))
        distances = shapely.distance(self.metric, shapely.Point(float(x), float(y)))
        best = int(np.argmin(distances))  # the first of equal distances: the lowest code
        if distances[best] > FALLBACK_M:
            return LocateResult(None, None, "outside", math.inf)
        grid_id, code, _ = self.items[best]
        return LocateResult(grid_id, code, "nearest", float(distances[best]))


def best_of(runs: int, function, *args):
    """The result and the shortest time of `runs` calls (timings on a busy machine vary)."""
    best = math.inf
    result = None
    for _ in range(runs):
        start = time.perf_counter()
        result = function(*args)
        best = min(best, time.perf_counter() - start)
    return result, best


def same(a: LocateResult, b: LocateResult) -> bool:
    if (a.grid_id, a.grid_code, a.how) != (b.grid_id, b.grid_code, b.how):
        return False
    return a.distance_m == b.distance_m or math.isclose(a.distance_m, b.distance_m, rel_tol=1e-9)


def load_database(items: list[tuple[int, str, shapely.Polygon]]) -> dict[int, int]:
    """Write the city, its town, the villages and the grids as `linge import-areas` would
    leave them; returns {item id: Area id}."""
    from django.core.management import call_command

    from linge.areas.models import Area, Level

    call_command("migrate", verbosity=0)
    city = Area.objects.create(code="331081", name="温岭市", level=Level.CITY)
    town = Area.objects.create(code="331081001", name="测试镇", level=Level.TOWN, parent=city)
    villages = {
        code: Area(code=code, name=f"村{code[-3:]}", level=Level.VILLAGE, parent=town)
        for code in sorted({code[:12] for _, code, _ in items})
    }
    Area.objects.bulk_create(villages.values())
    grids = []
    for _, code, polygon in items:
        centre = polygon.centroid
        grids.append(Area(code=code, name=f"网格{code[-5:]}", level=Level.GRID,
                          parent=villages[code[:12]], boundary=shapely.geometry.mapping(polygon),
                          center_lon=centre.x, center_lat=centre.y))
    Area.objects.bulk_create(grids, batch_size=1000)
    ids = dict(Area.objects.filter(level=Level.GRID).values_list("code", "id"))
    return {item_id: ids[code] for item_id, code, _ in items}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--grids", type=int, default=10_000, help="number of grids (a square)")
    parser.add_argument("--points", type=int, default=50_000, help="points for locate()")
    parser.add_argument("--sample", type=int, default=1_000,
                        help="points for the baseline, also checked against locate()")
    args = parser.parse_args()
    side = round(math.sqrt(args.grids))

    with tempfile.TemporaryDirectory(prefix="linge-bench-locate-") as var_dir:
        os.environ["LINGE_VAR_DIR"] = var_dir  # before django.setup(): a scratch SQLite
        os.environ.pop("LINGE_DATABASE_URL", None)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linge.settings")
        import django

        django.setup()
        from linge.areas import locate as locate_module
        from linge.areas.locate import locate  # the function the views call

        start = time.perf_counter()
        items = grid_polygons(side)
        polygons = [polygon for _, _, polygon in items]
        assert all(shapely.is_valid(polygons)), "generated an invalid polygon"
        cover = sum(p.area for p in polygons) / ((EAST - WEST) * (NORTH - SOUTH))
        area_ids = load_database(items)
        print(f"grids: {len(items):,} polygons of {len(polygons[0].exterior.coords) - 1} "
              f"vertices, areas sum to {cover:.9f} of the region (a tiling), written to SQLite "
              f"in {time.perf_counter() - start:.1f} s")

        start = time.perf_counter()
        locate_module.get_index()
        print(f"index built from the database on first use in {time.perf_counter() - start:.2f} s")

        points = random_points(args.points)
        coords = points.tolist()

        def app() -> list[LocateResult]:
            return [locate(lon, lat) for lon, lat in coords]

        results, seconds = best_of(3, app)
        app_rate = len(points) / seconds
        hows = {how: sum(r.how == how for r in results) for how in ("inside", "nearest", "outside")}
        print(f"locate() as the views call it, one point per call: {app_rate:,.0f} points/s "
              f"({len(points):,} points, best of 3; {', '.join(f'{k} {v:,}' for k, v in hows.items())})")

        index = locate_module.cached_index()
        _, seconds = best_of(3, index.locate_many, points)
        print(f"for comparison, GridIndex.locate_many (batch, not used by the app): "
              f"{len(points) / seconds:,.0f} points/s")

        scan = VectorScan([(area_ids[i], code, p) for i, code, p in items], index.projection.lat0)
        sample = coords[: args.sample]
        expected, seconds = best_of(1, lambda: [scan.locate(lon, lat) for lon, lat in sample])
        base_rate = len(sample) / seconds
        print(f"baseline, vectorised scan over all polygons (intersects_xy, then distance): "
              f"{base_rate:,.0f} points/s ({len(sample):,} points)")

        # Same answers on the baseline's sample, plus shared-border points where ties are
        # broken by the lowest code.
        borders = border_points(items, max(args.sample // 4, 1)).tolist()
        expected += [scan.locate(lon, lat) for lon, lat in borders]
        got = results[: len(sample)] + [locate(lon, lat) for lon, lat in borders]
        checked = sample + borders
        wrong = [k for k in range(len(checked)) if not same(expected[k], got[k])]
        print(f"same answers as the baseline: {'yes' if not wrong else 'NO'} "
              f"({len(checked) - len(wrong)}/{len(checked)}: {len(sample)} random points and "
              f"{len(borders)} polygon vertices on shared borders)")
        for k in wrong[:5]:
            print(f"  point {tuple(checked[k])}: locate() {got[k]}, baseline {expected[k]}")

    print(f"locate() / baseline: {app_rate / base_rate:,.0f}×")
    met = app_rate >= TARGET_PER_S
    print(f"target ≥ {TARGET_PER_S:,} points/s for locate(): {'met' if met else 'NOT met'} "
          f"({app_rate:,.0f} points/s)")
    return 1 if wrong else 0  # a missed target is printed; only a wrong answer fails


if __name__ == "__main__":
    sys.exit(main())
