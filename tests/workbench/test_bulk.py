"""POST /work/bulk/: accept or dispatch many cases, refusals reported per case."""

from __future__ import annotations

from django.test import Client

from linge.cases import workflow
from linge.cases.models import Case, State
from tests.conftest import City
from tests.workbench.conftest import login, report


def test_bulk_accept_reports_each_refusal(client: Client, city: City) -> None:
    mine = [report(city, text=f"堆物 {i}") for i in range(3)]
    workflow.accept(mine[2], city["full_time"])  # already accepted: refused
    other = report(city, grid=city.other_town_grid, text="别处的问题")
    login(client, city["part_time"])
    response = client.post("/work/bulk/", {
        "action": "accept", "numbers": [c.number for c in mine] + [other.number],
        "back": "/work/?tab=submitted",
    }, follow=True)
    texts = [str(m) for m in response.context["messages"]]
    assert any("已受理 2 件" in t for t in texts)
    assert any(mine[2].number in t and "不能" in t for t in texts)
    assert any(other.number in t and "无权查看" in t for t in texts)
    assert Case.objects.get(pk=other.pk).state == State.SUBMITTED
    assert {Case.objects.get(pk=c.pk).state for c in mine} == {State.ACCEPTED}


def test_bulk_dispatch(client: Client, city: City) -> None:
    cases = []
    for i in range(2):
        case = report(city, text=f"占道经营 {i}")
        workflow.accept(case, city["full_time"])
        workflow.escalate(case, city["full_time"], reason="需执法")
        cases.append(case)
    login(client, city["dispatcher"])
    page = client.get("/work/?tab=escalated")
    assert "批量派遣" in page.content.decode()
    client.post("/work/bulk/", {"action": "dispatch", "numbers": [c.number for c in cases],
                                "unit": city.office.pk})
    for case in cases:
        case.refresh_from_db()
        assert case.state == State.DISPATCHED and case.dispatched_unit == city.office


def test_bulk_by_who_may_not_is_refused_per_case(client: Client, city: City) -> None:
    case = report(city)
    login(client, city["grid_guide"])
    response = client.post("/work/bulk/", {"action": "accept", "numbers": [case.number]},
                           follow=True)
    assert any("无权" in str(m) for m in response.context["messages"])
    assert Case.objects.get(pk=case.pk).state == State.SUBMITTED
    assert client.post("/work/bulk/", {"action": "reject"}).status_code == 404


def test_bulk_never_sends_anyone_off_site(client: Client, city: City) -> None:
    login(client, city["dispatcher"])
    response = client.post("/work/bulk/", {"action": "dispatch", "numbers": ["x"],
                                           "back": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == "/work/"
