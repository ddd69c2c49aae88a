"""linge/urltag.py: `{% url %}` remembers the path of a route without arguments, and
gives what Django's tag gives wherever the site is served and whatever the language."""

from __future__ import annotations

import pytest
from django.template import engines
from django.urls import NoReverseMatch, set_script_prefix
from django.utils import translation

from linge import urltag


def _render(source: str, **context) -> str:
    return engines["django"].from_string(source).render(context)


@pytest.fixture(autouse=True)
def _prefix():
    yield
    set_script_prefix("/")


def test_a_route_without_arguments_is_reversed_once() -> None:
    urltag._PATHS.clear()
    assert _render("{% url 'workbench:inbox' %}") == "/work/"
    assert len(urltag._PATHS) == 1
    assert _render("{% url 'workbench:inbox' %}|{% url 'workbench:inbox' %}") == "/work/|/work/"
    assert len(urltag._PATHS) == 1


def test_the_path_follows_the_script_prefix_and_the_language() -> None:
    set_script_prefix("/linge/")
    assert _render("{% url 'workbench:inbox' %}") == "/linge/work/"
    set_script_prefix("/")
    assert _render("{% url 'workbench:inbox' %}") == "/work/"
    with translation.override("en"):
        assert _render("{% url 'workbench:inbox' %}") == "/work/"


def test_arguments_variables_and_as_are_djangos() -> None:
    assert _render("{% url 'workbench:case' number %}", number="20261201-000001") == \
        "/work/case/20261201-000001/"
    assert _render("{% url 'workbench:case' number %}", number="20261201-000002") == \
        "/work/case/20261201-000002/"
    assert _render("{% url name %}", name="workbench:messages") == "/work/messages/"
    assert _render("{% url 'no:such' as found %}[{{ found }}]") == "[]"
    with pytest.raises(NoReverseMatch):
        _render("{% url 'no:such' %}")
