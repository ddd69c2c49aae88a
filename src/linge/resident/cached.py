"""What the resident pages repeat on every view, cached (`linge.memo`): a grid page's
grid and village, the grid's team, its village's deliberation agenda and the category
tree of the report form. What clears them: resident/apps.py."""

from __future__ import annotations

from typing import Any

from django.utils.translation import get_language

from linge.memo import TIMEOUT, invalidate  # noqa: F401 (resident/apps.py connects it)
from linge.memo import kept as _kept


def team_of(grid) -> list[tuple[str, str, str]]:
    from linge.resident.present import team_of as read_team

    # Duty names are translated: one entry per language.
    return _kept(f"team:{grid.pk}:{get_language()}", lambda: read_team(grid))


def categories(read) -> list[dict[str, Any]]:
    """The report form's category tree; `read` builds it when it is not cached."""
    return _kept("categories", read)


def deliberations(village_id: int | None, read) -> list[dict[str, Any]]:
    """The village's deliberation agenda on its grid pages; `read(village_id)` reads it."""
    return _kept(f"deliberations:{village_id}", lambda: read(village_id))


def grid_with_village(code: str, read) -> Any:
    """The grid of a grid page with its village loaded; `read(code)` reads them (None
    for an unknown code, which is not kept)."""
    return _kept(f"grid:{code}", lambda: read(code))
