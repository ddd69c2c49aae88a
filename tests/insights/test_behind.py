"""The cases behind a number (insights/behind.py, GET /api/v1/insights/cases): on
generated histories, every area, period and figure lists exactly the cases a brute
force over raw cases and events picks (written here from docs/figures.md), each once,
and their counts add up to the number the screens show."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.test import Client

from linge.areas.models import Area
from linge.cases.models import Case, CaseEvent
from linge.insights import behind, figures, rollups
from tests.conftest import City, at
from tests.conftest import logged_in as login
from tests.insights.histories import History
from tests.insights.test_figures_brute_force import PERIODS, in_period, worker_of

OPEN = {"submitted", "accepted", "escalated", "dispatched", "verifying", "suspended",
        "resolved"}


def expected(cases: list[Case], events: dict[int, list[CaseEvent]],
             due: dict[int, object]) -> dict[str, dict]:
    """{figure: {case number: what it adds}} by hand, for the figures a list serves;
    `due`: the resolve deadline in force when each case last reached 待评价."""
    received = [c for c in cases if c.state not in ("rejected", "merged")]
    closed = [c for c in received if c.state == "closed"]

    def did(c: Case, action: str) -> bool:
        return any(e.action == action for e in events[c.pk])

    def verdicts(c: Case, which: set[str]) -> int:
        return sum(1 for e in events[c.pk] if e.action in ("rate", "reopen")
                   and e.data.get("rating") in which)

    def on_time(c: Case) -> bool:
        last = [e for e in events[c.pk] if e.to_state == "resolved"][-1].at
        return due.get(c.pk) is None or last <= due[c.pk]

    every = {"satisfied", "basic", "unsatisfied"}
    by_count = {
        "received": received, "closed": closed,
        "rejected": [c for c in cases if c.state == "rejected"],
        "merged": [c for c in cases if c.state == "merged"],
        "closed_on_time": [c for c in closed if on_time(c)],
        "closed_in_grid": [c for c in closed if not did(c, "escalate")],
        "reopened": [c for c in closed if did(c, "reopen")],
        "staff_reported": [c for c in received if c.source in ("patrol", "visit")],
        "closed_rated": [c for c in closed if verdicts(c, every)],
        "open": [c for c in received if c.state in OPEN],
        "overdue_open": [c for c in received if c.state in OPEN and c.overdue],
    }
    want = {name: {c.number: 1 for c in chosen} for name, chosen in by_count.items()}
    for name, which in [("rated", every), ("satisfied", {"satisfied"}),
                        ("basic_satisfied", {"basic"}), ("unsatisfied", {"unsatisfied"})]:
        want[name] = {c.number: verdicts(c, which) for c in received if verdicts(c, which)}
    return want


def listed(user, figure: str, since: date, until: date, **who) -> dict[str, int]:
    """Every page of the list, walked by its cursor, seven at a time."""
    seen: dict[str, int] = {}
    cursor = None
    for _ in range(200):
        rows, cursor, withheld = behind.page(user, figure, since, until, cursor=cursor,
                                             limit=7, **who)
        assert withheld == 0
        for row in rows:
            assert row.case.number not in seen, f"{row.case.number} listed twice"
            seen[row.case.number] = row.count
        if cursor is None:
            return seen
    raise AssertionError("more than 200 pages")


@pytest.mark.parametrize("seed", [4, 5])
def test_each_list_is_the_cases_behind_its_number(city: City, seed: int) -> None:
    history = History(city, seed)
    history.play(60, on_step=lambda: rollups.catch_up(limit=11))
    rollups.catch_up_all()
    cases = list(Case.objects.all())
    events: dict[int, list[CaseEvent]] = {c.pk: [] for c in cases}
    for event in CaseEvent.objects.order_by("seq"):
        events[event.case_id].append(event)
    admin = city["admin"]
    checked = 0
    for area in Area.objects.all():
        for since, until in PERIODS[:4]:
            chosen = [c for c in cases if in_period(c, since, until) and (
                area.level == "city" or area.pk in (c.grid_id, c.village_id, c.town_id))]
            want = expected(chosen, events, history.due_at_resolution)
            shown = figures.figures_for_area(area, since, until)
            for figure in behind.FIGURES:
                got = listed(admin, figure, since, until, area=area)
                where = f"{area.name} {since}..{until} {figure}"
                assert got == want[figure], where
                total = behind.total(figure, since, until, area=area)
                assert sum(got.values()) == total, where
                if figure in shown:
                    assert total == shown[figure], where
                checked += bool(got)
    assert checked > 100  # the lists were not all empty
    for worker in {worker_of(c, events[c.pk]) for c in cases} - {None}:
        chosen = [c for c in cases if worker_of(c, events[c.pk]) == worker]
        want = expected(chosen, events, history.due_at_resolution)
        for figure in ("received", "closed", "unsatisfied"):
            got = listed(admin, figure, date(2026, 1, 1), date(2026, 12, 31), worker_id=worker)
            assert got == want[figure], (worker, figure)



@pytest.fixture
def november(city: City) -> City:
    from linge.cases import workflow
    from linge.cases.models import Rating

    for day in range(2, 9):
        case = workflow.submit(city["resident"], category=city.plain, description="路灯坏了",
                               grid=city.grid, now=at(f"2026-11-0{day} 09:00")).case
        workflow.accept(case, city["full_time"], now=at(f"2026-11-0{day} 09:30"))
        workflow.resolve(case, city["full_time"], note="已修", now=at(f"2026-11-0{day} 15:00"))
        workflow.rate(case, city["resident"], rating=Rating.UNSATISFIED,
                      now=at(f"2026-11-0{day} 16:00"))
        workflow.resolve(case, city["full_time"], note="再修", now=at(f"2026-11-0{day} 17:00"))
        workflow.rate(case, city["resident"], rating=Rating.SATISFIED,
                      now=at(f"2026-11-0{day} 18:00"))
    workflow.submit(city["resident"], category=city.plain, description="井盖",
                    grid=city.other_town_grid, now=at("2026-11-05 10:00"))
    return city


PERIOD = "since=2026-11-01&until=2026-11-30"


def test_the_api_pages_a_list_newest_first(november: City) -> None:
    client = login("town_leader")
    first = client.get(f"/api/v1/insights/cases?figure=closed&area=331081107&{PERIOD}&limit=3")
    assert first.status_code == 200, first.content
    data = first.json()
    # Seven cases received 2–8 November in town A's grid, each closed after a rework.
    assert data["total"] == 7 and data["figure"] == "closed" and data["withheld"] == 0
    assert [i["received_on"] for i in data["items"]] == ["2026-11-08", "2026-11-07",
                                                         "2026-11-06"]
    assert data["items"][0]["state"] == "closed" and data["items"][0]["state_label"] == "已办结"
    assert data["items"][0]["link"] == f"/work/case/{data['items'][0]['number']}/"
    rest = client.get(f"/api/v1/insights/cases?figure=closed&area=331081107&{PERIOD}"
                      f"&limit=3&cursor={data['next']}").json()
    assert [i["received_on"] for i in rest["items"]] == ["2026-11-05", "2026-11-04",
                                                         "2026-11-03"]
    last = client.get(f"/api/v1/insights/cases?figure=closed&area=331081107&{PERIOD}"
                      f"&limit=3&cursor={rest['next']}").json()
    assert [i["received_on"] for i in last["items"]] == ["2026-11-02"] and last["next"] is None
    # Verdicts: two for each case, one of them 不满意.
    rated = client.get(f"/api/v1/insights/cases?figure=rated&area=331081107&{PERIOD}").json()
    assert rated["total"] == 14 and rated["per_verdict"] is True
    assert [i["count"] for i in rated["items"]] == [2] * 7


def test_the_api_refuses_what_it_cannot_answer(november: City) -> None:
    client = login("town_leader")
    for query, status in [
        ("figure=closure_rate", 400),  # a rate is not a list of cases
        ("figure=closed&limit=0", 400),
        ("figure=closed&limit=201", 400),
        ("figure=closed&cursor=yesterday", 400),
        ("figure=closed&since=2026-11-30&until=2026-11-01", 400),
        ("figure=closed&area=331081001", 404),  # another town
        ("figure=closed&area=nowhere", 404),
        (f"figure=closed&worker={november['other_town_worker'].pk}", 404),
    ]:
        response = client.get(f"/api/v1/insights/cases?{query}")
        assert response.status_code == status, (query, response.content)
        assert set(response.json()) == {"error"}, query
    assert Client().get("/api/v1/insights/cases?figure=closed").status_code == 401
    assert login("department_handler").get(
        "/api/v1/insights/cases?figure=closed").status_code == 404


def test_a_worker_list(november: City) -> None:
    worker = november["full_time"].pk
    data = login("grid_leader").get(
        f"/api/v1/insights/cases?figure=unsatisfied&worker={worker}&{PERIOD}").json()
    assert data["total"] == 7 and len(data["items"]) == 7 and data["worker"] == worker
    assert data["area"] is None


def test_a_page_reads_an_index_in_order(city: City) -> None:
    """On 20,000 case facts (after ANALYZE), a page of a grid's, village's, town's or
    worker's list reads CaseFact through an index in (day, case) order: no full scan, no
    sort. The city's list may sort what its index found, never scan the table."""
    from django.db import connection

    from linge.insights.models import CaseFact
    from tests.cases.test_list_plans import _assert_indexed, _plan

    grids = [city.grid, city.neighbour_grid, city.other_village_grid, city.other_town_grid]
    CaseFact.objects.bulk_create([CaseFact(
        case_id=i + 1, day=date(2026, 1, 1) + timedelta(days=i % 330), grid_id=grids[i % 4].pk,
        village_id=grids[i % 4].parent_id, town_id=grids[i % 4].parent.parent_id,
        category_id=city.plain.pk, worker_id=city["full_time"].pk if i % 4 == 0 else None,
        received=1, closed=i % 3 == 0) for i in range(20_000)], batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    table = CaseFact._meta.db_table
    since, until = date(2026, 1, 1), date(2026, 11, 30)
    for who in [{"area": city.grid}, {"area": city.village}, {"area": city.town},
                {"worker_id": city["full_time"].pk}]:
        for figure in ("received", "closed"):
            rows = behind.facts(figure, since, until, **who).order_by("-day", "-case_id")
            _assert_indexed(rows[:51], table=table)
    city_rows = behind.facts("received", since, until, area=city.city)
    _assert_indexed(city_rows.order_by("-day", "-case_id")[:51], may_sort=True, table=table)
    # And the check can fail: by category, which no index of CaseFact holds.
    full, sort, _text = _plan(CaseFact.objects.filter(category_id=city.plain.pk)
                              .order_by("-response_bucket"), table)
    assert full and sort
