"""The rules of `cases.policy`, who may see or do what, held one by one for mutation
testing (`make mutate`): before this file the selected tests reached no mutant of
`access_area`, `access_supportable`, `may_oversee` or `may_read_worker`, and others only
through pages. Expected answers written by hand from the rule and the small city of
`tests/conftest.py`, never read from the code."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404
from django.utils import timezone

from linge.areas.models import Area
from linge.cases import workflow
from linge.cases.models import Case, Category, Source, TimeUnit
from linge.cases.policy import (
    Capacity,
    access_area,
    access_case_as_visitor,
    access_supportable,
    access_visit_grid,
    agenda_villages,
    assignable_to,
    bulk_moves,
    capacities,
    dispatch_towns,
    entry_sources,
    figure_roots,
    filter_areas,
    followed_ids,
    grids_for_filing,
    home_area,
    is_staff,
    keeps_agenda,
    lands_on_cockpit,
    lists_publicly,
    may_file,
    may_import_households,
    may_oversee,
    may_read_area,
    may_read_worker,
    may_visit,
    public_grid_cases,
    published_cases,
    published_words,
    reachable_grids,
    sees_phone,
    sent_by_visitor,
    supporter_only,
    visible_cases,
    visitor_cases_q,
)
from linge.people.models import Duty, Membership, Unit, UnitKind, User
from linge.people.roles import SYSTEM, Actor
from tests.conftest import City, at

NOW = at("2026-11-02 09:00")
C = Capacity

# A resident's report in grid A1a (village A1, town A), before it leaves the grid.
STANDING = {
    "resident": {C.REPORTER},
    "other_resident": {C.RESIDENT},
    "grid_leader": {C.GRID_MEMBER, C.GRID_ESCALATOR},
    "full_time": {C.GRID_MEMBER, C.GRID_ESCALATOR},
    "part_time": {C.GRID_MEMBER},
    "grid_guide": set(),  # sees the grid's cases, handles none
    "police": set(),
    "neighbour_worker": set(),
    "other_village_worker": set(),
    "village_staff": {C.VILLAGE_STAFF},
    "dispatcher": {C.DISPATCHER},
    "other_town_dispatcher": set(),
    "town_leader": {C.COMMAND},
    "office_handler": set(),  # nothing dispatched to the office yet
    "department_handler": set(),
    "leader": {C.COMMAND},
    "admin": set(),  # administers accounts; no standing in a case
}


def report(city: City, who: str = "resident", **extra) -> Case:
    extra.setdefault("now", NOW)
    return workflow.submit(city[who], category=city.plain, description="楼道堆物",
                           grid=city.grid, **extra).case


def standing(actor: Actor, case: Case) -> set[Capacity]:
    return capacities(actor, case) - {C.ANYONE}


def test_each_persona_stands_towards_a_case_as_its_duty_says(city: City) -> None:
    case = report(city)
    for persona, expected in STANDING.items():
        assert standing(Actor(user=city[persona]), case) == expected, persona
    assert capacities(SYSTEM, case) == {C.ANYONE, C.SYSTEM}
    assert standing(Actor(), case) == set()
    assert standing(Actor(tracking_case_id=case.pk), case) == {C.REPORTER}
    other = report(city, "other_resident")
    assert standing(Actor(tracking_case_id=other.pk), case) == set()


def test_the_unit_a_case_is_dispatched_to_handles_it(city: City) -> None:
    case = report(city)
    workflow.accept(case, city["full_time"], now=NOW)
    workflow.escalate(case, city["full_time"], reason="需要执法", now=NOW)
    workflow.dispatch(case, city["dispatcher"], unit=city.office, now=NOW)
    assert standing(Actor(user=city["office_handler"]), case) == {C.HANDLER}
    assert standing(Actor(user=city["other_office_handler"]), case) == set()
    assert standing(Actor(user=city["department_handler"]), case) == set()


def call(city: City, phone: str = "13900000001", **extra) -> Case:
    """A 12345 call the dispatcher entered: no account reported it, only a phone."""
    return report(city, "dispatcher", source=Source.HOTLINE, reporter_phone=phone, **extra)


def test_a_caller_follows_their_call_for_a_year(city: City) -> None:
    now = timezone.now()
    recent = call(city, now=now - timedelta(days=364, hours=23))
    stale = call(city, now=now - timedelta(days=365, hours=1))
    assert standing(Actor(user=city["resident"]), recent) == {C.REPORTER}
    assert standing(Actor(user=city["resident"]), stale) == {C.RESIDENT}
    assert standing(Actor(user=city["other_resident"]), recent) == {C.RESIDENT}
    assert set(visible_cases(city["resident"])) == {recent}
    assert not visible_cases(city["other_resident"]).exists()


def test_a_phone_given_with_an_accounts_report_is_not_a_call(city: City) -> None:
    # Another resident's report naming this resident's phone stays that resident's.
    theirs = report(city, "other_resident", reporter_phone="13900000001")
    assert standing(Actor(user=city["resident"]), theirs) == {C.RESIDENT}
    assert not visible_cases(city["resident"]).exists()


def test_a_resident_without_a_phone_follows_no_call(city: City) -> None:
    phoneless = User.objects.create(username="r-nophone", is_resident=True, phone="")
    nobodys = workflow.submit(None, category=city.plain, description="路灯不亮",
                              grid=city.grid, now=NOW).case  # anonymous, no phone given
    assert nobodys.reporter_phone == ""
    assert standing(Actor(user=phoneless), nobodys) == {C.RESIDENT}
    assert not visible_cases(phoneless).exists()
    assert not Case.objects.filter(visitor_cases_q(phoneless, [])).exists()


def merged_chain(city: City) -> tuple[Case, Case, Case]:
    """A merged into B, and B later into C."""
    a, b, c = call(city), report(city, "other_resident"), report(city, "other_resident")
    workflow.merge(a, city["full_time"], into=b, now=NOW)
    workflow.merge(b, city["full_time"], into=c, now=NOW)
    return a, b, c


def test_followers_of_a_merged_case_follow_it_to_the_end_of_the_chain(city: City) -> None:
    a, b, c = merged_chain(city)
    elsewhere = report(city, "other_resident")
    unrelated, its_target = report(city, "other_resident"), report(city, "other_resident")
    workflow.merge(unrelated, city["full_time"], into=its_target, now=NOW)
    assert followed_ids([a.pk]) == [a.pk, b.pk, c.pk]
    assert followed_ids([]) == []
    visitor = AnonymousUser()
    assert set(Case.objects.filter(visitor_cases_q(visitor, [a.pk]))) == {a, b, c}
    for case in (a, b, c):
        assert access_case_as_visitor(visitor, case.number, [a.pk]) == case
    with pytest.raises(Http404) as caught:
        access_case_as_visitor(visitor, elsewhere.number, [a.pk])
    assert str(caught.value) == "案件不存在或无权查看"
    # The caller of A has no account to add as a supporter: the call leads them on.
    assert set(visible_cases(city["resident"])) == {a, b, c}
    assert set(Case.objects.filter(visitor_cases_q(city["resident"], []))) == {a, b, c}
    assert not Case.objects.filter(visitor_cases_q(city["full_time"], [])).exists()
    # A resident holding a code of an anonymous report follows it beside their own.
    anonymous = workflow.submit(None, category=city.plain, description="路灯不亮",
                                grid=city.grid, now=NOW).case
    assert set(Case.objects.filter(visitor_cases_q(city["resident"], [anonymous.pk]))) == {
        a, b, c, anonymous}


STRANGER_TO_THE_WORDS = {  # who follows the case without reading the reporter's words
    "reporter": False, "other resident": True, "staff": False,
    "holder of its code": False, "holder of another code": True, "visitor": True,
}


def test_who_reads_the_reporters_words_and_phone(city: City) -> None:
    case, other = report(city), report(city, "other_resident")
    actors = {
        "reporter": Actor(user=city["resident"]), "other resident": Actor(
            user=city["other_resident"]), "staff": Actor(user=city["full_time"]),
        "holder of its code": Actor(tracking_case_id=case.pk),
        "holder of another code": Actor(tracking_case_id=other.pk), "visitor": Actor(),
    }
    for name, actor in actors.items():
        assert supporter_only(actor, case) is STRANGER_TO_THE_WORDS[name], name
    handle = {"full_time", "part_time", "village_staff", "dispatcher"}
    for persona in ("full_time", "part_time", "village_staff", "dispatcher", "grid_guide",
                    "town_leader", "leader", "admin", "resident", "other_resident"):
        assert sees_phone(Actor(user=city[persona]), case) is (persona in handle), persona
    assert not sees_phone(Actor(tracking_case_id=case.pk), case)


def test_the_public_grid_page_and_open_data(city: City) -> None:
    dispute = Category.objects.create(
        code="0301", name="邻里纠纷", parent=city.plain.parent, lane=city.plain.lane,
        accept_within=2, accept_unit=TimeUnit.WORK_HOURS, resolve_within=3,
        resolve_unit=TimeUnit.WORK_DAYS, public=False)
    first = report(city)
    later = report(city, now=NOW + timedelta(hours=1))
    rejected, merged = report(city), report(city)
    workflow.reject(rejected, city["full_time"], reason="不属于受理范围", now=NOW)
    workflow.merge(merged, city["full_time"], into=first, now=NOW)
    workflow.submit(city["resident"], category=dispute, description="与邻居纠纷",
                    grid=city.grid, now=NOW)
    next_door = workflow.submit(city["resident"], category=city.plain, description="堆物",
                                grid=city.neighbour_grid, now=NOW).case
    assert list(public_grid_cases(city.grid)) == [later, first]
    assert lists_publicly(city.plain.pk) and not lists_publicly(dispute.pk)
    assert set(published_cases()) >= {first, later, next_door}
    assert not {rejected, merged} & set(published_cases())
    assert published_words(first, True) and not published_words(first, False)


def test_support_is_offered_only_on_cases_shown(city: City) -> None:
    shown, hidden = report(city), report(city, "other_resident")
    assert access_supportable(shown.number, [shown.pk]) == shown
    with pytest.raises(Http404) as caught:
        access_supportable(hidden.number, [shown.pk])
    assert str(caught.value) == "案件不存在"


# Areas. Short names for the small city: town A holds villages A1 (grids A1a, A1b) and
# A2 (grid A2a); town B holds village B1 (grid B1a).

def names(city: City) -> dict[int, str]:
    return {city.town.pk: "A", city.other_town.pk: "B", city.village.pk: "A1",
            city.other_village.pk: "A2", city.other_town_grid.parent_id: "B1", city.grid.pk: "A1a", city.neighbour_grid.pk: "A1b",
            city.other_village_grid.pk: "A2a", city.other_town_grid.pk: "B1a",
            city.city.pk: "city"}


def area(city: City, name: str) -> Area:
    return Area.objects.get(pk={v: k for k, v in names(city).items()}[name])


def named(city: City, areas) -> set[str]:
    return {names(city)[a.pk] for a in areas}


def add_village_leader(city: City) -> User:
    """A 村书记: a leader of village A1 (a leader's duty in a village unit)."""
    user = User.objects.create(username="village_leader", display_name="村书记")
    unit = Unit.objects.get(kind=UnitKind.VILLAGE, area=city.village)
    Membership.objects.create(user=user, unit=unit, duty=Duty.LEADER)
    return user


ALL_GRIDS = {"A1a", "A1b", "A2a", "B1a"}
TOWN_A_GRIDS = {"A1a", "A1b", "A2a"}
NOT_GRIDS = {"A", "B", "A1", "A2", "B1"}

# Grids whose cases and households each oversees.
REACHABLE = {
    "admin": ALL_GRIDS, "leader": ALL_GRIDS,
    "grid_leader": {"A1a"}, "part_time": {"A1a"}, "grid_guide": {"A1a"}, "police": {"A1a"},
    "neighbour_worker": {"A1b"}, "other_town_worker": {"B1a"},
    "village_staff": {"A1a", "A1b"}, "village_leader": {"A1a", "A1b"},
    "dispatcher": TOWN_A_GRIDS, "town_leader": TOWN_A_GRIDS,
    "other_town_dispatcher": {"B1a"},
    "office_handler": set(), "department_handler": set(), "resident": set(),
}

# Areas offered in the inbox's filter: the reach, or every town and village for
# departments, offices and the whole city.
FILTERABLE = {
    "admin": NOT_GRIDS, "leader": NOT_GRIDS, "office_handler": NOT_GRIDS,
    "department_handler": NOT_GRIDS,
    "full_time": {"A1a"}, "village_staff": {"A1", "A1a", "A1b"},
    "village_leader": {"A1", "A1a", "A1b"},
    "dispatcher": {"A", "A1", "A2", "A1a", "A1b", "A2a"},
    "town_leader": {"A", "A1", "A2", "A1a", "A1b", "A2a"},
    "other_town_worker": {"B1a"}, "resident": set(),
}

# Areas whose figures each reads (the areas they stand in and everything under them).
OVERSEEN = {
    "admin": NOT_GRIDS | ALL_GRIDS | {"city"}, "leader": NOT_GRIDS | ALL_GRIDS | {"city"},
    "full_time": {"A1a"}, "police": {"A1a"},
    "village_staff": {"A1", "A1a", "A1b"}, "village_leader": {"A1", "A1a", "A1b"},
    "dispatcher": {"A", "A1", "A2", "A1a", "A1b", "A2a"},
    "town_leader": {"A", "A1", "A2", "A1a", "A1b", "A2a"},
    "other_town_dispatcher": {"B", "B1", "B1a"},
    "office_handler": set(), "resident": set(),
}


def persona(city: City, name: str) -> User:
    return add_village_leader(city) if name == "village_leader" else city[name]


@pytest.mark.parametrize("who", sorted(REACHABLE))
def test_reachable_grids(city: City, who: str) -> None:
    assert named(city, reachable_grids(persona(city, who))) == REACHABLE[who]


@pytest.mark.parametrize("who", sorted(FILTERABLE))
def test_areas_in_the_inbox_filter(city: City, who: str) -> None:
    assert named(city, filter_areas(persona(city, who))) == FILTERABLE[who]


@pytest.mark.parametrize("who", sorted(OVERSEEN))
def test_areas_overseen_and_read(city: City, who: str) -> None:
    user = persona(city, who)
    for name in sorted(set(names(city).values())):
        expected = name in OVERSEEN[who]
        assert may_oversee(user, area(city, name)) is expected, name
        assert may_read_area(user, area(city, name)) is expected, name
        if expected:
            assert access_area(user, area(city, name).code) == area(city, name)
        else:
            with pytest.raises(Http404) as caught:
                access_area(user, area(city, name).code)
            assert str(caught.value) == "区域不存在或无权查看"
    with pytest.raises(Http404) as caught:
        access_area(user, "999999")
    assert str(caught.value) == "区域不存在或无权查看"


def test_figures_start_from_the_areas_a_person_stands_in(city: City) -> None:
    assert figure_roots(AnonymousUser()) == []
    assert figure_roots(city["resident"]) == []
    assert figure_roots(city["leader"]) is None and figure_roots(city["admin"]) is None
    assert figure_roots(city["office_handler"]) == []
    assert figure_roots(city["full_time"]) == [city.grid]
    # A dispatcher of town B who is also staff of village A1: ordered by code, B first.
    both = city["other_town_dispatcher"]
    Membership.objects.create(user=both, unit=Unit.objects.get(
        kind=UnitKind.VILLAGE, area=city.village), duty=Duty.VILLAGE_STAFF)
    assert figure_roots(both) == [city.other_town, city.village]
    assert home_area(both) == city.other_town
    assert home_area(city["leader"]) == city.city
    assert home_area(city["town_leader"]) == city.town
    assert home_area(city["office_handler"]) is None


def test_whose_work_a_person_may_read(city: City) -> None:
    worker = city["full_time"].pk  # a worker of grid A1a
    assert may_read_worker(city["resident"], city["resident"].pk)
    assert not may_read_worker(city["resident"], worker)
    assert may_read_worker(city["village_staff"], worker)
    assert may_read_worker(city["dispatcher"], worker)
    assert not may_read_worker(city["village_staff"], city["other_village_worker"].pk)
    assert not may_read_worker(city["other_town_dispatcher"], worker)
    # Only grid workers are read below the city: a dispatcher has no grid.
    assert not may_read_worker(city["town_leader"], city["dispatcher"].pk)
    assert may_read_worker(city["leader"], worker)
    assert may_read_worker(city["leader"], city["office_handler"].pk)  # any staff member
    assert not may_read_worker(city["leader"], city["resident"].pk)


# Entry forms.

FILING = {
    "admin": [Source.PATROL, Source.HOTLINE, Source.HIGHER],
    "leader": [Source.HOTLINE, Source.HIGHER],
    "town_leader": [Source.HIGHER],
    "village_leader": [Source.HIGHER],
    "dispatcher": [Source.HOTLINE, Source.HIGHER],
    "village_staff": [Source.PATROL],
    "full_time": [Source.PATROL],
    "police": [Source.PATROL],
    "office_handler": [],
    "resident": [],
}


@pytest.mark.parametrize("who", sorted(FILING))
def test_entry_forms_each_may_file(city: City, who: str) -> None:
    user = persona(city, who)
    assert entry_sources(user) == FILING[who]
    # A household visit is filed by those who patrol; the resident channels by no one
    # but an administrator.
    assert may_file(user, Source.VISIT) is (Source.PATROL in FILING[who])
    for channel in (Source.QR, Source.RESIDENT_PAGE, Source.OPEN311):
        assert may_file(user, channel) is (who == "admin")


FILES_INTO = {
    ("leader", Source.HOTLINE): ["B1a", "A1a", "A1b", "A2a"],  # by code: town B's is 001
    ("full_time", Source.PATROL): ["A1a"],
    ("full_time", Source.HIGHER): [],
    ("village_staff", Source.PATROL): ["A1a", "A1b"],
    ("village_staff", Source.HIGHER): ["A1a", "A1b"],
    ("dispatcher", Source.HOTLINE): ["A1a", "A1b", "A2a"],
    ("town_leader", Source.HIGHER): ["A1a", "A1b", "A2a"],
    ("town_leader", Source.HOTLINE): [],
    ("village_leader", Source.HIGHER): ["A1a", "A1b"],
}


@pytest.mark.parametrize(("who", "source"), sorted(FILES_INTO))
def test_grids_each_may_file_into(city: City, who: str, source: str) -> None:
    grids = grids_for_filing(persona(city, who), source)
    assert [names(city)[g.pk] for g in grids] == FILES_INTO[(who, source)]


# Villages, visits and the workbench.

def test_the_agenda_is_kept_by_the_villages_staff(city: City) -> None:
    assert keeps_agenda(city["village_staff"], city.village.pk)
    assert not keeps_agenda(city["village_staff"], city.other_village.pk)
    assert not keeps_agenda(city["village_staff"], None)
    assert not keeps_agenda(city["full_time"], city.village.pk)
    assert agenda_villages(city["village_staff"]) == {city.village.pk}
    assert agenda_villages(city["dispatcher"]) == set()


VISITS = {  # who may log a visit in grid A1a, and import its households
    "grid_leader": (True, True), "full_time": (True, True), "part_time": (True, False),
    "grid_guide": (True, False), "police": (False, False), "neighbour_worker": (False, False),
    "village_staff": (True, True), "dispatcher": (False, False), "admin": (False, True),
}


@pytest.mark.parametrize("who", sorted(VISITS))
def test_who_visits_households_and_imports_them(city: City, who: str) -> None:
    user = city[who]
    assert (may_visit(user, city.grid), may_import_households(user, city.grid)) == VISITS[who]
    if who != "admin":
        assert not may_visit(user, city.other_village_grid)
        assert not may_import_households(user, city.other_village_grid)


def test_a_visit_grid_outside_reach_is_not_found(city: City) -> None:
    assert access_visit_grid(city["full_time"], city.grid.pk) == city.grid
    for grid_id in (city.neighbour_grid.pk, None):
        with pytest.raises(Http404) as caught:
            access_visit_grid(city["full_time"], grid_id)
        assert str(caught.value) == "网格不存在或无权查看"


def test_the_workbench_as_each_finds_it(city: City) -> None:
    village_leader = add_village_leader(city)
    assert [lands_on_cockpit(u) for u in (city["leader"], city["town_leader"],
                                          village_leader)] == [True, True, True]
    assert [lands_on_cockpit(city[n]) for n in ("dispatcher", "admin", "full_time")] == [
        False, False, False]
    assert bulk_moves(city["full_time"]) == {"accept"}
    assert bulk_moves(city["village_staff"]) == {"accept"}
    assert bulk_moves(city["dispatcher"]) == {"dispatch"}
    assert bulk_moves(city["office_handler"]) == set()
    assert dispatch_towns(city["dispatcher"]) == {city.town.pk}
    assert dispatch_towns(city["town_leader"]) == set()
    assert not is_staff(AnonymousUser()) and not is_staff(city["resident"])
    assert is_staff(city["police"]) and is_staff(city["admin"])
    assert assignable_to(city["part_time"], city.grid.pk)
    assert not assignable_to(city["grid_guide"], city.grid.pk)
    assert not assignable_to(city["full_time"], city.neighbour_grid.pk)


# Two duties at once: what each shows is added up, none hides another's.

def join(user: User, unit: Unit, duty: str) -> User:
    Membership.objects.create(user=user, unit=unit, duty=duty)
    return user


def test_a_person_with_two_duties_sees_what_both_show(city: City) -> None:
    a1, a1_next, a2, b1 = (
        report(city, "other_resident") for _ in range(4))
    Case.objects.filter(pk=a1_next.pk).update(grid=city.neighbour_grid)
    Case.objects.filter(pk=a2.pk).update(grid=city.other_village_grid,
                                         village=city.other_village)
    Case.objects.filter(pk=b1.pk).update(grid=city.other_town_grid,
                                         village=city.other_town_grid.parent,
                                         town=city.other_town)
    for case in (a1, b1):
        workflow.accept(case, city["full_time"] if case == a1 else city["other_town_worker"],
                        now=NOW)
    workflow.escalate(a1, city["full_time"], reason="需要执法", now=NOW)
    workflow.dispatch(a1, city["dispatcher"], unit=city.office, now=NOW)

    def unit(kind: str, area: Area) -> Unit:
        return Unit.objects.get(kind=kind, area=area)

    def person(name: str, resident: bool = False) -> User:
        return User.objects.create(username=name, is_resident=resident,
                                   phone="13900000009" if resident else "")

    b_team = unit(UnitKind.GRID_TEAM, city.other_town_grid)
    b_village = unit(UnitKind.VILLAGE, city.other_town_grid.parent)
    worker = join(person("r-worker", True), b_team, Duty.PART_TIME)
    own = workflow.submit(worker, category=city.plain, description="我家门口堆物",
                          grid=city.grid, now=NOW).case  # grid A1a, like a1
    cases = {"own": own, "a1": a1, "a1_next": a1_next, "a2": a2, "b1": b1}
    seen = [
        # a resident who is also a grid worker of B1a: their own report and B1a's
        (worker, {"own", "b1"}),
        (join(join(person("grid-and-village"), b_team, Duty.FULL_TIME),
              unit(UnitKind.VILLAGE, city.village), Duty.VILLAGE_STAFF),
         {"b1", "a1", "a1_next", "own"}),
        (join(join(person("village-and-town"), b_village, Duty.VILLAGE_STAFF),
              city.platform, Duty.DISPATCHER),
         {"b1", "a1", "a1_next", "a2", "own"}),
        (join(join(person("town-and-office"), unit(UnitKind.TOWN_PLATFORM, city.other_town),
                   Duty.DISPATCHER), city.office, Duty.HANDLER),
         {"b1", "a1"}),
        (join(join(person("office-and-village-leader"), city.office, Duty.HANDLER),
              b_village, Duty.LEADER),
         {"a1", "b1"}),
        (add_village_leader(city), {"a1", "a1_next", "own"}),
    ]
    for user, expected in seen:
        assert set(visible_cases(user)) == {cases[n] for n in expected}, user.username


def test_a_submit_key_answers_only_whoever_sent_it(city: City) -> None:
    """A retried key answers with its case for the session that tracks it or the
    resident who reported it by name; for anyone else the key grants nothing."""
    named = report(city)
    anonymous = workflow.submit(None, category=city.plain, description="楼道堆物",
                                grid=city.grid, anonymous=True, now=NOW).case
    stranger = AnonymousUser()
    assert sent_by_visitor(city["resident"], named, [])
    assert not sent_by_visitor(city["other_resident"], named, [])
    assert sent_by_visitor(stranger, anonymous, [anonymous.pk])
    assert not sent_by_visitor(stranger, anonymous, [named.pk])
    assert not sent_by_visitor(city["resident"], anonymous, [])  # no reporter: no name
    # Following a case into the one it was merged into does not make its key yours.
    workflow.merge(anonymous, city["full_time"], into=named, now=NOW)
    assert not sent_by_visitor(stranger, named, [anonymous.pk])


@pytest.mark.django_db
def test_nearby_search_stays_in_the_scanned_village(city) -> None:
    from linge.cases.policy import nearby_search_grid

    assert nearby_search_grid(None, city.grid.code) is None  # no scan, no list
    assert nearby_search_grid("999999999999999", None) is None  # no such grid
    assert nearby_search_grid(city.grid.code, None) == city.grid.pk
    assert nearby_search_grid(city.grid.code, city.neighbour_grid.code) == city.neighbour_grid.pk
    # Another town's grid, or a village code: back to the scanned grid.
    assert nearby_search_grid(city.grid.code, city.other_town_grid.code) == city.grid.pk
    assert nearby_search_grid(city.grid.code, city.village.code) == city.grid.pk
