"""The client's address, for the per-address limits (login lock, verification codes)."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in settings.LINGE_TRUSTED_PROXIES)


def client_ip(request: HttpRequest) -> str | None:
    """REMOTE_ADDR, or behind trusted proxies the nearest untrusted X-Forwarded-For hop.

    X-Forwarded-For is the client's to forge, except for what our own proxies appended:
    read from the right, every hop a trusted proxy added is believed, and the first
    address not itself a trusted proxy is the client. A malformed hop stops the walk
    there, so garbage can never pass as an address.
    """
    remote = request.META.get("REMOTE_ADDR") or None
    if remote is None or not _trusted(remote):
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    client = remote
    for hop in reversed([h.strip() for h in forwarded.split(",") if h.strip()]):
        try:
            client = str(ipaddress.ip_address(hop))
        except ValueError:
            break
        if not _trusted(client):
            break
    return client
