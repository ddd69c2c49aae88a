"""A grid's outline and the case's pin as inline SVG: no map library, no tiles."""

from __future__ import annotations

import math

SIZE = 240
PAD = 12


def _rings(boundary: dict | None) -> list[list[list[float]]]:
    if not boundary:
        return []
    kind, coords = boundary.get("type"), boundary.get("coordinates") or []
    if kind == "Polygon":
        return [coords[0]] if coords else []
    if kind == "MultiPolygon":
        return [poly[0] for poly in coords if poly]
    return []


def grid_map(boundary: dict | None, lon: float | None, lat: float | None) -> dict | None:
    """{"size", "polygons": [points], "pin": (x, y) or None}; None when there is nothing to draw."""
    rings = _rings(boundary)
    points = [p for ring in rings for p in ring]
    if lon is not None and lat is not None:
        points = points + [[lon, lat]]
    if not points:
        return None
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    # Longitude degrees shrink with latitude; scale x so the outline keeps its shape.
    kx = math.cos(math.radians(sum(ys) / len(ys)))
    span = max((max(xs) - min(xs)) * kx, max(ys) - min(ys), 1e-6)
    scale = (SIZE - 2 * PAD) / span

    def xy(p: list[float]) -> tuple[float, float]:
        return (round(PAD + (p[0] - min(xs)) * kx * scale, 1),
                round(SIZE - PAD - (p[1] - min(ys)) * scale, 1))

    polygons = [" ".join(f"{x},{y}" for x, y in map(xy, ring)) for ring in rings]
    pin = xy([lon, lat]) if lon is not None and lat is not None else None
    return {"size": SIZE, "polygons": polygons, "pin": pin}
