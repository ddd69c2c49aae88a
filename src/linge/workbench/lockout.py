"""Failed-login lock: after LINGE_LOGIN_MAX_FAILURES failures for one username from one
address within LINGE_LOGIN_LOCK_MINUTES, that pair is locked for the same time."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from linge.workbench.models import LoginAttempt


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
