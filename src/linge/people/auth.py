"""Logging in with a username and password, by any way in, through the one lock.

`LockingBackend` is the first of AUTHENTICATION_BACKENDS: every `authenticate()` with a
username and password (the workbench's form, the admin's, an API token's exchange, a
shell script) is refused while `people.lockout` says the username or the address is
locked, and every outcome is recorded. It raises PermissionDenied on a refusal so no
later backend gives the same guess a second try. The forms below only add the lock's
own message (how many minutes) to the page.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied, ValidationError

from linge.net import client_ip
from linge.people import lockout
from linge.prepared import Prepared

BACKEND = "linge.people.auth.LockingBackend"


# The signed-in user of every staff request, read by a query compiled once.
_USER_BY_ID = Prepared(lambda pk: get_user_model()._default_manager.filter(pk=pk)[:1],
                       -7_000_301)


class LockingBackend(ModelBackend):
    def get_user(self, user_id: Any) -> Any:
        try:
            pk = int(user_id)
        except (TypeError, ValueError):
            return None
        user = _USER_BY_ID.first(pk)
        return user if user is not None and self.user_can_authenticate(user) else None

    def authenticate(self, request, username: str | None = None, password: str | None = None,
                     **kwargs: Any):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        ip = client_ip(request) if request is not None else None
        if lockout.locked(username, ip) is not None:
            raise PermissionDenied
        user = super().authenticate(request, username=username, password=password, **kwargs)
        lockout.record(username, ip, succeeded=user is not None)
        if user is None:
            raise PermissionDenied
        return user


class _LockMessage:
    """Say that the login is locked, and for how long, before trying the password."""

    request: Any
    cleaned_data: dict

    def clean(self) -> dict:
        username = self.cleaned_data.get("username", "")
        ip = client_ip(self.request) if self.request else None
        lock = lockout.locked(username, ip)
        if lock is not None:
            raise ValidationError(lock.message(), code="locked")
        return super().clean()  # type: ignore[misc]


class LockingAuthenticationForm(_LockMessage, AuthenticationForm):
    """The workbench's login form."""


class LockingAdminAuthenticationForm(_LockMessage, AdminAuthenticationForm):
    """The admin's login form (`admin.site.login_form`)."""
