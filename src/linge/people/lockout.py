"""The one login lock, for every way in with a username and password (the workbench,
the admin, API tokens): `people.auth.LockingBackend` consults it on every
`authenticate()`, so no login form can forget it.

Failures within LINGE_LOGIN_LOCK_MINUTES are counted three ways, and any of them locks:

- one username from one address: LINGE_LOGIN_MAX_FAILURES (the person who mistyped);
- one username from any address: LINGE_LOGIN_ACCOUNT_MAX_FAILURES (guessing one
  account's password from many addresses);
- one address, any username: LINGE_LOGIN_ADDRESS_MAX_FAILURES (one address trying
  many accounts).

A lock lasts until the oldest counted failure leaves the window. A good login clears
the failures of its own username and address only, so a guesser holding one account
cannot reset the count of the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from linge.people.models import LoginAttempt


def _norm(username: str) -> str:
    return (username or "").strip().lower()[:150]


@dataclass(frozen=True)
class Lock:
    until: datetime
    by_address: bool  # the address is locked for every account (else: this account)

    def message(self, now: datetime | None = None) -> str:
        now = now or timezone.now()
        minutes = max(1, int((self.until - now).total_seconds() // 60) + 1)
        if self.by_address:
            return _("该网络地址登录失败次数过多，已暂时锁定，请 %(m)s 分钟后再试。") % {"m": minutes}
        return _("登录失败次数过多，该账号已暂时锁定，请 %(m)s 分钟后再试。") % {"m": minutes}


def _until(failures: QuerySet, limit: int, window: timedelta) -> datetime | None:
    times = list(failures.order_by("-at").values_list("at", flat=True)[:limit])
    return times[-1] + window if len(times) >= limit else None


def locked(username: str, ip: str | None, now: datetime | None = None) -> Lock | None:
    """The lock that stops this username from this address now, or None."""
    now = now or timezone.now()
    window = timedelta(minutes=settings.LINGE_LOGIN_LOCK_MINUTES)
    recent = LoginAttempt.objects.filter(succeeded=False, at__gt=now - window)
    name = _norm(username)
    if ip is not None:
        until = _until(recent.filter(ip=ip), settings.LINGE_LOGIN_ADDRESS_MAX_FAILURES, window)
        if until is not None:
            return Lock(until, by_address=True)
        until = _until(recent.filter(username=name, ip=ip), settings.LINGE_LOGIN_MAX_FAILURES,
                       window)
        if until is not None:
            return Lock(until, by_address=False)
    until = _until(recent.filter(username=name), settings.LINGE_LOGIN_ACCOUNT_MAX_FAILURES, window)
    return Lock(until, by_address=False) if until is not None else None


def locked_until(username: str, ip: str | None, now: datetime | None = None) -> datetime | None:
    lock = locked(username, ip, now)
    return lock.until if lock else None


def record(username: str, ip: str | None, succeeded: bool, now: datetime | None = None) -> None:
    LoginAttempt.objects.create(
        username=_norm(username), ip=ip, at=now or timezone.now(), succeeded=succeeded
    )
    if succeeded:
        # A good login wipes the slate for this pair (not the account's, nor the address's).
        LoginAttempt.objects.filter(username=_norm(username), ip=ip, succeeded=False).delete()
