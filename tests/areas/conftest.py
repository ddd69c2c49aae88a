"""Fixtures and helpers for the area tests: a small tree of areas and file writers.

Grids are squares of 0.01° near 温岭 (121.3 E, 28.3 N); squares side by side share
their borders exactly.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from linge.areas import locate
from linge.areas.models import Area, Level

CITY, TOWN, VILLAGE = "331081", "331081107", "331081107001"
GRID_A, GRID_B = "331081107001001", "331081107001002"
SIZE = 0.01


def box(x: float, y: float, size: float = SIZE) -> dict[str, Any]:
    """The GeoJSON square whose south-west corner is `x`, `y` squares from (121.3, 28.3)."""
    west, south = round(121.3 + x * SIZE, 9), round(28.3 + y * SIZE, 9)
    east, north = round(west + size, 9), round(south + size, 9)
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def feature(code: str, name: str, level: str, parent: str | None = None,
            geometry: dict[str, Any] | None = None, **properties: Any) -> dict[str, Any]:
    props = {"code": code, "name": name, "level": level, "parent": parent or "", **properties}
    return {"type": "Feature", "properties": props, "geometry": geometry}


def tree_features() -> list[dict[str, Any]]:
    """City → town → village → two grids, listed children first (the hard order)."""
    return [
        feature(GRID_B, "上墩村第2网格", "grid", VILLAGE, box(1, 0), households=200),
        feature(GRID_A, "上墩村第1网格", "网格", VILLAGE, box(0, 0), households=300),
        feature(VILLAGE, "上墩村", "村社", TOWN, box(0, 0, 2 * SIZE), kind="村"),
        feature(TOWN, "温峤镇", "town", CITY, kind="镇"),
        feature(CITY, "温岭市", "县级市"),
    ]


def write_geojson(path: Path, features: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features},
                               ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def write_csv(path: Path, rows: list[list[Any]], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def make_area(code: str, name: str, level: str, parent: Area | None = None,
              boundary: dict[str, Any] | None = None, households: int = 0) -> Area:
    return Area.objects.create(code=code, name=name, level=level, parent=parent,
                               boundary=boundary, households=households)


def make_tree() -> dict[str, Area]:
    """City, town and village in the database, without grids."""
    city = make_area(CITY, "温岭市", Level.CITY)
    town = make_area(TOWN, "温峤镇", Level.TOWN, city)
    village = make_area(VILLAGE, "上墩村", Level.VILLAGE, town, box(0, 0, 2 * SIZE))
    return {"city": city, "town": town, "village": village}


@pytest.fixture(autouse=True)
def _fresh_locate_index():
    # Rolled-back tests reuse ids on SQLite, so never let an index outlive its test.
    locate.invalidate()
    yield
    locate.invalidate()


@pytest.fixture
def tree(db) -> dict[str, Area]:
    return make_tree()
