"""The inbox's tabs, filters and search live in `cases.inbox`, where the API's case list
reads the same rules; the workbench's views and exports use them through this name.
Picking a grid on the entry forms is the workbench's own (below)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import QuerySet

from linge.cases.inbox import *  # noqa: F403
from linge.cases.inbox import mask_phone  # noqa: F401
from linge.plaintext import strip_controls

# Picking a grid on the entry forms (12345, 上级交办): a town has ~70 grids, the city
# 1,104; the operator types what the caller says (a town, a village, an address with
# them in it, a grid's code) or a position.

GRID_MATCHES = 30
_POSITION = re.compile(r"^\s*(-?\d{1,3}(?:\.\d+)?)\s*[,，\s]\s*(-?\d{1,3}(?:\.\d+)?)\s*$")


@dataclass(frozen=True)
class GridMatch:
    pk: int
    code: str
    name: str  # 镇街 村社 网格


def _position(text: str) -> tuple[float, float] | None:
    """'121.305,28.305' (longitude, latitude, as map apps copy them)."""
    found = _POSITION.match(text)
    if not found:
        return None
    lon, lat = float(found.group(1)), float(found.group(2))
    if abs(lat) > abs(lon):  # typed the other way round (28.3, 121.3)
        lon, lat = lat, lon
    return (lon, lat) if -180 <= lon <= 180 and -90 <= lat <= 90 else None


def search_grids(grids: QuerySet, text: str, lon: float | None = None,
                 lat: float | None = None) -> list[GridMatch]:
    """The grids among `grids` that match, best first: the grid a position falls in;
    grids whose code starts with the digits typed; else grids scored by the names in
    the text (a village named in it counts more than a town, a grid's own name most),
    keeping those of the best score, so '温峤镇上墩村村口菜场' finds the grids of 上墩村
    and '温峤镇' all of the town's."""
    text = strip_controls(text or "").strip()[:80]
    if lon is None and text:
        lon, lat = _position(text) or (None, None)
    rows = list(grids.values_list("pk", "code", "name", "parent__name",
                                  "parent__parent__name"))

    def match(row) -> GridMatch:
        pk, code, name, village, town = row
        return GridMatch(pk, code, f"{town} {village} {name}")

    if lon is not None and lat is not None:
        from linge.areas.locate import locate

        found = locate(lon, lat).grid_id
        return [match(r) for r in rows if r[0] == found]
    if not text:
        return []
    if text.isdigit():
        return [match(r) for r in rows if r[1].startswith(text)][:GRID_MATCHES]
    words = text.split()
    scored = []
    for row in rows:
        _pk, code, name, village, town = row
        score = 0
        for word in words:
            score += 4 if word in name or (len(name) > 1 and name in word) else 0
            score += 2 if word in village or village in word else 0
            score += 1 if word in town or town in word else 0
        if score:
            scored.append((-score, code, row))
    scored.sort()
    # Only the best tier: a village named in the address outranks the rest of its town.
    best = scored[0][0] if scored else 0
    return [match(row) for s, _c, row in scored if s == best][:GRID_MATCHES]
