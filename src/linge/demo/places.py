"""Where in its grid a demo problem is reported.

Most reports from the spot carry a position (the phone's, or the photo's). A problem
comes back where it was before: a report of the same category in the same grid within
30 days of the last one is often placed within some 60 m of it, which is what makes
the hot-spot clusters (热点) of the leaders' screens appear in the demo.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from shapely.geometry import Point, shape
from shapely.prepared import PreparedGeometry, prep

from linge.areas.models import Area

RECURRENCE = timedelta(days=30)
RETURN_CHANCE = 0.8
JITTER_DEG = 0.0006  # about 60 m of latitude
ATTEMPTS = 30


class Places:
    def __init__(self, grids: list[Area], rng: random.Random) -> None:
        self.rng = rng
        self.boundaries = {grid.pk: grid.boundary for grid in grids}
        self.shapes: dict[int, tuple[PreparedGeometry, tuple[float, ...], Point]] = {}
        self.spots: dict[tuple[int, int], tuple[float, float, datetime]] = {}

    def point(self, grid_id: int, category_id: int, now: datetime) -> tuple[float, float]:
        key = (grid_id, category_id)
        spot = self.spots.get(key)
        if spot is not None and abs(now - spot[2]) <= RECURRENCE and (
            self.rng.random() < RETURN_CHANCE
        ):
            lon = spot[0] + self.rng.uniform(-JITTER_DEG, JITTER_DEG)
            lat = spot[1] + self.rng.uniform(-JITTER_DEG, JITTER_DEG)
            if not self._inside(grid_id, lon, lat):
                lon, lat = spot[0], spot[1]
            self.spots[key] = (spot[0], spot[1], now)
        else:
            lon, lat = self._anywhere(grid_id)
            self.spots[key] = (lon, lat, now)
        return round(lon, 6), round(lat, 6)

    def _shape(self, grid_id: int) -> tuple[PreparedGeometry, tuple[float, ...], Point]:
        found = self.shapes.get(grid_id)
        if found is None:
            geometry = shape(self.boundaries[grid_id])
            found = (prep(geometry), geometry.bounds, geometry.representative_point())
            self.shapes[grid_id] = found
        return found

    def _inside(self, grid_id: int, lon: float, lat: float) -> bool:
        return self._shape(grid_id)[0].contains(Point(lon, lat))

    def _anywhere(self, grid_id: int) -> tuple[float, float]:
        prepared, (west, south, east, north), fallback = self._shape(grid_id)
        for _ in range(ATTEMPTS):
            lon, lat = self.rng.uniform(west, east), self.rng.uniform(south, north)
            if prepared.contains(Point(lon, lat)):
                return lon, lat
        return fallback.x, fallback.y
