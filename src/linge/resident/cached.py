"""What the resident pages repeat on every view, cached: a grid page's grid and village,
the grid's team, its village's deliberation agenda and the category tree of the report
form.

The cache is Django's local-memory cache, one per gunicorn process. A change to a
membership, a user, a category or a deliberation clears the entries of the process that
made the change at once (the signals of resident/apps.py bump a version that is part of every key),
and the other processes, which cannot hear the signal, drop theirs after TIMEOUT
seconds. So an edited team or category shows on every page within a minute, and the
pages pay no query to learn whether anything changed: a version row in the database
would cost the very query the cache saves."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.utils.translation import get_language

TIMEOUT = 60  # seconds another process may show a team or category tree that changed
_VERSION = "linge:resident-cache-version"


def _version() -> int:
    return cache.get_or_set(_VERSION, 1, None)


def invalidate(**_signal: Any) -> None:
    """Signal receiver: forget every cached team and category tree (in this process)."""
    try:
        cache.incr(_VERSION)
    except ValueError:  # not set yet: nothing cached under it either
        cache.set(_VERSION, 1, None)


def _kept(name: str, read) -> Any:
    """What `read()` gives, kept under `name` for TIMEOUT seconds (this version)."""
    key = f"linge:{name}:{_version()}"
    found = cache.get(key)
    if found is None:
        found = read()
        cache.set(key, found, TIMEOUT)
    return found


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
