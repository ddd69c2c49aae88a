"""How personal data is shown to people who may not see it whole."""

from __future__ import annotations


def mask_phone(phone: str) -> str:
    """13900000001 → 139****0001; short or empty numbers are starred out entirely."""
    phone = phone or ""
    if len(phone) >= 7:
        return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
    return "*" * len(phone)
