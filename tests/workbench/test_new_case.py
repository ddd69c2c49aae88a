"""/work/new/<source>/: a staff member's own report, the 12345 hotline, 上级交办."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from linge.cases import workflow
from linge.cases.models import Case, Source
from linge.notify.models import Outbox
from tests.conftest import City
from tests.workbench.conftest import login


def form(city: City, **extra) -> dict:
    return {"grid": city.grid.pk, "category": city.plain.pk, "description": "路边堆放建筑垃圾",
            "address": "上墩村口", **extra}


def test_patrol_report_by_a_grid_worker(client: Client, city: City) -> None:
    login(client, city["part_time"])
    response = client.post("/work/new/patrol/", form(city))
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/work/case/{case.number}/"
    assert case.source == Source.PATROL and case.grid == city.grid and case.reporter is None
    # Only the own grid can be chosen.
    response = client.post("/work/new/patrol/", form(city, grid=city.other_town_grid.pk))
    assert response.status_code == 200 and Case.objects.count() == 1


def test_hotline_operator_reads_back_the_number(client: Client, city: City) -> None:
    login(client, city["dispatcher"])
    response = client.post("/work/new/hotline/", form(city, caller_phone="13700000009",
                                                      hotline_ticket="ZJ12345-001"))
    case = Case.objects.get()
    body = response.content.decode()
    assert response.status_code == 200 and 'id="readback"' in body and case.number in body
    assert case.source == Source.HOTLINE and case.reporter_phone == "13700000009"
    assert "ZJ12345-001" in case.description
    assert Outbox.objects.filter(case=case, phone="13700000009", channel="sms").exists()
    bad = client.post("/work/new/hotline/", form(city, caller_phone="12"))
    assert bad.status_code == 200 and Case.objects.count() == 1


def test_higher_level_hands_a_case_down(client: Client, city: City) -> None:
    login(client, city["town_leader"])
    assert client.post("/work/new/higher/", form(city, required_by="2000-01-01",
                                                 from_level="市社会治理中心")).status_code == 200
    assert not Case.objects.exists()
    tomorrow = timezone.localdate() + timedelta(days=1)
    client.post("/work/new/higher/", form(city, required_by=tomorrow.isoformat(),
                                          from_level="市社会治理中心"))
    case = Case.objects.get()
    assert case.source == Source.HIGHER and case.accept_due is not None
    assert f"市社会治理中心交办，要求 {tomorrow.isoformat()} 前办结" in case.description
    limit = timezone.localtime(case.required_by)
    assert (limit.date(), limit.hour, limit.minute) == (tomorrow, 23, 59)
    assert case.accept_due <= case.required_by
    # Accepted, the resolve deadline (3 工作日 for this category) is capped by the date.
    workflow.accept(case, city["full_time"])
    case.refresh_from_db()
    assert case.resolve_due == case.required_by and case.resolve_budget > 0


def test_who_may_use_which_way_in(client: Client, city: City) -> None:
    expected = {
        "part_time": {"patrol"}, "village_staff": {"patrol"},
        "dispatcher": {"hotline", "higher"}, "town_leader": {"higher"},
        "department_handler": set(), "leader": {"hotline", "higher"},
    }
    for name, ways in expected.items():
        client.force_login(city[name])
        for source in ("patrol", "hotline", "higher"):
            status = client.get(f"/work/new/{source}/").status_code
            assert status == (200 if source in ways else 403), (name, source)
    assert client.get("/work/new/open311/").status_code == 404


def test_a_retried_submit_makes_one_case(client: Client, city: City) -> None:
    login(client, city["part_time"])
    page = client.get("/work/new/patrol/").content.decode()
    assert 'name="submit_key"' in page
    data = form(city, submit_key="k" * 32)
    first = client.post("/work/new/patrol/", data)
    second = client.post("/work/new/patrol/", data)
    assert first["Location"] == second["Location"] and Case.objects.count() == 1


def test_only_a_handed_down_case_carries_a_date(city: City) -> None:
    import pytest

    later = timezone.now() + timedelta(days=2)
    with pytest.raises(workflow.WorkflowError, match="只有上级交办"):
        workflow.submit(city["dispatcher"], category=city.plain, description="x",
                        grid=city.grid, source=Source.HOTLINE, required_by=later)
    with pytest.raises(workflow.WorkflowError, match="晚于现在"):
        workflow.submit(city["dispatcher"], category=city.plain, description="x",
                        grid=city.grid, source=Source.HIGHER,
                        required_by=timezone.now() - timedelta(hours=1))
    case = workflow.submit(city["dispatcher"], category=city.plain, description="x",
                           grid=city.grid, source=Source.HIGHER, required_by=later).case
    assert case.events.get().data["required_by"] == later.isoformat()
