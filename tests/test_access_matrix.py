"""Who may open which route: every route of the URL configuration (read from it, so a
route added without a line here fails), for every persona of the scope matrix, a
resident, another resident and an anonymous visitor; the grid's own team, another grid,
another village and another town among them.

The table is written by hand from the design (README's endpoint table, docs/design.md):
it never asks cases.policy. Each cell is what a GET answers:
  ok     200 (or 204)
  login  a redirect to a login page
  deny   403 or 404 (a case one may not see is 404, so its existence does not leak)
  post   405: the route only takes POST (its POST rules are tested by the scope matrix)
  away   another redirect (a logged-in user sent on from a login page)
"""

from __future__ import annotations

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from linge.cases import workflow
from linge.cases.photos import store_photo
from linge.insights.models import Deliberation
from linge.resident.qr import grid_qr_path
from linge.visits.models import Household
from tests.conftest import City
from tests.resident.conftest import jpeg_bytes
from tests.routes import all_routes

GRID_TEAM = {"grid_leader", "full_time", "part_time", "grid_guide", "police"}
OTHER_GRIDS = {"neighbour_worker", "other_village_worker", "other_town_worker"}
TOWN = {"dispatcher", "town_leader"}
HANDLERS = {"office_handler", "other_office_handler", "department_handler",
            "other_department_handler"}
STAFF = GRID_TEAM | OTHER_GRIDS | TOWN | HANDLERS | {
    "village_staff", "other_town_dispatcher", "leader", "admin"}
RESIDENTS = {"resident", "other_resident"}
EVERYONE = STAFF | RESIDENTS | {"anonymous"}
# Who sees case "a" (reported by the resident in grid A1a, not escalated).
SEES_A = GRID_TEAM | {"village_staff", "dispatcher", "town_leader", "leader", "admin"}
# Who reads grid A1a's household register.
REGISTER_A1 = GRID_TEAM | {"village_staff", "dispatcher", "town_leader", "leader", "admin"}
# Who keeps village A1's deliberation agenda: its village staff.
AGENDA_A1 = {"village_staff"}
# Who patrols (巡查): grid teams and village staff in their own grids; the administrator.
PATROLLERS = GRID_TEAM | OTHER_GRIDS | {"village_staff", "admin"}
# Who takes 12345 calls and 上级交办 and so picks a grid by search: the towns'
# dispatchers, the city command centre and the administrator (a town's leader reads
# the cockpit; taking calls is the dispatcher's seat).
HOTLINE = {"dispatcher", "other_town_dispatcher", "leader", "admin"}
# The leaders' figures are read by area: a department or an office has none.
FIGURES = STAFF - HANDLERS


def staff_only(allowed: set[str]) -> dict[str, str]:
    """Staff in `allowed` get the page, other staff and residents are refused, anonymous
    visitors are sent to the workbench login."""
    return {p: "ok" if p in allowed else "login" if p == "anonymous" else "deny"
            for p in EVERYONE}


def everyone(outcome: str = "ok") -> dict[str, str]:
    return dict.fromkeys(EVERYONE, outcome)


def api_staff(allowed: set[str]) -> dict[str, str]:
    """The API answers 401 to anyone not logged in as staff, residents included."""
    return {p: "ok" if p in allowed else "deny" if p in STAFF else "login" for p in EVERYONE}


