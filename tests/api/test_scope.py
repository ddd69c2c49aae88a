"""Every /api/v1 case route, for every persona of the workbench scope matrix, gives
what the pages give: the same cases in each inbox tab, the same case pages found or
not, the same moves allowed, refused or missing, and a refusal changes nothing.

Page ↔ API: 302 to the login ↔ 401; 403 ↔ 403; 404 ↔ 404; a move done (302) or refused
for its input (400) ↔ 200 or 400."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import Client

from linge.cases import workflow
from linge.cases.actions import DECLARATIONS
from linge.cases.inbox import TABS
from tests.conftest import City
from tests.workbench.test_scope_matrix import (
    NOT_STAFF,
    PERSONAS,
    VISIBLE,
    build,
    client_for,
    form_for,
    snapshot,
)

PAGE_TO_API = {302: {401}, 403: {403}, 404: {404}, 200: {200}, 400: {400}}
# A page redirects after a move done and after one the workflow refused (409 here).
MOVE_TO_API = {302: {200, 400, 404, 409}, 400: {400}, 403: {403}, 404: {404}}


def api_numbers(client: Client, tab: str) -> list[str]:
    numbers, cursor = [], None
    for _ in range(50):
        params = {"tab": tab, "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/cases", params).json()
        numbers += [i["number"] for i in page["items"]]
        cursor = page["next"]
        if cursor is None:
            return numbers
    raise AssertionError("more than 50 pages")


@pytest.mark.parametrize("persona", PERSONAS)
def test_lists_match_the_inbox(city: City, persona: str) -> None:
    build(city)
    client = client_for(city, persona)
    for tab, _label in TABS:
        page = client.get(f"/work/?tab={tab}")
        api = client.get("/api/v1/cases", {"tab": tab})
        assert api.status_code in PAGE_TO_API[page.status_code], (tab, api.status_code)
        if page.status_code == 200:
            shown = [r["case"].number for r in page.context["rows"]]
            assert api_numbers(client, tab) == shown, tab
    if persona in VISIBLE:
        for query in ("q=问题", f"area={city.other_town.pk}", f"category={city.plain.pk}"):
            page = client.get(f"/work/?tab=submitted&{query}")
            api = client.get(f"/api/v1/cases?tab=submitted&{query}&limit=200").json()
            assert [i["number"] for i in api["items"]] == [
                r["case"].number for r in page.context["rows"]], query


@pytest.mark.parametrize("persona", PERSONAS)
def test_cases_and_moves_match_the_case_pages(city: City, persona: str) -> None:
    cases = build(city)
    client = client_for(city, persona)
    user = None if persona == "anonymous" else city[persona]
    data = form_for(city, cases)
    for key, case in cases.items():
        page = client.get(f"/work/case/{case.number}/")
        detail = client.get(f"/api/v1/cases/{case.number}")
        assert detail.status_code in PAGE_TO_API[page.status_code], (key, detail.status_code)
        offered = client.get(f"/api/v1/cases/{case.number}/actions")
        assert offered.status_code == detail.status_code
        if page.status_code == 200:
            buttons = [m["action"] for m in page.context["actions"]]
            assert [m["action"] for m in offered.json()] == buttons
            assert detail.json()["actions"] == buttons
        for action in [a for a, d in DECLARATIONS.items() if d.form is not None]:
            case.refresh_from_db()
            before = snapshot()
            with transaction.atomic():
                by_page = client.post(f"/work/case/{case.number}/do/{action}/", data)
                transaction.set_rollback(True)
            assert snapshot() == before
            with transaction.atomic():
                by_api = client.post(f"/api/v1/cases/{case.number}/actions/{action}", data)
                transaction.set_rollback(True)
            assert snapshot() == before
            where = f"{persona} {action} on {key} ({case.state})"
            # Anonymous: the page sends to the login (302), the API says 401.
            expected = PAGE_TO_API if user is None else MOVE_TO_API
            assert by_api.status_code in expected[by_page.status_code], (
                where, by_page.status_code, by_api.status_code)
            if by_api.status_code == 200:
                assert action in workflow.allowed_actions(case, user), where
            if by_api.status_code >= 400:
                assert set(by_api.json()) == {"error"}, where


@pytest.mark.parametrize("persona", sorted(NOT_STAFF))
def test_my_cases_match_the_mine_page(city: City, persona: str) -> None:
    build(city)
    client = client_for(city, persona)
    page = [c.number for c in client.get("/mine").context["cases"]]
    api = [i["number"] for i in client.get("/api/v1/me/cases").json()["items"]]
    assert api == page
