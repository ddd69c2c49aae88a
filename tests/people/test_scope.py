"""Who sees which cases: a grid never another grid's, a town only its villages, a
department only what was dispatched to it, a resident only their own."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from linge.cases import workflow
from linge.cases.models import Case
from linge.cases.policy import access_case, visible_cases
from tests.conftest import City, at

NOW = at("2026-11-02 09:00")


@pytest.fixture
def cases(city: City) -> dict[str, Case]:
    def report(grid, who="resident"):
        return workflow.submit(city[who], category=city.plain, description="问题",
                               grid=grid, now=NOW).case

    made = {
        "a1": report(city.grid),
        "a1_neighbour": report(city.neighbour_grid, "other_resident"),
        "a2": report(city.other_village_grid, "other_resident"),
        "b1": report(city.other_town_grid, "other_resident"),
    }
    dispatched = made["a1"]
    workflow.accept(dispatched, city["full_time"], now=NOW)
    workflow.escalate(dispatched, city["full_time"], reason="x", now=NOW)
    workflow.dispatch(dispatched, city["dispatcher"], unit=city.office, now=NOW)
    return made


EXPECTED = {
    "resident": {"a1"},
    "other_resident": {"a1_neighbour", "a2", "b1"},
    "full_time": {"a1"},
    "part_time": {"a1"},
    "grid_guide": {"a1"},
    "police": {"a1"},
    "neighbour_worker": {"a1_neighbour"},
    "other_village_worker": {"a2"},
    "other_town_worker": {"b1"},
    "village_staff": {"a1", "a1_neighbour"},
    "dispatcher": {"a1", "a1_neighbour", "a2"},
    "other_town_dispatcher": {"b1"},
    "town_leader": {"a1", "a1_neighbour", "a2"},
    "office_handler": {"a1"},
    "other_office_handler": set(),
    "department_handler": set(),
    "other_department_handler": set(),
    "leader": {"a1", "a1_neighbour", "a2", "b1"},
    "admin": {"a1", "a1_neighbour", "a2", "b1"},
}


@pytest.mark.parametrize("persona", sorted(EXPECTED))
def test_visible_cases(city: City, cases: dict[str, Case], persona: str) -> None:
    seen = set(visible_cases(city[persona]).values_list("number", flat=True))
    expected = {cases[name].number for name in EXPECTED[persona]}
    assert seen == expected
    for name, case in cases.items():
        if name in EXPECTED[persona]:
            assert access_case(city[persona], case.number) == case
        else:
            with pytest.raises(Http404):
                access_case(city[persona], case.number)


def test_anonymous_sees_nothing(city: City, cases: dict[str, Case]) -> None:
    assert not visible_cases(AnonymousUser()).exists()


def test_supporter_sees_the_case(city: City, cases: dict[str, Case]) -> None:
    workflow.add_support(cases["a1"], city["other_resident"], now=NOW)
    assert visible_cases(city["other_resident"]).filter(pk=cases["a1"].pk).count() == 1
