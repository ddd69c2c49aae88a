"""The JSON API at /api/v1/ (django-ninja; OpenAPI at /api/v1/openapi.json).

One error shape everywhere: {"error": {"code": "...", "message": "..."}}. Our pages
call it with their session (CSRF token required on unsafe methods); apps send an API
key as `Authorization: Bearer <key>` (a key with the `api` channel, acting as the
account it was made for, counted against its own rate: 429 with Retry-After past it).
A case, area or worker outside the caller's reach is answered 404, as if it did not
exist. docs/api.md describes it with examples.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer, SessionAuth

from linge.clients import keys, limits
from linge.clients.models import Channel
from linge.people.roles import roles_of


class RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(retry_after)


class KeyAuth(HttpBearer):
    """An app's API key (channel `api`): the request acts as the key's account."""

    def authenticate(self, request: HttpRequest, token: str):
        try:
            row = keys.authenticate(token, Channel.API)
        except keys.KeyRefused:
            return None
        except limits.Throttled as over:
            raise RateLimited(over.retry_after) from None
        user = row.user
        return user if user is not None and user.is_active else None


class UserSession(SessionAuth):
    """Our pages' login: a staff member or a resident."""

    def authenticate(self, request: HttpRequest, key):
        user = super().authenticate(request, key)
        return user if user and user.is_active else None


class StaffSession(SessionAuth):
    """The workbench login: a logged-in staff member (residents are not let in)."""

    def authenticate(self, request: HttpRequest, key):
        user = super().authenticate(request, key)
        if user and not user.is_resident and roles_of(user).is_staff_member:
            return user
        return None


class StaffKey(KeyAuth):
    def authenticate(self, request: HttpRequest, token: str):
        user = super().authenticate(request, token)
        if user and not user.is_resident and roles_of(user).is_staff_member:
            return user
        return None


STAFF = [StaffKey(), StaffSession()]
ANY_USER = [KeyAuth(), UserSession()]

ERROR_SCHEMA = {
    "type": "object", "required": ["error"], "additionalProperties": False,
    "properties": {"error": {
        "type": "object", "required": ["code", "message"],
        "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
    }},
}
ERRORS = {
    "400": "参数无效 (bad_request, invalid)", "401": "未登录或密钥无效 (unauthorized)",
    "403": "无权执行 (forbidden)", "404": "不存在或无权查看 (not_found)",
    "405": "方法不允许 (method_not_allowed)", "409": "流程不允许 (refused)",
    "429": "请求过于频繁，见 Retry-After (rate_limited)",
}


class LingeAPI(NinjaAPI):
    """States the one error shape for every operation in the OpenAPI description."""

    def get_openapi_schema(self, **kwargs):
        schema = super().get_openapi_schema(**kwargs)
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        ref = {"$ref": "#/components/schemas/Error"}
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                for status, text in ERRORS.items():
                    responses.setdefault(status, {
                        "description": text, "content": {"application/json": {"schema": ref}}})
        return schema


api = LingeAPI(title="Linge API", version="1", urls_namespace="api", auth=STAFF,
               docs_url=None)


def error(request: HttpRequest, status: int, code: str, message: str):
    return api.create_response(request, {"error": {"code": code, "message": message}},
                               status=status)


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    codes = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
             405: "method_not_allowed", 409: "refused"}
    return error(request, exc.status_code, codes.get(exc.status_code, "error"), str(exc))


@api.exception_handler(Http404)
def _not_found(request, exc):
    return error(request, 404, "not_found", "不存在或无权查看")


@api.exception_handler(AuthenticationError)
def _unauthorized(request, exc):
    return error(request, 401, "unauthorized", "请先登录，或在 Authorization 头中提供 API 密钥")


@api.exception_handler(RateLimited)
def _rate_limited(request, exc: RateLimited):
    response = error(request, 429, "rate_limited", limits.message(exc.retry_after))
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(ValidationError)
def _invalid(request, exc: ValidationError):
    fields = "; ".join(
        ".".join(str(p) for p in e.get("loc", [])[1:]) + ": " + e.get("msg", "")
        for e in exc.errors
    )
    return error(request, 400, "invalid", fields or "参数无效")


def _register() -> None:
    from linge.api.cases import me_router, places_router
    from linge.api.cases import router as cases_router
    from linge.api.insights import public_router, router

    api.add_router("/insights/", router)
    api.add_router("/public/", public_router)
    api.add_router("/cases", cases_router)
    api.add_router("/me", me_router)
    api.add_router("/", places_router)


_register()
