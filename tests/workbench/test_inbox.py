"""/work/: tabs over visible_cases, traffic lights, filters, search."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from linge.cases import workflow
from linge.cases.models import Source
from linge.workbench import queries
from tests.conftest import City
from tests.workbench.conftest import login, report


def numbers(response) -> list[str]:
    return [row["case"].number for row in response.context["rows"]]


def test_default_tab_follows_the_duty(client: Client, city: City) -> None:
    expected = {"full_time": "submitted", "village_staff": "submitted",
                "dispatcher": "escalated", "department_handler": "doing", "leader": "overdue"}
    for name, tab in expected.items():
        client.force_login(city[name])
        assert client.get("/work/").context["filters"].tab == tab, name


def test_tabs_split_cases_by_state(client: Client, city: City) -> None:
    fresh = report(city, text="路灯不亮")
    doing = report(city, text="垃圾满溢")
    workflow.accept(doing, city["full_time"])
    up = report(city, text="违章搭建")
    workflow.accept(up, city["full_time"])
    workflow.escalate(up, city["full_time"], reason="需执法")
    login(client, city["full_time"])
    assert numbers(client.get("/work/?tab=submitted")) == [fresh.number]
    assert numbers(client.get("/work/?tab=doing")) == [doing.number]
    assert numbers(client.get("/work/?tab=escalated")) == [up.number]
    workflow.reject(report(city, text="重复上报"), city["full_time"], reason="重复")
    tabs = {key: n for key, _label, n in client.get("/work/").context["tabs"]}
    assert tabs == {"submitted": 1, "doing": 1, "escalated": 1, "verifying": 0,
                    "due_soon": 0, "overdue": 0, "done": 1}


def test_every_row_has_a_light_and_a_countdown(client: Client, city: City) -> None:
    case = report(city)
    login(client, city["full_time"])
    row = client.get("/work/?tab=submitted").context["rows"][0]
    assert row["case"] == case and row["light"] == "green" and row["countdown"].startswith("剩余")
    body = client.get("/work/?tab=submitted").content.decode()
    assert 'class="light green"' in body and "data-due=" in body


def test_due_soon_and_overdue_tabs(client: Client, city: City) -> None:
    now = timezone.now()
    late = workflow.submit(city["resident"], category=city.urgent, description="焚烧秸秆",
                           grid=city.grid, now=now - timedelta(hours=2)).case
    soon = workflow.submit(city["resident"], category=city.urgent, description="焚烧垃圾",
                           grid=city.grid, now=now - timedelta(minutes=50)).case
    fresh = report(city, category=city.urgent, text="焚烧树叶")
    login(client, city["full_time"])
    assert numbers(client.get("/work/?tab=overdue")) == [late.number]
    assert numbers(client.get("/work/?tab=due_soon")) == [soon.number]
    tabs = {key: n for key, _label, n in client.get("/work/").context["tabs"]}
    assert (tabs["submitted"], tabs["overdue"], tabs["due_soon"], tabs["done"]) == (3, 1, 1, 0)
    rows = {r["case"].number: r for r in client.get("/work/?tab=submitted").context["rows"]}
    assert rows[late.number]["light"] == "red" and rows[late.number]["countdown"].startswith("超期")
    assert rows[soon.number]["light"] == "yellow"
    assert rows[fresh.number]["light"] == "green"


def test_filters_and_search(client: Client, city: City) -> None:
    a = report(city, text="小区门口垃圾桶满溢发臭", category=city.category)
    b = report(city, grid=city.neighbour_grid, text="楼道堆放纸箱")
    c = workflow.submit(city["full_time"], category=city.plain, description="巡查发现路边堆沙",
                        grid=city.grid, source=Source.PATROL).case
    login(client, city["village_staff"])
    assert set(numbers(client.get("/work/?tab=submitted"))) == {a.number, b.number, c.number}
    assert numbers(client.get("/work/?tab=submitted&q=垃圾桶")) == [a.number]
    assert numbers(client.get("/work/?tab=submitted&q=垃圾 发臭")) == [a.number]
    assert numbers(client.get(f"/work/?tab=submitted&q={b.number}")) == [b.number]
    assert numbers(client.get(f"/work/?tab=submitted&area={city.neighbour_grid.pk}")) == [b.number]
    assert numbers(client.get(f"/work/?tab=submitted&category={city.category.pk}")) == [a.number]
    parent = city.category.parent_id
    assert len(numbers(client.get(f"/work/?tab=submitted&category={parent}"))) == 3
    assert numbers(client.get("/work/?tab=submitted&source=patrol")) == [c.number]
    today = timezone.localdate().isoformat()
    assert len(numbers(client.get(f"/work/?tab=submitted&since={today}&until={today}"))) == 3
    assert numbers(client.get("/work/?tab=submitted&since=2000-01-01&until=2000-01-02")) == []
    # Garbage in the filters is ignored, not an error.
    assert client.get("/work/?tab=nope&category=x&since=yesterday").status_code == 200
    for odd in ("area=" + "9" * 25, "category=" + "9" * 25, "until=9999-12-31",
                "since=0001-01-01", "area=²"):
        assert client.get(f"/work/?{odd}").status_code == 200, odd
        assert client.get(f"/work/export.csv?{odd}").status_code == 200, odd
    # A NUL is refused before the inbox or the export sees it (linge.guard).
    assert client.get("/work/?q=%00").status_code == 400
    assert client.get("/work/export.csv?q=%00").status_code == 400


def test_mask_phone() -> None:
    assert queries.mask_phone("13900000001") == "139****0001"
    assert queries.mask_phone("") == ""


def test_a_case_from_another_year_shows_its_year(client: Client, city: City) -> None:
    old = workflow.submit(city["resident"], category=city.plain, description="去年的问题",
                          grid=city.grid, now=timezone.now() - timedelta(days=400)).case
    fresh = report(city, text="今年的问题")
    login(client, city["full_time"])
    body = client.get("/work/?tab=submitted").content.decode()
    assert timezone.localtime(old.created_at).strftime("%Y-%m-%d") in body
    assert timezone.localtime(fresh.created_at).strftime("%m-%d %H:%M") in body
    assert 'maxlength="50"' in body


def test_each_tab_is_counted_once(client: Client, city: City) -> None:
    """Seven tabs, one counting statement (the open tabs in one pass and the done tab
    beside it; due soon from the read of the cases near their deadline): the tab shown
    is not counted again for its pages."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):
        report(city, text="路灯不亮")
    client.force_login(city["full_time"])
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/work/?tab=submitted")
    counts = [q["sql"] for q in queries.captured_queries
              if "COUNT(" in q["sql"].upper() and "cases_case" in q["sql"]]
    assert len(counts) == 1, "\n".join(counts)
    assert "LIMIT 1001" in counts[0] and "FILTER (WHERE" in counts[0]
    assert len(numbers(response)) == 3 and response.context["page"].paginator.count == 3
