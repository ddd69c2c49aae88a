"""Template tags of the staff pages."""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Iterable
from typing import Any

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext, ngettext

from linge.cases.models import Source, State

register = template.Library()

_SELECTED = mark_safe(" selected")  # noqa: S308 (a constant)


@register.simple_tag
def options(choices: Iterable[tuple[Any, str]], selected: Any) -> SafeString:
    """The <option> elements of (value, label) pairs, `selected` marked: a filter form
    lists up to 500 areas, and a template loop spent about 10 µs on each, Django's
    `format_html` 2 µs. Escaped as `django.utils.html.escape` does (it calls this)."""
    return mark_safe("".join(  # noqa: S308 (every value and label escaped)
        f'<option value="{html.escape(str(value))}"{_SELECTED if value == selected else ""}>'
        f'{html.escape(str(label))}</option>' for value, label in choices))


def _text(value: Any) -> str:
    return html.escape(str(value))


def _shortened(text: str, length: int) -> str:
    """`Truncator(text).chars(length)`, which walks every character of the text; one
    no longer than `length` comes back as it is (normalized), so that walk is skipped."""
    normalized = unicodedata.normalize("NFC", text)
    return normalized if len(normalized) <= length else Truncator(text).chars(length)


@register.simple_tag
def inbox_items(rows: Iterable[dict], bulk: Any, this_year: str) -> SafeString:
    """The inbox's rows (`views.inbox`: a case with its deadline light) as list items,
    in one pass: the template spent about 0.8 ms on each of a page's 30, most of it
    looking up names and translating the state's and the source's labels again."""
    url_of = reverse("workbench:case", args=["__number__"])
    states = {value: _text(label) for value, label in State.choices}
    sources = {value: _text(label) for value, label in Source.choices}
    pick, term, supervised = _text(gettext("选择")), _text(gettext("期限")), _text(gettext("督办"))
    rework = _text(gettext("返工"))
    items = []
    for row in rows:
        case = row["case"]
        number = _text(case.number)
        url = url_of.replace("__number__", number)
        state = states.get(case.state, _text(case.state))
        parts = [f'<li data-number="{number}">\n']
        if bulk:
            parts.append(f'<input type="checkbox" name="numbers" value="{number}" '
                         f'aria-label="{pick} {number}">')
        parts.append(f'<div class="body">\n<div class="line1"><a href="{url}">{number}</a>\n')
        if row["light"]:
            due = timezone.localtime(row["due"])
            parts.append(
                f'<span class="light {_text(row["light"])}" title="{_text(row["stage"])}{term} '
                f'{due.strftime("%m-%d %H:%M")}"><span data-due="{due.isoformat()}">'
                f'{_text(row["countdown"])}</span></span>')
        else:
            parts.append(f'<span class="badge">{state}</span>')
        created = timezone.localtime(case.created_at)
        when = created.strftime("%m-%d %H:%M" if str(created.year) == this_year
                                else "%Y-%m-%d")  # Django's "m-d H:i" and "Y-m-d"
        parts.append(
            f'</div>\n<a class="desc block" href="{url}">'
            f'{_text(_shortened(case.description, 60))}</a>\n'
            f'<div class="meta">{_text(case.category.name)} · {_text(case.grid.name)} · '
            f'{sources.get(case.source, _text(case.source))} · {when}\n')
        if case.supervised:
            parts.append(f'<span class="badge du">{supervised}</span>\n')
        if case.rework_count:
            times = ngettext("返工 %(n)s 次", "返工 %(n)s 次", case.rework_count) % {
                "n": case.rework_count}
            more = f"×{case.rework_count}" if case.rework_count > 1 else ""
            parts.append(f'<span class="badge du rework" title="{_text(times)}">{rework}{more}'
                         f'</span>\n')
        if case.state != State.SUBMITTED and row["light"]:
            parts.append(f'<span class="badge">{state}</span>\n')
        if case.dispatched_unit_id:
            parts.append(f"· {_text(case.dispatched_unit.name)}")
        parts.append("</div>\n</div></li>\n")
        items.append("".join(parts))
    return mark_safe("".join(items))  # noqa: S308 (every value escaped above)
