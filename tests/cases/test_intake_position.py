"""A position given with a report lies in the chosen grid or within
LINGE_LOCATE_FALLBACK_M of it, whatever the channel (cases.intake); else the report is
refused with a clear message and nothing is written.

Grid A1a is the square 121.30–121.31 E, 28.30–28.31 N (tests/conftest.py); at 28.3° N a
thousandth of a degree is about 98 m east–west and 111 m north–south."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

from linge.areas.models import Area, Level
from linge.cases import intake, workflow
from linge.cases.models import Case, CaseEvent
from tests.conftest import City
from tests.workbench.conftest import login

REFUSED = "不在「上墩村第1网格」内，也不在其 300 米以内"


def patrol(client: Client, city: City, lon, lat):
    return client.post("/work/new/patrol/", {
        "grid": city.grid.pk, "category": city.plain.pk, "description": "路边堆放建筑垃圾",
        "lon": lon, "lat": lat})


@pytest.mark.parametrize(("lon", "lat"), [("0", "0"), ("121.35", "28.305"),
                                          ("121.305", "28.32"), ("-121.305", "28.305")])
def test_a_patrol_far_from_its_grid_is_refused(client: Client, city: City, lon, lat) -> None:
    login(client, city["full_time"])
    response = patrol(client, city, lon, lat)
    assert response.status_code == 400 and REFUSED in response.content.decode()
    assert not Case.objects.exists() and not CaseEvent.objects.exists()


@pytest.mark.parametrize(("lon", "lat"), [
    ("121.305", "28.305"),  # inside
    ("121.2985", "28.305"),  # ~150 m west of the grid, outside every grid
    ("121.3115", "28.305"),  # ~150 m inside the neighbour grid: still near this one
    ("121.305", "28.3025"),  # ~280 m south of it
])
def test_a_patrol_in_or_near_its_grid_is_taken(client: Client, city: City, lon, lat) -> None:
    login(client, city["full_time"])
    assert patrol(client, city, lon, lat).status_code == 302
    assert Case.objects.get().lon == float(lon)


def test_350_metres_off_is_too_far(client: Client, city: City) -> None:
    login(client, city["full_time"])
    assert patrol(client, city, "121.305", "28.2968").status_code == 400  # ~355 m south


def test_the_resident_page_never_stores_a_far_position(client: Client, city: City) -> None:
    """A resident's phone may not know where it is: the report is taken, without the
    position (resident/views.py drops a position outside the grid before intake)."""
    response = client.post("/report", {
        "submit_key": uuid.uuid4().hex, "category": city.category.pk, "grid": city.grid.code,
        "description": "村口垃圾桶满了", "lon": "0", "lat": "0"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    case = Case.objects.get()
    assert case.lon is None and case.lat is None


def test_every_channel_goes_through_intake(city: City) -> None:
    for source in ("patrol", "visit", "hotline", "higher", "resident_page", "open311"):
        with pytest.raises(workflow.WorkflowError, match="不在「上墩村第1网格」内"):
            intake.check_position(intake.Report(category=city.plain, description="x",
                                                grid=city.grid, lon=0.0, lat=0.0))
        assert source  # the rule does not depend on the channel


def test_a_grid_without_an_outline_takes_any_position(client: Client, city: City) -> None:
    Area.objects.filter(pk=city.grid.pk).update(boundary=None)
    city.grid.refresh_from_db()
    assert city.grid.level == Level.GRID
    login(client, city["full_time"])
    assert patrol(client, city, "121.305", "28.305").status_code == 302
