"""linge/formrender.py writes the widgets' markup in Python: it must be exactly what
Django's own templates write, for every widget our forms use and on every page with a
form. Django's renderer is the oracle here: each case is rendered both ways."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.test import Client
from django.utils.safestring import mark_safe

from linge.cases import workflow
from linge.cases.actions import DECLARATIONS
from linge.cases.forms import PhotosField, TextField
from linge.formrender import WIDGETS, Renderer
from tests.conftest import City
from tests.workbench.conftest import login, report

DJANGO, OURS = DjangoTemplates(), Renderer()
AWKWARD = 'a<b> & "c" \'d\''


class Every(forms.Form):
    text = forms.CharField(max_length=20, widget=forms.TextInput(
        attrs={"placeholder": AWKWARD, "inputmode": "numeric", "autofocus": True,
               "disabled": False}))
    number = forms.IntegerField(min_value=1, max_value=365)
    decimal = forms.DecimalField(max_digits=5, decimal_places=2)
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    email = forms.EmailField(required=False)
    secret = forms.CharField(widget=forms.PasswordInput(render_value=True))
    hidden = forms.CharField(widget=forms.HiddenInput)
    note = TextField(label="说明", required=True)
    area = forms.CharField(widget=forms.Textarea)
    pick = forms.ChoiceField(choices=[("", "请选择"), ("a", AWKWARD), (3, "三"),
                                      ("组", [("x", "甲"), ("y", mark_safe("<b>乙</b>"))])])
    many = forms.MultipleChoiceField(choices=[("1", "一"), ("2", "二")])
    flag = forms.BooleanField(required=False)
    photos = PhotosField(required=False)
    upload = forms.FileField(required=False)


@pytest.mark.parametrize("data", [
    None,
    {},
    {"text": AWKWARD, "number": "0", "decimal": "1.5", "day": "2026-02-30", "email": "x",
     "secret": AWKWARD, "hidden": AWKWARD, "note": AWKWARD, "area": "\n第一行\n<第二行>",
     "pick": "y", "many": ["1", "2"], "flag": "on"},
    {"text": "ok", "number": "12", "pick": "3", "flag": "", "area": "   "},
])
def test_every_widget_reads_as_djangos_templates_write_it(data) -> None:
    form = Every(data, initial={"day": date(2026, 12, 1), "pick": "a", "flag": True})
    for field in form:
        assert _both(form, field) is not None, field.name


def _both(form: forms.Form, field: forms.BoundField) -> str:
    form.renderer = DJANGO
    expected = str(field)
    form.renderer = OURS
    written = str(field)
    assert written == expected
    return written


class _Photo:
    """An uploaded file as a model's FileField gives it: a name and a URL."""

    url = "/media/p/1.jpg"

    def __str__(self) -> str:
        return "1.jpg"


class _Marked:
    def __html__(self) -> str:
        return "<b>marked</b>"

    def __str__(self) -> str:
        return "<i>plain</i>"


def _render_both(template_name: str, context: dict) -> tuple[str, str]:
    return OURS.render(template_name, context), DJANGO.render(template_name, context)


def test_what_it_does_not_write_goes_to_django() -> None:
    at = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)  # 20:00 in Beijing
    cases = [
        ("clearable_file_input.html",
         forms.ClearableFileInput().get_context("f", _Photo(), {})),  # an initial file
        ("radio.html", forms.RadioSelect(choices=[("a", "甲")]).get_context("r", "a", {})),
        ("select.html", forms.Select(choices=[(at, at)]).get_context("s", at, {})),
        ("text.html", forms.TextInput(attrs={"data-x": lambda: "called"}).get_context(
            "t", None, {})),
        ("text.html", forms.TextInput(attrs={"title": _Marked()}).get_context("t", None, {})),
        ("select.html", forms.Select(choices=[("m", _Marked())]).get_context("s", "m", {})),
    ]
    for name, context in cases:
        ours, djangos = _render_both(WIDGETS + name, context)
        assert ours == djangos, name
    assert "20:00" in _render_both(WIDGETS + "select.html", cases[2][1])[0]


def test_the_widgets_it_writes_never_reach_djangos_templates(monkeypatch) -> None:
    form = Every({"text": AWKWARD, "pick": "y", "area": "x"})
    expected = [str(field) for field in form]

    def refuse(*args, **kwargs):
        raise AssertionError("rendered by a template")

    monkeypatch.setattr(DjangoTemplates, "render", refuse)
    form.renderer = OURS
    assert [str(field) for field in form] == expected


def test_every_moves_form_reads_the_same(city: City) -> None:
    """Each declared move's form, as the case page binds it and as a refused one comes
    back, for a case reported, accepted, escalated and dispatched."""
    case = report(city)
    cases = [case]
    for step in (lambda c: workflow.accept(c, city["full_time"]),
                 lambda c: workflow.escalate(c, city["full_time"], reason="需执法"),
                 lambda c: workflow.dispatch(c, city["dispatcher"], unit=city.office)):
        case = step(case)
        cases.append(case)
    rendered = 0
    for c in cases:
        for declaration in DECLARATIONS.values():
            if declaration.form is None:
                continue
            for data in (None, {key: AWKWARD for key in ("note", "reason", "reply", "comment",
                                                          "into_number", "grid_code", "amount",
                                                          "rating", "unit", "lane", "grid")}):
                form = workflow.bind(declaration.action, c, city["leader"], data)
                form.is_valid() if data is not None else None
                for field in form:
                    _both(form, field)
                    rendered += 1
    assert rendered > 200


def _without_tokens(page: str) -> str:
    # The CSRF token is masked anew on every response, a form's submit key drawn anew.
    return re.sub(r'(name="(csrfmiddlewaretoken|submit_key)"( id="key")?) value="[^"]+"', r"\1",
                  page)


def _pages(client: Client, who, paths: list[str]) -> list[tuple[int, str]]:
    client.logout()
    if who is not None:
        login(client, who)
    return [(r.status_code, _without_tokens(r.content.decode()))
            for r in (client.get(path) for path in paths)]


def test_the_pages_with_forms_are_the_same(client: Client, city: City, settings) -> None:
    case = report(city)
    workflow.accept(case, city["full_time"])
    visits = f"/work/visits/grid/{city.grid.pk}/"
    seen = {
        city["full_time"]: [f"/work/case/{case.number}/", "/work/new/patrol/", visits,
                            "/work/hot/", "/work/?tab=doing"],
        city["dispatcher"]: ["/work/new/hotline/", "/work/new/higher/",
                             f"/work/case/{case.number}/"],
        None: ["/work/login/", f"/report?grid={city.grid.code}", "/track"],
    }
    ours = {who: _pages(client, who, paths) for who, paths in seen.items()}
    settings.FORM_RENDERER = "django.forms.renderers.DjangoTemplates"
    for who, paths in seen.items():
        for path, mine, theirs in zip(paths, ours[who], _pages(client, who, paths),
                                      strict=True):
            assert mine == theirs, path
            assert mine[0] == 200, path
    textareas = sum(page.count("<textarea name=") for pages in ours.values()
                    for _status, page in pages)
    assert textareas >= 6
