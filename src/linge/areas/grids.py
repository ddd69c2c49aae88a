"""The area look-ups every report makes, compiled once per process (linge.prepared)."""

from __future__ import annotations

from linge.areas.models import Area, Level
from linge.prepared import Prepared

_GRID_BY_CODE = Prepared(
    lambda code: Area.objects.filter(code=code, level=Level.GRID)[:1], "\x00grid-code")
_AREA_BY_ID = Prepared(lambda pk: Area.objects.filter(pk=pk)[:1], -7_000_001)


def grid_by_code(code: str) -> Area | None:
    """The grid with this code, or None (also for the code of a town or village)."""
    return _GRID_BY_CODE.first(str(code))


def area_by_id(pk: int) -> Area | None:
    return _AREA_BY_ID.first(int(pk))
