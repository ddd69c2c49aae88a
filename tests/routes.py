"""Every route of the site, read from the URL configuration (so a new one is never
left out of the tests that walk them)."""

from __future__ import annotations

import re


def all_routes(include_admin: bool = False) -> list[str]:
    """Every route as `/path/<param>` strings, in the order the URL configuration has them."""
    from django.urls import get_resolver
    from django.urls.resolvers import URLResolver

    def walk(patterns, prefix: str = ""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern)

    found = []
    for route in walk(get_resolver().url_patterns):
        if route.startswith("admin/") and not include_admin:
            continue
        route = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", route)
        if route not in found:
            found.append(route)
    return found


def fill(route: str, **values: str) -> str:
    """The route with each <param> replaced by values[param] (or values['*'])."""
    return re.sub(r"<(\w+)>", lambda m: values.get(m.group(1), values.get("*", "1")), route)
