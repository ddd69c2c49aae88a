"""The JSON API at /api/v1/ (django-ninja; OpenAPI at /api/v1/openapi.json).

One error shape everywhere: {"error": {"code": "...", "message": "..."}}. Staff read
it with their workbench session for now; API tokens come later. An area or worker
outside the caller's reach is answered 404, as if it did not exist.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import SessionAuth

from linge.people.roles import roles_of


class StaffSession(SessionAuth):
    """The workbench login: a logged-in staff member (residents are not let in)."""

    def authenticate(self, request: HttpRequest, key):
        user = super().authenticate(request, key)
        if user and not user.is_resident and roles_of(user).is_staff_member:
            return user
        return None


api = NinjaAPI(title="Linge API", version="1", urls_namespace="api", auth=StaffSession(),
               docs_url=None)


def error(request: HttpRequest, status: int, code: str, message: str):
    return api.create_response(request, {"error": {"code": code, "message": message}},
                               status=status)


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    codes = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found"}
    return error(request, exc.status_code, codes.get(exc.status_code, "error"), str(exc))


@api.exception_handler(Http404)
def _not_found(request, exc):
    return error(request, 404, "not_found", "不存在或无权查看")


@api.exception_handler(AuthenticationError)
def _unauthorized(request, exc):
    return error(request, 401, "unauthorized", "请先以工作人员身份登录")


@api.exception_handler(ValidationError)
def _invalid(request, exc: ValidationError):
    fields = "; ".join(
        ".".join(str(p) for p in e.get("loc", [])[1:]) + ": " + e.get("msg", "")
        for e in exc.errors
    )
    return error(request, 400, "invalid", fields or "参数无效")


def _register() -> None:
    from linge.api.insights import public_router, router

    api.add_router("/insights/", router)
    api.add_router("/public/", public_router)


_register()
