"""cases.policy.case_scope: the key under which a staff member's case queries are
compiled once (linge.prepared.PreparedFor). It must stand for everything their reach
depends on: two people of one scope see the same cases, and a query compiled for one
scope never answers for another."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from linge.cases import inbox, policy, workflow
from linge.people.models import Duty, Membership
from tests.conftest import City

pytestmark = pytest.mark.django_db


def _report(city: City, grid, text: str):
    return workflow.submit(city["resident"], category=city.plain, description=text,
                           grid=grid).case


def test_residents_and_visitors_have_no_scope(city: City) -> None:
    assert policy.case_scope(city["resident"]) is None
    assert policy.case_scope(AnonymousUser()) is None


def test_the_scope_is_what_the_roles_reach(city: City) -> None:
    assert policy.case_scope(city["full_time"]) == policy.CaseScope(False, grids=(city.grid.pk,))
    assert policy.case_scope(city["village_staff"]) == policy.CaseScope(
        False, villages=(city.village.pk,))
    assert policy.case_scope(city["dispatcher"]) == policy.CaseScope(False, towns=(city.town.pk,))
    assert policy.case_scope(city["department_handler"]) == policy.CaseScope(
        False, units=(city.department.pk,))
    assert policy.case_scope(city["town_leader"]) == policy.CaseScope(
        False, leader_areas=(city.town.pk,))
    assert policy.case_scope(city["leader"]) == policy.CaseScope(everything=True)
    assert policy.case_scope(city["admin"]) == policy.CaseScope(everything=True)
    # One grid's leader, full-time and part-time workers share a scope.
    assert policy.case_scope(city["grid_leader"]) == policy.case_scope(city["part_time"])


def test_every_scope_sees_what_visible_cases_shows(city: City) -> None:
    made = [_report(city, grid, f"第{i}件") for i, grid in enumerate(
        (city.grid, city.neighbour_grid, city.other_village_grid, city.other_town_grid))]
    ids = {case.pk for case in made}
    expected = {  # by hand: which of the four grids' cases each persona sees
        "full_time": {0}, "neighbour_worker": {1}, "other_village_worker": {2},
        "other_town_worker": {3}, "village_staff": {0, 1}, "dispatcher": {0, 1, 2},
        "other_town_dispatcher": {3}, "town_leader": {0, 1, 2}, "leader": {0, 1, 2, 3},
        "department_handler": set(),
    }
    for name, wanted in expected.items():
        scope = policy.case_scope(city[name])
        seen = set(policy.scope_cases(scope).filter(pk__in=ids).values_list("pk", flat=True))
        assert seen == {made[i].pk for i in wanted}, name
        assert seen == set(policy.visible_cases(city[name]).filter(pk__in=ids)
                           .values_list("pk", flat=True)), name


def test_a_case_read_for_one_scope_is_not_given_to_another(city: City) -> None:
    mine = _report(city, city.grid, "路灯不亮")
    theirs = _report(city, city.neighbour_grid, "垃圾满溢")
    # The same query, compiled first for one grid's worker, then asked by the other's.
    assert policy.access_case(city["full_time"], mine.number) == mine
    with pytest.raises(Http404):
        policy.access_case(city["full_time"], theirs.number)
    with pytest.raises(Http404):
        policy.access_case(city["neighbour_worker"], mine.number)
    assert policy.access_case(city["neighbour_worker"], theirs.number) == theirs
    # Related rows are read with it, whichever scope compiled the query first.
    case = policy.access_case(city["dispatcher"], theirs.number, ("grid", "category"))
    with CaptureQueriesContext(connection) as queries:
        assert (case.grid.name, case.category.name) == ("上墩村第2网格", "乱堆物堆料")
    assert len(queries) == 0


def test_a_case_read_without_relations_joins_nothing(city: City) -> None:
    case = _report(city, city.grid, "路灯不亮")
    with CaptureQueriesContext(connection) as queries:
        assert policy.access_case(city["full_time"], case.number) == case
    [read] = [q for q in queries.captured_queries if 'FROM "cases_case"' in q["sql"]]
    assert "JOIN" not in read["sql"] and "boundary" not in read["sql"]


def test_staff_without_a_role_left_see_nothing(city: City) -> None:
    case = _report(city, city.grid, "路灯不亮")
    former = city["full_time"]
    Membership.objects.filter(user=former).delete()
    former = type(former).objects.get(pk=former.pk)
    assert policy.case_scope(former) == policy.CaseScope(False)
    with pytest.raises(Http404):
        policy.access_case(former, case.number)
    assert inbox.scope_tab_counts(policy.case_scope(former), timezone.now()) == {
        "submitted": 0, "doing": 0, "escalated": 0, "verifying": 0, "overdue": 0, "done": 0,
        "due_soon": 0}


def test_a_new_role_gives_a_new_scope_at_the_next_request(city: City) -> None:
    theirs = _report(city, city.neighbour_grid, "垃圾满溢")
    worker = city["full_time"]
    with pytest.raises(Http404):
        policy.access_case(worker, theirs.number)
    Membership.objects.create(user=worker, unit=city.department, duty=Duty.HANDLER)
    workflow.accept(theirs, city["neighbour_worker"])
    workflow.escalate(theirs, city["neighbour_worker"], reason="需执法")
    workflow.dispatch(theirs, city["dispatcher"], unit=city.department)
    fresh = type(worker).objects.get(pk=worker.pk)  # roles are read once per user object
    assert policy.case_scope(fresh) == policy.CaseScope(
        False, grids=(city.grid.pk,), units=(city.department.pk,))
    assert policy.access_case(fresh, theirs.number) == theirs
