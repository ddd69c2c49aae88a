"""The workbench speaks the site's language unless its user picks another."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

STAFF_PATHS = ("/work/", "/admin/")


class SiteLanguageForStaffMiddleware:
    """On staff pages, ignore the browser's Accept-Language (runs before LocaleMiddleware).

    The language is then the one picked with the switch (the language cookie) or
    LINGE_LANGUAGE. A grid worker's phone set to English would otherwise get a page
    half in English, as only the residents' pages are wholly translated.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(STAFF_PATHS):
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)
