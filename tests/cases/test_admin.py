"""The admin edits categories and shows cases and events, which it never changes."""

from __future__ import annotations

from django.test import Client

from linge.cases import workflow
from linge.cases.models import Case
from tests.conftest import PASSWORD, City, at


def admin_client(city: City) -> Client:
    client = Client()
    assert client.login(username="admin", password=PASSWORD)
    return client


def test_case_pages_are_read_only(city: City) -> None:
    case = workflow.submit(city["resident"], category=city.plain, description="井盖缺失",
                           grid=city.grid, now=at("2026-11-02 09:00")).case
    client = admin_client(city)
    listing = client.get("/admin/cases/case/")
    assert listing.status_code == 200 and case.number in listing.content.decode()
    page = client.get(f"/admin/cases/case/{case.pk}/change/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "井盖缺失" in body and 'name="_save"' not in body
    response = client.post(f"/admin/cases/case/{case.pk}/change/", {"description": "改了"})
    assert response.status_code == 403
    assert Case.objects.get(pk=case.pk).description == "井盖缺失"
    assert client.post(f"/admin/cases/case/{case.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/cases/caseevent/").status_code == 200
    assert client.get("/admin/cases/caseevent/add/").status_code == 403


def test_category_is_editable(city: City) -> None:
    client = admin_client(city)
    page = client.get(f"/admin/cases/category/{city.plain.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' in page.content.decode()


def test_people_pages(city: City) -> None:
    client = admin_client(city)
    for url in ("/admin/people/user/", "/admin/people/unit/", "/admin/people/membership/",
                "/admin/people/lane/", f"/admin/people/user/{city['full_time'].pk}/change/"):
        assert client.get(url).status_code == 200, url


def test_non_staff_cannot_enter(city: City) -> None:
    client = Client()
    client.login(username="full_time", password=PASSWORD)
    assert client.get("/admin/cases/case/").status_code == 302
