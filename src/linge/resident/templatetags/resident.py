"""Template filters of the resident pages."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django import template
from django.utils.html import format_html_join
from django.utils.safestring import SafeString
from django.utils.timezone import localtime

from linge.resident.present import plain_state

register = template.Library()


@register.filter(name="plain_state")
def plain_state_filter(state: str) -> str:
    """A case's state in the words residents use: 待派遣 → 已上报镇街."""
    return plain_state(state)


@register.simple_tag
def grid_case_items(cases: Iterable[tuple[str, str, datetime]]) -> SafeString:
    """The grid page's list items of (category, state, reported at) rows: written in one
    pass, as a template loop cost about a millisecond for ten rows, a fifth of the
    page."""
    return format_html_join(
        "\n", '<li><span>{}</span> <span class="tag s-{}">{}</span> <span class="muted">{}</span></li>',
        ((category, state, plain_state(state), f"{localtime(reported):%m-%d}")
         for category, state, reported in cases))
