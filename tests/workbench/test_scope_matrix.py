"""Every workbench page and action, for every persona (anonymous included).

Visibility is written out by hand here (not computed by cases.policy), so the scope
module is under test too: a grid worker never sees another grid's case, a department
only what was dispatched to it, a town only its own villages. Refused actions answer
403 (visible case) or 404 (invisible case) and change nothing.
"""

from __future__ import annotations

import pytest
from django.db import transaction
from django.forms.models import model_to_dict
from django.test import Client

from linge.cases import workflow
from linge.cases.actions import DECLARATIONS
from linge.cases.models import Case, CaseEvent
from linge.notify.models import Outbox
from tests.conftest import City
from tests.workbench.conftest import report

# Which of the six cases each persona may see.
ALL = {"a", "n", "v", "t", "d", "o"}
OWN_GRID = {"a", "d", "o"}
VISIBLE: dict[str, set[str]] = {
    "grid_leader": OWN_GRID, "full_time": OWN_GRID, "part_time": OWN_GRID,
    "grid_guide": OWN_GRID, "police": OWN_GRID,
    "neighbour_worker": {"n"}, "other_village_worker": {"v"}, "other_town_worker": {"t"},
    "village_staff": {"a", "n", "d", "o"},
    "dispatcher": {"a", "n", "v", "d", "o"}, "other_town_dispatcher": {"t"},
    "town_leader": {"a", "n", "v", "d", "o"},
    "office_handler": {"o"}, "other_office_handler": set(),
    "department_handler": {"d"}, "other_department_handler": set(),
    "leader": ALL, "admin": ALL,
}
NOT_STAFF = {"resident", "other_resident"}
PERSONAS = sorted(VISIBLE) + sorted(NOT_STAFF) + ["anonymous"]
PAGES = ["/work/", "/work/?tab=submitted", "/work/?tab=doing", "/work/?tab=escalated",
         "/work/?tab=verifying", "/work/?tab=due_soon", "/work/?tab=overdue",
         "/work/?tab=done", "/work/new/", "/work/export.csv", "/work/export.xlsx",
         "/work/visits/", "/work/hot/", "/work/messages/"]
# Who may read grid A1's household register.
REGISTER_A1 = {"grid_leader", "full_time", "part_time", "grid_guide", "police", "village_staff",
               "dispatcher", "town_leader", "leader", "admin"}


def build(city: City) -> dict[str, Case]:
    cases = {
        "a": report(city, text="本网格的问题"),
        "n": report(city, grid=city.neighbour_grid, text="邻网格的问题"),
        "v": report(city, grid=city.other_village_grid, text="邻村的问题"),
        "t": report(city, grid=city.other_town_grid, text="外镇的问题"),
        "d": report(city, text="派到部门的问题"),
        "o": report(city, text="派到科室的问题"),
    }
    for key, unit in (("d", city.department), ("o", city.office)):
        case = cases[key]
        workflow.accept(case, city["full_time"])
        workflow.escalate(case, city["full_time"], reason="需执法")
        workflow.dispatch(case, city["dispatcher"], unit=unit)
    return cases


def snapshot() -> tuple:
    return (
        [model_to_dict(c) for c in Case.objects.order_by("pk")],
        CaseEvent.objects.count(),
        Outbox.objects.count(),
    )


def client_for(city: City, persona: str) -> Client:
    client = Client()
    if persona != "anonymous":
        client.force_login(city[persona])
    return client


def form_for(city: City, cases: dict[str, Case]) -> dict:
    return {
        "note": "说明", "reason": "理由", "comment": "意见", "amount": "1", "rating": "basic",
        "unit": city.office.pk, "lane": city.lanes["zhifa"].pk, "grid": city.neighbour_grid.pk,
        "assignee": city["part_time"].pk, "into": cases["n"].number,
    }


