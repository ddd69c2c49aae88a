"""The client's address, for the per-address limits (login lock, verification codes)."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _address(text: str) -> str | None:
    """The address in a forwarded hop: 1.2.3.4, 1.2.3.4:5678, 2001:db8::1, [2001:db8::1]:443."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    mapped = getattr(ip, "ipv4_mapped", None)  # ::ffff:10.0.0.5 from a dual-stack socket
    return str(mapped or ip)


def _trusted(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return any(ip in network for network in settings.LINGE_TRUSTED_PROXIES)


def client_ip(request: HttpRequest) -> str | None:
    """REMOTE_ADDR, or behind trusted proxies the nearest untrusted X-Forwarded-For hop.

    X-Forwarded-For is the client's to forge, except for what our own proxies appended:
    read from the right, every hop a trusted proxy added is believed, and the first
    address not itself a trusted proxy is the client. A malformed hop stops the walk
    there, so garbage can never pass as an address.
    """
    remote = _address(request.META.get("REMOTE_ADDR") or "")
    if remote is None or not _trusted(remote):
        return remote or request.META.get("REMOTE_ADDR") or None
    client = remote
    for hop in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        if not hop.strip():
            continue
        address = _address(hop)
        if address is None:
            break
        client = address
        if not _trusted(client):
            break
    return client
