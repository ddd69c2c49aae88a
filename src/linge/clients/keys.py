"""API keys: made by an administrator for one client, shown once, stored as a hash.

A key reads `lg_<prefix>_<secret>`: the prefix finds the row, the SHA-256 of the whole
key is compared in constant time. Keys are long random strings, so a plain hash is
enough (a slow password hash would only slow every request).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from linge.clients import limits
from linge.clients.models import ApiKey, Channel
from linge.prepared import Prepared

TOUCH_EVERY = timedelta(minutes=1)  # last_used_at is written at most this often


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass
class Made:
    api_key: ApiKey
    key: str  # the secret, shown once


def create(name: str, *, channels: list[str] | None = None, rate_per_minute: int = 60,
           user=None) -> Made:
    channels = channels or [Channel.OPEN311]
    unknown = set(channels) - set(Channel.values)
    if unknown:
        raise ValueError(f"unknown channels: {', '.join(sorted(unknown))}")
    if rate_per_minute < 1:
        raise ValueError("rate_per_minute must be at least 1")
    with transaction.atomic():
        while True:
            prefix = secrets.token_hex(4)
            if not ApiKey.objects.filter(prefix=prefix).exists():
                break
        key = f"lg_{prefix}_{secrets.token_urlsafe(24)}"
        row = ApiKey.objects.create(
            name=name, prefix=prefix, key_hash=_hash(key), channels=",".join(channels),
            rate_per_minute=rate_per_minute, user=user, created_at=timezone.now(),
        )
    return Made(row, key)


def revoke(api_key: ApiKey) -> None:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])


_LIVE_KEY = Prepared(lambda prefix: ApiKey.objects.filter(prefix=prefix, revoked_at__isnull=True)
                     .order_by("pk")[:1], "\x00key-prefix")


def find(key: str | None) -> ApiKey | None:
    """The live key row for this key, or None (unknown, malformed or revoked)."""
    if not key or not key.isascii() or len(key) > 100 or not key.startswith("lg_"):
        return None
    prefix = key[3:].partition("_")[0]
    row = _LIVE_KEY.first(prefix)  # its account, when a caller acts as it, on first use
    if row is None or not hmac.compare_digest(row.key_hash, _hash(key)):
        return None
    return row


class KeyRefused(Exception):
    """The key may not be used here: unknown, revoked or not for this channel."""


def authenticate(key: str | None, channel: str) -> ApiKey:
    """The key's row if it is live and may use `channel`, its request counted against
    its own rate; raises KeyRefused or limits.Throttled."""
    row = find(key)
    if row is None:
        raise KeyRefused("invalid or revoked api_key")
    if channel not in row.channel_list:
        raise KeyRefused(f"this api_key may not use {channel}")
    limits.count(limits.Limit("key", row.rate_per_minute, 60), row.prefix)
    now = timezone.now()
    if row.last_used_at is None or now - row.last_used_at > TOUCH_EVERY:
        ApiKey.objects.filter(pk=row.pk).update(last_used_at=now)
    return row
