"""What pages repeat on every view, kept in the process: a grid page's grid and team,
the report form's category tree, the inbox's filter choices (resident/cached.py,
cases/inbox.py).

The cache is Django's local-memory cache, one per gunicorn process. A change to a
membership, a user, an area, a category or a deliberation clears the entries of the
process that made the change at once (the signals of resident/apps.py and cases/apps.py
bump a version that is part of every key), and the other processes, which cannot hear
the signal, drop theirs after TIMEOUT seconds. So an edited team or category shows on
every page within a minute, and the pages pay no query to learn whether anything
changed: a version row in the database would cost the very query the cache saves."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.cache import cache

TIMEOUT = 60  # seconds another process may show a team or category tree that changed
_VERSION = "linge:memo-version"


def _version() -> int:
    return cache.get_or_set(_VERSION, 1, None)


def invalidate(**_signal: Any) -> None:
    """Signal receiver: forget everything kept (in this process)."""
    try:
        cache.incr(_VERSION)
    except ValueError:  # not set yet: nothing cached under it either
        cache.set(_VERSION, 1, None)


def kept(name: str, read: Callable[[], Any]) -> Any:
    """What `read()` gives, kept under `name` for TIMEOUT seconds (this version); None
    is not kept."""
    key = f"linge:{name}:{_version()}"
    found = cache.get(key)
    if found is None:
        found = read()
        cache.set(key, found, TIMEOUT)
    return found
