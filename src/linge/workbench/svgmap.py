"""A grid's outline and the case's pin as inline SVG: no map library, no tiles; and
links that open the phone's own map app to navigate there."""

from __future__ import annotations

import math
from urllib.parse import quote, urlencode

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


def navigation(boundary: dict | None, lon: float | None, lat: float | None,
               name: str) -> dict | None:
    """Links to navigate to the case: Amap's URI (opens the Amap app when installed,
    its web map otherwise; told the position is WGS-84) and a geo: URI for any other
    map app. Without a pin, the middle of the grid."""
    if lon is None or lat is None:
        points = [p for ring in _rings(boundary) for p in ring[:-1]]
        if not points:
            return None
        lon = sum(p[0] for p in points) / len(points)
        lat = sum(p[1] for p in points) / len(points)
    amap = "https://uri.amap.com/marker?" + urlencode({
        "position": f"{lon:.6f},{lat:.6f}", "name": name, "coordinate": "wgs84",
        "callnative": 1, "src": "linge"})
    geo = f"geo:{lat:.6f},{lon:.6f}?q={lat:.6f},{lon:.6f}({quote(name)})"
    return {"amap": amap, "geo": geo}
