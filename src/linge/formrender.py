"""Django's form renderer, with the widgets our forms show written in Python.

Django renders every widget through a template (an `<input>` is three: text.html,
input.html and attrs.html, each with its own context). On the case page, whose moves
show six widgets, that was a third of the request. `Renderer` writes the same markup
for the templates below from the same context (`Widget.get_context`, so attributes,
values and choices follow Django's rules) and leaves every other template, and any
widget with a value they do not take (a datetime, a callable, another object: see
`_PLAIN`), to Django. `tests/test_formrender.py` renders every
form of the project both ways and compares the markup.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.forms.renderers import DjangoTemplates
from django.utils.formats import localize
from django.utils.functional import Promise
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeData

WIDGETS = "django/forms/widgets/"


class _Unwritten(Exception):
    """A value these writers leave to Django's templates."""


# What the writers take as Django's templates would: strings (translated ones too),
# numbers, booleans and None. A datetime (shown in local time), a callable (called by the
# template) or any other object goes to Django's templates with the whole widget.
_PLAIN = (str, Promise, int, float, Decimal, type(None))


def _plain(value: Any) -> Any:
    if not isinstance(value, _PLAIN):
        raise _Unwritten
    return value


def _text(value: Any) -> str:
    """`{{ value }}`: localized, made a string, escaped unless marked safe."""
    shown = localize(_plain(value))
    return str(conditional_escape(shown if isinstance(shown, str) else str(shown)))


def _formatted(value: Any) -> str:
    """`{{ value|stringformat:'s' }}`: a string, not localized, escaped unless marked safe."""
    value = _plain(value)
    return str(value) if isinstance(value, SafeData) else str(escape(str(value)))


def _attrs(attrs: dict) -> str:
    """django/forms/widgets/attrs.html."""
    return "".join(
        f" {_text(name)}" if value is True else f' {_text(name)}="{_formatted(value)}"'
        for name, value in attrs.items() if value is not False)


def _input(widget: dict) -> str:
    value = "" if widget["value"] is None else f' value="{_formatted(widget["value"])}"'
    return (f'<input type="{_text(widget["type"])}" name="{_text(widget["name"])}"{value}'
            f'{_attrs(widget["attrs"])}>')


def _textarea(widget: dict) -> str:
    value = _text(widget["value"]) if widget["value"] else ""
    return f'<textarea name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>\n{value}</textarea>'


def _option(option: dict) -> str | None:
    if option["template_name"] != WIDGETS + "select_option.html":
        return None
    return (f'<option value="{_formatted(option["value"])}"{_attrs(option["attrs"])}>'
            f'{_text(option["label"])}</option>')


def _select(widget: dict) -> str | None:
    parts = [f'<select name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_text(group_name)}">')
        for option in group_choices:
            written = _option(option)
            if written is None:
                return None
            parts.append(f"\n  {written}\n")
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


def _file(widget: dict) -> str | None:
    return None if widget.get("is_initial") else _input(widget)


WRITERS: dict[str, Callable[[dict], str | None]] = {
    **{WIDGETS + name: _input for name in (
        "text.html", "number.html", "email.html", "url.html", "password.html",
        "hidden.html", "search.html", "tel.html", "date.html", "datetime.html",
        "time.html", "file.html", "checkbox.html", "input.html")},
    WIDGETS + "clearable_file_input.html": _file,
    WIDGETS + "textarea.html": _textarea,
    WIDGETS + "select.html": _select,
}


class Renderer(DjangoTemplates):
    """FORM_RENDERER: the writers above where they apply, Django's templates elsewhere."""

    def render(self, template_name: str, context: dict, request: Any = None) -> str:
        write = WRITERS.get(template_name)
        try:
            written = write(context["widget"]) if write and "widget" in context else None
        except _Unwritten:
            written = None
        if written is None:
            return super().render(template_name, context, request)
        return written
