"""Template filters of the resident pages."""

from __future__ import annotations

from django import template

from linge.resident.present import plain_state

register = template.Library()


@register.filter(name="plain_state")
def plain_state_filter(state: str) -> str:
    """A case's state in the words residents use: 待派遣 → 已上报镇街."""
    return plain_state(state)
