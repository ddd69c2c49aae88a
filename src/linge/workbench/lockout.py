"""Failed-login lock: after LINGE_LOGIN_MAX_FAILURES failures for one username from one
address within LINGE_LOGIN_LOCK_MINUTES, that pair is locked for the same time."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from linge.workbench.models import LoginAttempt


def client_ip(request: HttpRequest) -> str | None:
    # REMOTE_ADDR only: a forwarded header is the client's to forge unless a proxy is trusted.
    return request.META.get("REMOTE_ADDR") or None


def _norm(username: str) -> str:
    return (username or "").strip().lower()[:150]


def locked_until(username: str, ip: str | None, now: datetime | None = None) -> datetime | None:
    now = now or timezone.now()
    window = timedelta(minutes=settings.LINGE_LOGIN_LOCK_MINUTES)
    failures = list(
        LoginAttempt.objects.filter(
            username=_norm(username), ip=ip, succeeded=False, at__gt=now - window
        ).order_by("-at").values_list("at", flat=True)[: settings.LINGE_LOGIN_MAX_FAILURES]
    )
    if len(failures) < settings.LINGE_LOGIN_MAX_FAILURES:
        return None
    return failures[0] + window


def record(username: str, ip: str | None, succeeded: bool, now: datetime | None = None) -> None:
    LoginAttempt.objects.create(
        username=_norm(username), ip=ip, at=now or timezone.now(), succeeded=succeeded
    )
    if succeeded:
        # A good login wipes the slate for this pair.
        LoginAttempt.objects.filter(username=_norm(username), ip=ip, succeeded=False).delete()