@pytest.mark.parametrize("persona", PERSONAS)
def test_pages_for_persona(city: City, persona: str) -> None:
    cases = build(city)
    client = client_for(city, persona)
    for url in PAGES:
        response = client.get(url)
        if persona == "anonymous":
            assert response.status_code == 302 and "/work/login/" in response["Location"], url
        elif persona in NOT_STAFF:
            assert response.status_code == 403, url
        else:
            assert response.status_code == 200, (url, response.status_code)
    register = client.get(f"/work/visits/grid/{city.grid.pk}/")
    if persona == "anonymous":
        assert register.status_code == 302
    elif persona in NOT_STAFF:
        assert register.status_code == 403
    else:
        assert register.status_code == (200 if persona in REGISTER_A1 else 404)
    if persona == "anonymous" or persona in NOT_STAFF:
        return
    # The inbox lists exactly the cases the persona may see (the open ones: two tabs).
    listed = set()
    for tab in ("submitted", "doing"):
        listed |= {r["case"].number for r in client.get(f"/work/?tab={tab}").context["rows"]}
    expected = {cases[k].number for k in VISIBLE[persona]}
    assert listed == expected
    exported = b"".join(client.get("/work/export.csv?tab=submitted").streaming_content).decode()
    exported += b"".join(client.get("/work/export.csv?tab=doing").streaming_content).decode()
    for key, case in cases.items():
        assert (case.number in exported) == (key in VISIBLE[persona]), key
        assert "13900000001" not in exported
    # Searching or filtering never widens the scope.
    for query in ("q=问题", f"area={city.other_town.pk}", f"area={city.other_town_grid.pk}"):
        found = {r["case"].number for r in client.get(f"/work/?tab=submitted&{query}")
                 .context["rows"]}
        assert found <= expected, query


@pytest.mark.parametrize("persona", PERSONAS)
def test_case_pages_and_actions_for_persona(city: City, persona: str) -> None:
    cases = build(city)
    client = client_for(city, persona)
    user = None if persona == "anonymous" else city[persona]
    data = form_for(city, cases)
    for key, case in cases.items():
        page = client.get(f"/work/case/{case.number}/")
        visible = persona in VISIBLE and key in VISIBLE[persona]
        if persona == "anonymous":
            assert page.status_code == 302
        elif persona in NOT_STAFF:
            assert page.status_code == 403
        else:
            assert page.status_code == (200 if visible else 404), (key, page.status_code)
        for action in [a for a, d in DECLARATIONS.items() if d.form is not None]:
            case.refresh_from_db()
            allowed = visible and action in workflow.allowed_actions(case, user)
            before = snapshot()
            url = f"/work/case/{case.number}/do/{action}/"
            with transaction.atomic():
                response = client.post(url, data)
                transaction.set_rollback(True)
            where = f"{persona} {action} on {key} ({case.state})"
            if persona == "anonymous":
                assert response.status_code == 302 and "/work/login/" in response["Location"]
            elif persona in NOT_STAFF:
                assert response.status_code == 403, where
            elif not visible:
                assert response.status_code == 404, where
            elif allowed:
                # Done (302), or refused for what the form carried (400, input kept).
                assert response.status_code in (302, 400), where
            else:
                assert response.status_code == 403, where
            assert snapshot() == before, where
            if not allowed:
                # Outside a rolled-back transaction too: a refusal changes nothing.
                assert client.post(url, data).status_code in (302, 403, 404)
                assert snapshot() == before, where
        # GET on an action is not allowed.
        if persona in VISIBLE and visible:
            assert client.get(f"/work/case/{case.number}/do/accept/").status_code == 405


@pytest.mark.parametrize("persona", PERSONAS)
def test_bulk_for_persona(city: City, persona: str) -> None:
    cases = build(city)
    client = client_for(city, persona)
    numbers = [c.number for c in cases.values()]
    user = None if persona == "anonymous" else city[persona]
    may = {k for k, c in cases.items()
           if persona in VISIBLE and k in VISIBLE[persona]
           and "accept" in workflow.allowed_actions(c, user)}
    before = {k: c.state for k, c in cases.items()}
    response = client.post("/work/bulk/", {"action": "accept", "numbers": numbers})
    expected_status = 302 if persona not in NOT_STAFF else 403
    assert response.status_code == expected_status
    for key, case in cases.items():
        case.refresh_from_db()
        if key in may:
            assert case.state == "accepted"
        else:
            assert case.state == before[key], key