EXPECTED: dict[str, dict[str, str]] = {
    "/": everyone(),
    "/healthz": everyone(),
    "/i18n/setlang/": everyone("away"),  # a GET changes nothing and sends one back
    "/g/<code>": everyone(),
    "/report": everyone(),
    "/report/suggest": everyone(),
    "/report/nearby": everyone(),
    "/report/where": everyone(),
    "/c/<number>/support": everyone("post"),
    "/c/<number>/rate": everyone("post"),
    # The reporter; staff who may see the case may read what the resident reads.
    "/c/<number>": {p: "ok" if p in SEES_A | {"resident"} else "deny" for p in EVERYONE},
    "/p/<pk>/<size>": {p: "ok" if p in SEES_A | {"resident"} else "deny" for p in EVERYONE},
    "/login": everyone(),
    "/logout": everyone("post"),
    "/track": everyone(),
    "/mine": everyone(),
    # Residents' messages: anyone else is sent to the residents' login.
    "/inbox": {p: "ok" if p in RESIDENTS else "login" for p in EVERYONE},
    "/work/": staff_only(STAFF),
    "/work/login/": {p: "ok" if p == "anonymous" else "away" for p in EVERYONE},
    "/work/logout/": everyone("post"),
    "/work/bulk/": {**staff_only(STAFF), **dict.fromkeys(STAFF, "post")},
    "/work/messages/": staff_only(STAFF),
    "/work/export.csv": staff_only(STAFF),
    "/work/export.xlsx": staff_only(STAFF),
    "/work/case/<number>/": staff_only(SEES_A),
    "/work/case/<number>/do/<action>/": {**staff_only(STAFF), **dict.fromkeys(STAFF, "post")},
    "/work/new/": staff_only(STAFF),
    "/work/new/<source>/": staff_only(PATROLLERS),
    # The 12345 form's grid search.
    "/work/new/<source>/grids": staff_only(HOTLINE),
    "/work/visits/": staff_only(STAFF),
    "/work/visits/grid/<grid_id>/": staff_only(REGISTER_A1),
    "/work/visits/household/<pk>/": staff_only(REGISTER_A1),
    "/work/hot/": staff_only(STAFF),
    "/work/hot/agenda/": staff_only(set()),  # POST only, and a GET is refused outright
    "/work/hot/agenda/<pk>/": staff_only(AGENDA_A1),
    "/cockpit/": staff_only(FIGURES),
    "/cockpit/disposal/": staff_only(FIGURES),
    "/cockpit/analysis/": staff_only(FIGURES),
    "/cockpit/board/": staff_only(FIGURES),
    "/cockpit/board/public/": everyone(),
    "/cockpit/record/": staff_only(FIGURES),
    "/cockpit/cases/": staff_only(FIGURES),
    "/cockpit/export.xlsx": staff_only(FIGURES),
    # README calls it the API's root; it answers 404 today (the API's own issue).
    "/api/v1/": everyone("deny"),
    "/api/v1/openapi.json": everyone(),
    "/api/v1/insights/figures": api_staff(FIGURES),
    "/api/v1/insights/rankings": api_staff(FIGURES),
    "/api/v1/insights/disposal": api_staff(FIGURES),
    "/api/v1/insights/map": api_staff(FIGURES),
    "/api/v1/insights/analysis": api_staff(FIGURES),
    "/api/v1/insights/record": api_staff(FIGURES),
    "/api/v1/insights/cases": api_staff(FIGURES),
    "/api/v1/public/rankings": everyone(),
    "/api/v1/docs": everyone(),
    # The case API answers what the workbench pages answer, 401 where a page sends to
    # its login; a resident is refused the staff inbox (403) and reads their own cases.
    "/api/v1/cases": {**api_staff(STAFF), **dict.fromkeys(RESIDENTS, "deny")},
    "/api/v1/cases/<number>": {**api_staff(SEES_A), **dict.fromkeys(RESIDENTS, "deny")},
    "/api/v1/cases/<number>/actions": {**api_staff(SEES_A),
                                       **dict.fromkeys(RESIDENTS, "deny")},
    "/api/v1/cases/<number>/actions/<action>": everyone("post"),
    "/api/v1/me/cases": {p: "ok" if p in RESIDENTS else "deny" if p in STAFF else "login"
                         for p in EVERYONE},
    "/api/v1/categories": everyone(),
    "/api/v1/areas": everyone(),
    "/api/v1/areas/locate": everyone(),
    # Open311 GeoReport v2 is public: anyone reads discovery, services and requests.
    "/open311/v2/discovery.<fmt>": everyone(),
    "/open311/v2/services.<fmt>": everyone(),
    # A service without extra questions has no definition (GeoReport v2: 404).
    "/open311/v2/services/<code>.<fmt>": everyone("deny"),
    "/open311/v2/requests.<fmt>": everyone(),
    "/open311/v2/requests/<number>.<fmt>": everyone(),
    "/open311/v2/tokens/<token>.<fmt>": everyone("deny"),  # no such token: 404
    "/open311/v2/<rest>": everyone("deny"),
}


