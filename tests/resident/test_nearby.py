"""cases.nearby and GET /report/nearby: open cases of the same category within 100 m."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from linge.cases import workflow
from linge.cases.nearby import distance_m, nearby_open_cases

pytestmark = pytest.mark.django_db
LON, LAT = 121.305, 28.305


def report(city, category=None, lon=LON, lat=LAT, days_ago=0, grid=None):
    return workflow.submit(
        city["resident"], category=category or city.category, grid=grid or city.grid,
        description="垃圾", lon=lon, lat=lat, now=timezone.now() - timedelta(days=days_ago),
    ).case


def test_distance() -> None:
    assert abs(distance_m(LON, LAT, LON, LAT + 0.001) - 111.2) < 0.5


def test_finds_open_cases_nearby(city) -> None:
    near = report(city, lat=LAT + 0.0005)  # ~56 m
    report(city, lat=LAT + 0.0012)  # ~134 m
    report(city, category=city.plain)  # another category
    report(city, days_ago=31)  # too old
    closed = report(city, lon=LON + 0.0001)
    workflow.reject(closed, city["full_time"], reason="重复")
    found = nearby_open_cases(city.category.pk, LON, LAT)
    assert [c for c, _d in found] == [near]
    assert 50 < found[0][1] < 60


def test_without_position_the_grid_stands_in(city) -> None:
    same = report(city, lon=None, lat=None)
    report(city, lon=None, lat=None, grid=city.neighbour_grid)
    assert [c for c, _ in nearby_open_cases(city.category.pk, None, None, grid_id=city.grid.pk)] == [same]
    assert nearby_open_cases(city.category.pk, None, None) == []


def test_endpoint_shows_no_personal_data(client, city) -> None:
    case = workflow.submit(city["resident"], category=city.category, grid=city.grid,
                           description="垃圾，联系我 13900000001", lon=LON, lat=LAT).case
    body = client.get("/report/nearby", {"category": city.category.pk, "lon": LON, "lat": LAT}).json()
    [row] = body["cases"]
    assert row["number"] == case.number and row["distance"] == 0
    assert row["url"] == f"/c/{case.number}/support"
    # Neither the text (it may hold a name or a phone number) nor the reporter.
    assert "description" not in row and "联系我" not in str(body)
    assert "13900000001" not in str(body) and "居民甲" not in str(body)
    assert client.get("/report/nearby", {"category": "x"}).json() == {"cases": []}
    assert client.get("/report/nearby", {"category": "9" * 25}).json() == {"cases": []}


def test_endpoint_lists_only_the_scanned_village(client, city) -> None:
    from linge.resident.qr import grid_qr_path

    far = workflow.submit(city["other_resident"], category=city.category,
                          grid=city.other_town_grid, description="垃圾").case
    # Without a scanned QR code, a grid code in the query shows nothing.
    asked = {"category": city.category.pk, "grid": city.other_town_grid.code}
    assert client.get("/report/nearby", asked).json() == {"cases": []}
    # After scanning grid A1, another town's grid is still not listable.
    client.get(grid_qr_path(city.grid.code))
    assert far.number not in str(client.get("/report/nearby", asked).json())
    # A grid of the scanned village is.
    mine = workflow.submit(city["other_resident"], category=city.category,
                           grid=city.neighbour_grid, description="垃圾").case
    asked["grid"] = city.neighbour_grid.code
    assert mine.number in str(client.get("/report/nearby", asked).json())


def test_a_forged_scan_cookie_lists_nothing(client, city) -> None:
    """The scanned grid is kept in a signed cookie: one written by hand, or signed for
    one grid and edited to name another, proves no scan."""
    from linge.resident.qr import grid_qr_path

    far = workflow.submit(city["other_resident"], category=city.category,
                          grid=city.other_town_grid, description="垃圾").case
    asked = {"category": city.category.pk}
    client.cookies["linge_qr"] = city.other_town_grid.code
    assert client.get("/report/nearby", asked).json() == {"cases": []}
    client.get(grid_qr_path(city.grid.code))
    signed = client.cookies["linge_qr"].value
    assert signed.startswith(f"{city.grid.code}:")
    client.cookies["linge_qr"] = signed.replace(city.grid.code, city.other_town_grid.code, 1)
    assert far.number not in str(client.get("/report/nearby", asked).json())
    assert client.get("/report/nearby", asked).json() == {"cases": []}
