"""What every request must be before any view sees it (`RequestGuardMiddleware`, first in
MIDDLEWARE):

- a body no longer than LINGE_REQUEST_MAX_BYTES, judged by its Content-Length before a
  byte of it is read or spooled to a temporary file (Django never reads past the
  Content-Length it was given, and reads nothing without one), else 413;
- a path, query string and form or JSON fields in UTF-8 and without NUL characters,
  else 400. PostgreSQL refuses NUL in text (a lookup with one was a 500), and Django
  would otherwise store undecodable bytes as U+FFFD instead of refusing them.

Refusals say why in Chinese; the API gets its one error shape.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

REPLACEMENT = "\ufffd"  # what Django's decoders put where a byte was not UTF-8


def _bad_bytes(raw: bytes) -> bool:
    if b"\x00" in raw:
        return True
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _bad_text(values: Iterable[str]) -> bool:
    return any("\x00" in value or REPLACEMENT in value for value in values)


def _refuse(request: HttpRequest, status: int, code: str, message: str) -> HttpResponse:
    if request.path_info.startswith("/api/"):
        return JsonResponse({"error": {"code": code, "message": message}}, status=status,
                            json_dumps_params={"ensure_ascii": False})
    if "json" in request.META.get("HTTP_ACCEPT", "") or request.path_info.startswith("/report"):
        return JsonResponse({"ok": False, "error": message}, status=status,
                            json_dumps_params={"ensure_ascii": False})
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


def max_body_bytes() -> int:
    return int(settings.LINGE_REQUEST_MAX_BYTES)


class RequestGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        refusal = self._too_big(request) or self._bad_characters(request)
        return refusal or self.get_response(request)

    def _too_big(self, request: HttpRequest) -> HttpResponse | None:
        length = request.META.get("CONTENT_LENGTH") or "0"
        try:
            size = int(length)
        except ValueError:
            return _refuse(request, 400, "bad_request", _("请求长度无效"))
        limit = max_body_bytes()
        if size > limit:
            return _refuse(request, 413, "too_large", _(
                "提交的内容过大（超过 %(mb)s MB），请减少照片的数量或大小后重试"
            ) % {"mb": round(limit / 1024 / 1024, 1)})
        return None

    def _bad_characters(self, request: HttpRequest) -> HttpResponse | None:
        message = _("请求中含有无效字符（空字符或非 UTF-8 编码），请检查后重新提交")
        # Django puts back a path's bytes that are not UTF-8 as %XX escapes
        # (repercent_broken_unicode); unquoting finds them again. No route of the site
        # has a percent sign of its own. QUERY_STRING is the raw bytes, read as latin-1.
        path = unquote_to_bytes(request.path_info)
        query = request.META.get("QUERY_STRING", "").encode("latin-1", "replace")
        if _bad_bytes(path) or _bad_bytes(unquote_to_bytes(query.replace(b"+", b" "))):
            return _refuse(request, 400, "bad_characters", message)
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return None
        content_type = request.META.get("CONTENT_TYPE", "")
        if content_type.startswith("application/json"):
            body = request.body
            if _bad_bytes(body) or b"\\u0000" in body:
                return _refuse(request, 400, "bad_characters", message)
            return None
        if content_type.startswith("application/x-www-form-urlencoded"):
            body = request.body
            if _bad_bytes(unquote_to_bytes(body.replace(b"+", b" "))):
                return _refuse(request, 400, "bad_characters", message)
            return None
        if content_type.startswith("multipart/form-data"):
            # Django's multipart parser decodes each field, putting U+FFFD where a byte
            # was not UTF-8: what it parsed is what a view would get.
            fields = [text for key, values in request.POST.lists() for text in (key, *values)]
            names = [name for key in request.FILES for name in (
                key, *(f.name or "" for f in request.FILES.getlist(key)))]
            if _bad_text(fields) or _bad_text(names):
                return _refuse(request, 400, "bad_characters", message)
        return None