def test_every_route_has_a_rule() -> None:
    routes = all_routes()
    missing = [r for r in routes if r not in EXPECTED]
    assert not missing, f"routes with no line in the access matrix: {missing}"
    assert not [r for r in EXPECTED if r not in routes], "rules for routes that are gone"


@pytest.fixture
def places(city: City, media) -> dict[str, str]:
    photo = store_photo(SimpleUploadedFile("a.jpg", jpeg_bytes(), "image/jpeg"))
    case = workflow.submit(city["resident"], category=city.plain, description="楼道堆物",
                           grid=city.grid, photos=[photo]).case
    household = Household.objects.create(grid=city.grid, address="上墩村1号", head="王某",
                                         people=3, updated_at=timezone.now())
    item = Deliberation.objects.create(village=city.village, title="停车难",
                                       meeting_on=date(2026, 12, 1), created_by=city["village_staff"],
                                       created_at=timezone.now(), updated_at=timezone.now())
    return {
        "/g/<code>": grid_qr_path(city.grid.code),
        "/c/<number>/support": f"/c/{case.number}/support",
        "/c/<number>/rate": f"/c/{case.number}/rate",
        "/c/<number>": f"/c/{case.number}",
        "/p/<pk>/<size>": f"/p/{case.attachments.get().pk}/thumb",
        "/work/case/<number>/": f"/work/case/{case.number}/",
        "/work/case/<number>/do/<action>/": f"/work/case/{case.number}/do/accept/",
        "/work/new/<source>/": "/work/new/patrol/",
        "/work/visits/grid/<grid_id>/": f"/work/visits/grid/{city.grid.pk}/",
        "/work/visits/household/<pk>/": f"/work/visits/household/{household.pk}/",
        "/work/hot/agenda/<pk>/": f"/work/hot/agenda/{item.pk}/",
        "/work/new/<source>/grids": "/work/new/hotline/grids?q=%E4%B8%8A%E5%A2%A9",
        "/api/v1/cases/<number>": f"/api/v1/cases/{case.number}",
        "/api/v1/cases/<number>/actions": f"/api/v1/cases/{case.number}/actions",
        "/api/v1/cases/<number>/actions/<action>": f"/api/v1/cases/{case.number}/actions/accept",
        "/api/v1/areas/locate": "/api/v1/areas/locate?lon=121.305&lat=28.305",
        "/open311/v2/discovery.<fmt>": "/open311/v2/discovery.json",
        "/open311/v2/services.<fmt>": "/open311/v2/services.json",
        "/open311/v2/services/<code>.<fmt>": f"/open311/v2/services/{city.plain.code}.json",
        "/open311/v2/requests.<fmt>": "/open311/v2/requests.json",
        "/open311/v2/requests/<number>.<fmt>": f"/open311/v2/requests/{case.number}.json",
        "/open311/v2/tokens/<token>.<fmt>": "/open311/v2/tokens/nosuchtoken.json",
        "/open311/v2/<rest>": "/open311/v2/nothing-here.json",
        "/cockpit/cases/": "/cockpit/cases/?figure=received",
        "/api/v1/insights/cases": "/api/v1/insights/cases?figure=received",
        "/report/nearby": f"/report/nearby?category={city.plain.pk}&lon=121.305&lat=28.305",
        "/report/where": "/report/where?lon=121.305&lat=28.305",
        "/report/suggest": "/report/suggest?text=%E5%A0%86%E7%89%A9",
    }


def outcome(response) -> str:
    status = response.status_code
    if status in (200, 204):
        return "ok"
    if status in (403, 404):
        return "deny"
    if status == 405:
        return "post"
    if status in (301, 302):
        where = response["Location"]
        return "login" if "/login" in where and "next=" in where else "away"
    if status == 401:
        return "login"
    return f"status {status}"


@pytest.mark.parametrize("route", sorted(EXPECTED))
def test_who_may_open_each_route(route: str, city: City, places) -> None:
    path = places.get(route, route)
    wrong = {}
    for persona in sorted(EVERYONE):
        client = Client()
        if persona != "anonymous":
            client.force_login(city[persona])
        got = outcome(client.get(path))
        if got != EXPECTED[route][persona]:
            wrong[persona] = f"{got} (expected {EXPECTED[route][persona]})"
    assert not wrong, f"{path}: {wrong}"
