"""The signed grid URL carried by the QR code on each grid's map: /g/<code>?s=<signature>.

The signature (django.core.signing, salt "linge.grid-qr") covers the grid code, so a
mistyped or forged code is refused instead of opening another grid.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "linge.grid-qr"


def _signer() -> signing.Signer:
    return signing.Signer(salt=SALT)


def grid_signature(code: str) -> str:
    return _signer().signature(code)


def check_signature(code: str, signature: str) -> bool:
    try:
        return _signer().unsign(f"{code}{_signer().sep}{signature}") == code
    except signing.BadSignature:
        return False


def grid_qr_path(code: str) -> str:
    return reverse("resident:grid", args=[code]) + "?" + urlencode({"s": grid_signature(code)})


def grid_qr_url(code: str) -> str:
    """The absolute URL printed as the grid's QR code (LINGE_PUBLIC_URL + signed path)."""
    return settings.LINGE_PUBLIC_URL.rstrip("/") + grid_qr_path(code)
