"""cases.suggest and GET /report/suggest: a category from the resident's words."""

from __future__ import annotations

import pytest

from linge.cases.models import Category
from linge.cases.suggest import suggest

pytestmark = pytest.mark.django_db


def test_keywords_suggest_a_category(city) -> None:
    found = suggest("村口的垃圾桶满了")
    assert found[0].category_id == city.category.pk
    assert found[0].parent_name == "市容环境"


def test_category_name_counts(city) -> None:
    assert suggest("有人在田里露天焚烧秸秆")[0].category_id == city.urgent.pk


def test_nothing_matches(city) -> None:
    assert suggest("今天天气很好") == []
    assert suggest("") == []


def test_inactive_categories_are_not_suggested(city) -> None:
    Category.objects.filter(pk=city.category.pk).update(active=False)
    assert all(s.category_id != city.category.pk for s in suggest("垃圾桶满了"))


def test_endpoint(client, city) -> None:
    body = client.get("/report/suggest", {"q": "垃圾桶满了"}).json()
    assert body["suggestions"][0] == {"id": city.category.pk, "name": "暴露垃圾",
                                      "group": "市容环境"}
    assert client.get("/report/suggest").json() == {"suggestions": []}
