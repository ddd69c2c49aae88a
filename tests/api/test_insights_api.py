"""/api/v1/insights/: shape, scoping, errors; the numbers are those of insights.figures."""

from __future__ import annotations

import pytest
from django.test import Client

from linge.cases import workflow
from linge.cases.models import Rating
from tests.conftest import City, at
from tests.conftest import logged_in as login

KEYS = {
    "received", "closed", "closed_on_time", "closed_in_grid", "reopened", "staff_reported",
    "rejected", "merged", "rated", "satisfied", "basic_satisfied", "unsatisfied",
    "closure_rate", "on_time_rate", "satisfaction_rate", "rating_rate", "in_grid_rate",
    "rework_rate", "proactive_rate", "response_median_s", "response_p90_s",
    "resolution_median_s", "resolution_p90_s", "per_1000_households",
    "area", "since", "until", "as_of",
}
PERIOD = "since=2026-11-01&until=2026-11-30"



@pytest.fixture
def history(city: City) -> City:
    # Two cases in town A's grid, one in town B: no catch-up here, the API folds them.
    first = workflow.submit(city["resident"], category=city.plain, description="路灯坏了",
                            grid=city.grid, now=at("2026-11-02 09:00")).case
    workflow.accept(first, city["full_time"], now=at("2026-11-02 09:30"))
    workflow.resolve(first, city["full_time"], note="已修", now=at("2026-11-02 15:00"))
    workflow.rate(first, city["resident"], rating=Rating.UNSATISFIED, now=at("2026-11-03 09:00"))
    workflow.resolve(first, city["full_time"], note="再修", now=at("2026-11-03 10:00"))
    workflow.rate(first, city["resident"], rating=Rating.SATISFIED, now=at("2026-11-03 11:00"))
    second = workflow.submit(city["resident"], category=city.plain, description="垃圾满了",
                             grid=city.grid, now=at("2026-11-04 23:30")).case
    workflow.reject(second, city["grid_leader"], reason="重复", now=at("2026-11-05 08:00"))
    workflow.submit(city["resident"], category=city.plain, description="井盖",
                    grid=city.other_town_grid, now=at("2026-11-05 10:00"))
    return city


def test_figures_shape_and_values(history: City) -> None:
    response = login("town_leader").get(f"/api/v1/insights/figures?area=331081107&{PERIOD}")
    assert response.status_code == 200, response.content
    data = response.json()
    assert set(data) == KEYS
    assert data["received"] == 1 and data["rejected"] == 1 and data["closed"] == 1
    assert data["rated"] == 2 and data["unsatisfied"] == 1 and data["satisfied"] == 1
    assert data["satisfaction_rate"] == 0.5 and data["rework_rate"] == 1.0
    assert data["closure_rate"] == 1.0 and data["proactive_rate"] == 0.0
    assert data["per_1000_households"] == round(1000 / 750, 2)  # grids of town A: 300+200+250
    # 30 minutes to accept: within 5%.
    assert abs(data["response_median_s"] - 1800) <= 0.05 * 1800
    assert data["area"]["code"] == "331081107" and data["since"] == "2026-11-01"
    assert data["as_of"]


def test_scoping(history: City) -> None:
    town_leader = login("town_leader")
    assert town_leader.get(f"/api/v1/insights/figures?area=331081001&{PERIOD}").status_code == 404
    assert town_leader.get(f"/api/v1/insights/figures?area=331081&{PERIOD}").status_code == 404
    assert town_leader.get(
        f"/api/v1/insights/figures?area=331081107001001&{PERIOD}").status_code == 200
    city_leader = login("leader")
    data = city_leader.get(f"/api/v1/insights/figures?area=331081&{PERIOD}").json()
    assert data["received"] == 2
    assert city_leader.get(f"/api/v1/insights/figures?area=331081001&{PERIOD}").json()[
        "received"] == 1
    worker = login("other_town_worker")
    assert worker.get(f"/api/v1/insights/figures?area=331081107&{PERIOD}").status_code == 404
    missing = worker.get(f"/api/v1/insights/figures?area=999999&{PERIOD}")
    assert missing.status_code == 404
    assert set(missing.json()["error"]) == {"code", "message"}


def test_worker_figures(history: City) -> None:
    worker_id = history["full_time"].pk
    data = login("town_leader").get(
        f"/api/v1/insights/figures?worker={worker_id}&{PERIOD}").json()
    assert set(data) == KEYS and data["received"] == 1 and data["closed"] == 1
    assert data["per_1000_households"] is None
    other = history["other_town_worker"].pk
    assert login("town_leader").get(
        f"/api/v1/insights/figures?worker={other}&{PERIOD}").status_code == 404


def test_errors_have_one_shape(history: City) -> None:
    anonymous = Client().get(f"/api/v1/insights/figures?{PERIOD}")
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "unauthorized"
    client = login("leader")
    bad = client.get("/api/v1/insights/figures?since=2026-12-01&until=2026-11-01")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_request"
    typo = client.get("/api/v1/insights/figures?since=yesterday")
    assert typo.status_code == 400 and typo.json()["error"]["code"] == "invalid"
    level = client.get("/api/v1/insights/rankings?level=planet")
    assert level.status_code == 400


def test_openapi_lists_the_routes(db) -> None:
    spec = Client().get("/api/v1/openapi.json").json()
    assert "/api/v1/insights/figures" in spec["paths"]
    assert "/api/v1/insights/rankings" in spec["paths"]


def test_rankings_and_screens_answer(history: City) -> None:
    client = login("leader")
    for level in ("town", "village", "grid", "worker"):
        data = client.get(f"/api/v1/insights/rankings?level={level}&{PERIOD}").json()
        assert data["rows"] and "score" in data["rows"][0] and "formula" in data
    for name in ("disposal", "analysis", "record", "map"):
        assert client.get(f"/api/v1/insights/{name}?{PERIOD}").status_code == 200, name
    public = Client().get(f"/api/v1/public/rankings?level=grid&{PERIOD}")
    assert public.status_code == 200
    assert Client().get(f"/api/v1/public/rankings?level=worker&{PERIOD}").status_code == 400
