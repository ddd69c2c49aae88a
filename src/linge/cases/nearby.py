"""Open cases of the same category near a point: what a resident may support instead
of filing a duplicate (我也遇到).

A bounding box narrows the rows in the database (indexed by category and date); the
exact distance is then checked on the few rows left. Without a position the cases of
the same grid stand in for "nearby".
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from linge.cases.models import FINAL_STATES, Case, State

RADIUS_M = 100.0
DAYS = 30
EARTH_RADIUS_M = 6371008.8
# Open and visible to residents as "being handled": a resolved case waits for its
# reporter's rating and may still be reopened, so it counts too.
OPEN_STATES = [s for s in State.values if s not in FINAL_STATES]


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def _recent_open(category_id: int, now: datetime, days: int) -> QuerySet[Case]:
    return Case.objects.filter(
        category_id=category_id, state__in=OPEN_STATES, created_at__gte=now - timedelta(days=days)
    ).select_related("category")


def nearby_open_cases(
    category_id: int,
    lon: float | None,
    lat: float | None,
    *,
    grid_id: int | None = None,
    radius_m: float = RADIUS_M,
    days: int = DAYS,
    now: datetime | None = None,
    limit: int = 5,
) -> list[tuple[Case, float | None]]:
    """(case, distance in metres or None) for open cases of the category, nearest first."""
    now = now or timezone.now()
    cases = _recent_open(category_id, now, days)
    if lon is not None and lat is not None and math.isfinite(lon) and math.isfinite(lat):
        dlat = radius_m / 111_320.0
        dlon = radius_m / (111_320.0 * max(math.cos(math.radians(lat)), 0.01))
        boxed = cases.filter(
            lon__gte=lon - dlon, lon__lte=lon + dlon, lat__gte=lat - dlat, lat__lte=lat + dlat
        )[:200]
        found = [(c, distance_m(lon, lat, c.lon, c.lat)) for c in boxed]
        found = [(c, d) for c, d in found if d <= radius_m]
        found.sort(key=lambda pair: pair[1])
        return found[:limit]
    if grid_id is not None:
        # The grid as a range of one, leading the order: with "=" PostgreSQL walks the
        # whole city's newest cases of the month looking for this grid's (as on the
        # grid page, policy.public_grid_cases).
        in_grid = cases.filter(grid_id__gte=grid_id, grid_id__lte=grid_id)
        return [(c, None) for c in in_grid.order_by("-grid_id", "-created_at")[:limit]]
    return []
