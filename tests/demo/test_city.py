"""The demo city: its tree, codes, geometry, units, staff, logins and determinism."""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import re
from collections import Counter, defaultdict

import pytest
from django.contrib.auth import authenticate
from django.db import transaction
from django.db.models import Count, Sum
from shapely.geometry import Polygon, shape
from shapely.ops import unary_union

from linge.areas.models import Area, Level, code_problem
from linge.cases.models import Category
from linge.demo.city import (
    DEMO_PASSWORD,
    EAST,
    NORTH,
    SOUTH,
    TOWNS_CSV,
    WEST,
    CityExists,
    build_city,
)
from linge.people.models import DUTIES_BY_UNIT_KIND, Duty, Membership, Unit, UnitKind, User

pytestmark = pytest.mark.django_db

LOGINS = {
    # username: (duty, unit name)
    "admin": (Duty.ADMIN, "市社会治理中心"),
    "wangge": (Duty.FULL_TIME, "上墩村第1网格"),
    "wanggezhang": (Duty.GRID_LEADER, "上墩村第1网格"),
    "jianzhi": (Duty.PART_TIME, "上墩村第1网格"),
    "cungan": (Duty.VILLAGE_STAFF, "上墩村村民委员会"),
    "paiqian": (Duty.DISPATCHER, "温峤镇基层治理四平台"),
    "bumen": (Duty.HANDLER, "市综合行政执法局"),
    "zhenban": (Duty.HANDLER, "温峤镇综合执法队"),
    "lingdao": (Duty.LEADER, "市社会治理中心"),
}
MOBILE = re.compile(r"1[3-9]\d{9}")
TILE_TOLERANCE = 1e-12


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker):
    """Build the city once for the module, inside a transaction rolled back at the end."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_city()  # its time is measured by bench/bench_demo.py
        transaction.set_rollback(True)


@pytest.fixture
def city(built):
    return built


def fingerprint() -> str:
    """A hash of every row the build writes, by natural keys (ids differ between builds)."""
    lines = []
    for a in Area.objects.order_by("code").select_related("parent"):
        lines.append((
            "area", a.code, a.name, a.level, a.kind, a.parent.code if a.parent else "",
            a.households, a.center_lon, a.center_lat, json.dumps(a.boundary, sort_keys=True),
        ))
    for u in Unit.objects.select_related("area", "lane"):
        lines.append(("unit", u.name, u.kind, u.area.code, u.lane.code if u.lane else "", u.phone))
    for u in User.objects.all():
        lines.append((
            "user", u.username, u.display_name, u.phone, u.is_resident, u.is_staff,
            u.is_superuser, u.password, u.date_joined.isoformat(),
        ))
    for m in Membership.objects.select_related("user", "unit__area"):
        lines.append(("member", m.user.username, m.unit.name, m.unit.area.code, m.duty))
    text = "\n".join(sorted(repr(line) for line in lines))
    return hashlib.sha256(text.encode()).hexdigest()


def wipe_city() -> None:
    """Delete what build_city wrote (categories stay: loading them again is a no-op)."""
    Membership.objects.all().delete()
    Unit.objects.all().delete()
    User.objects.all().delete()
    for level in (Level.GRID, Level.VILLAGE, Level.TOWN, Level.CITY):
        Area.objects.filter(level=level).delete()


def geometry(area: Area) -> Polygon:
    return shape(area.boundary)


# The tree --------------------------------------------------------------------------------


def test_city_and_its_16_towns(city):
    root = Area.objects.get(level=Level.CITY)
    assert (root.code, root.name, root.parent_id) == ("331081", "温岭市", None)
    with TOWNS_CSV.open(encoding="utf-8") as handle:
        expected = [(r["code"], r["name"], r["kind"]) for r in csv.DictReader(handle)]
    towns = list(Area.objects.filter(level=Level.TOWN).values_list("code", "name", "kind"))
    assert len(towns) == 16
    assert towns == expected
    assert [t.code for t in city.towns] == [t[0] for t in expected]
    assert city.city.pk == root.pk


def test_villages_and_communities(city):
    villages = Area.objects.filter(level=Level.VILLAGE).select_related("parent")
    assert villages.count() >= 150
    assert len(city.villages) == villages.count()
    names_by_town = defaultdict(list)
    for village in villages:
        names_by_town[village.parent.code].append(village.name)
        assert village.name.endswith(village.kind)
        assert len(village.name) == 2 + len(village.kind)  # a two-character stem
        if village.parent.kind == "街道":
            assert village.kind == "社区"
    for town_code, names in names_by_town.items():
        assert len(names) == len(set(names)), town_code
    towns = villages.filter(parent__kind="镇")
    assert towns.filter(kind="村").count() > 0.8 * towns.count()


def test_every_village_has_3_to_8_grids_and_shangdun_has_7(city):
    counts = Area.objects.filter(level=Level.VILLAGE).annotate(n=Count("children"))
    assert all(3 <= v.n <= 8 for v in counts)
    shangdun = Area.objects.get(name="上墩村", parent__name="温峤镇")
    assert shangdun.parent.code == "331081107"
    grids = list(shangdun.children.order_by("code"))
    assert len(grids) == 7
    assert [g.name for g in grids] == [f"上墩村第{n}网格" for n in range(1, 8)]
    assert [g.code for g in grids] == [f"{shangdun.code}{n:03d}" for n in range(1, 8)]


def test_codes_are_valid_and_extend_the_parent(city):
    for area in Area.objects.select_related("parent"):
        parent = area.parent
        problem = code_problem(
            area.code, area.level, parent.code if parent else None, parent.level if parent else None
        )
        assert problem == "", (area.code, problem)
    # Serials run 001, 002, … under every parent.
    children = defaultdict(list)
    for code, parent_code in Area.objects.exclude(level=Level.CITY).values_list(
        "code", "parent__code"
    ):
        children[parent_code].append(code)
    for parent_code, codes in children.items():
        if len(parent_code) >= 9:
            assert sorted(c[len(parent_code):] for c in codes) == [
                f"{n:03d}" for n in range(1, len(codes) + 1)
            ]


def test_households_add_up(city):
    total = Area.objects.get(level=Level.CITY).households
    assert 330_000 <= total <= 350_000
    assert Area.objects.filter(level=Level.GRID).aggregate(s=Sum("households"))["s"] == total
    for parent_level in (Level.VILLAGE, Level.TOWN):
        for parent in Area.objects.filter(level=parent_level).annotate(
            s=Sum("children__households")
        ):
            assert parent.households == parent.s, parent.code
    grid_households = [g.households for g in city.grids]
    assert min(grid_households) >= 100 and max(grid_households) <= 1000


# Geometry --------------------------------------------------------------------------------


def test_boundaries_are_valid_counter_clockwise_polygons_in_wenling(city):
    for area in Area.objects.all():
        assert area.boundary["type"] == "Polygon"
        ring = area.boundary["coordinates"][0]
        assert ring[0] == ring[-1]
        poly = geometry(area)
        assert poly.is_valid, area.code
        assert poly.exterior.is_ccw, area.code
        west, south, east, north = poly.bounds
        assert WEST - 0.02 <= west and east <= EAST + 0.02, area.code
        assert SOUTH - 0.02 <= south and north <= NORTH + 0.02, area.code
        assert 121.2 <= area.center_lon <= 121.6 and 28.2 <= area.center_lat <= 28.6
        assert poly.intersects(Polygon.from_bounds(
            area.center_lon - 1e-6, area.center_lat - 1e-6,
            area.center_lon + 1e-6, area.center_lat + 1e-6,
        )), area.code


def assert_tiles(whole: Polygon, parts: list[Polygon], label: str) -> None:
    union = unary_union(parts)
    assert union.symmetric_difference(whole).area < TILE_TOLERANCE, label
    for one, other in itertools.combinations(parts, 2):
        assert one.intersection(other).area < TILE_TOLERANCE, label


def test_grids_tile_every_village(city):
    grids = defaultdict(list)
    for grid in Area.objects.filter(level=Level.GRID).select_related("parent"):
        grids[grid.parent.code].append(geometry(grid))
    villages = list(Area.objects.filter(level=Level.VILLAGE))
    assert any(v.name == "上墩村" for v in villages)
    for village in villages:
        assert_tiles(geometry(village), grids[village.code], village.name)


def test_villages_tile_towns_and_towns_tile_the_city(city):
    villages = defaultdict(list)
    for village in Area.objects.filter(level=Level.VILLAGE).select_related("parent"):
        villages[village.parent.code].append(geometry(village))
    towns = list(Area.objects.filter(level=Level.TOWN))
    for town in towns:
        assert_tiles(geometry(town), villages[town.code], town.name)
    assert_tiles(
        geometry(Area.objects.get(level=Level.CITY)), [geometry(t) for t in towns], "温岭市"
    )


def test_neighbouring_villages_share_exact_vertices(city):
    corners = Counter()
    for village in Area.objects.filter(level=Level.VILLAGE):
        for point in village.boundary["coordinates"][0][:-1]:
            corners[tuple(point)] += 1
    # Interior lattice vertices belong to four villages.
    assert Counter(corners.values())[4] > 100


# Units and staff -------------------------------------------------------------------------


def test_units_of_every_level(city):
    units = Unit.objects.select_related("area", "lane")
    assert units.filter(kind=UnitKind.GRID_TEAM).count() == len(city.grids)
    assert units.filter(kind=UnitKind.VILLAGE).count() == len(city.villages)
    assert units.filter(kind=UnitKind.TOWN_PLATFORM).count() == 16
    for grid in city.grids:
        team = city.grid_team[grid.pk]
        assert (team.area_id, team.kind, team.name) == (grid.pk, UnitKind.GRID_TEAM, grid.name)
    for village in city.villages:
        assert city.village_unit[village.pk].area_id == village.pk
    wenqiao = next(t for t in city.towns if t.name == "温峤镇")
    offices = city.town_offices[wenqiao.pk]
    assert {lane: o.name for lane, o in offices.items()} == {
        "zhifa": "温峤镇综合执法队",
        "shichang": "温峤镇市场监管所",
        "zongzhi": "温峤镇综治中心",
        "bianmin": "温峤镇便民服务中心",
    }
    for town in city.towns:
        assert city.town_platform[town.pk].area_id == town.pk
        for lane, office in city.town_offices[town.pk].items():
            assert (office.kind, office.area_id, office.lane.code) == (UnitKind.OFFICE, town.pk, lane)
    departments = units.filter(kind=UnitKind.DEPARTMENT)
    assert 8 <= departments.count() <= 10
    assert departments.get(name="市综合行政执法局").lane.code == "zhifa"
    assert departments.get(name="市市场监督管理局").lane.code == "shichang"
    assert departments.get(name="市公安局").lane.code == "zongzhi"
    assert all(d.area.level == Level.CITY and d.lane for d in departments)
    assert sum(len(units) for units in city.departments.values()) == departments.count()
    command = units.get(kind=UnitKind.COMMAND)
    assert (command.name, command.area.level) == ("市社会治理中心", Level.CITY)
    assert city.command.pk == command.pk


def test_every_grid_team_is_complete(city):
    duties = defaultdict(Counter)
    for unit_id, duty in Membership.objects.filter(
        unit__kind=UnitKind.GRID_TEAM
    ).values_list("unit_id", "duty"):
        duties[unit_id][duty] += 1
    assert len(duties) == len(city.grids)
    for team_duties in duties.values():
        assert team_duties[Duty.GRID_LEADER] == 1
        assert team_duties[Duty.FULL_TIME] == 1
        assert 1 <= team_duties[Duty.PART_TIME] <= 3
        assert team_duties[Duty.GRID_GUIDE] == 1
        assert team_duties[Duty.POLICE] == 1


def test_police_serve_grids_of_one_village_only(city):
    villages_of = defaultdict(set)
    grids_of = Counter()
    for user_id, village_id in Membership.objects.filter(duty=Duty.POLICE).values_list(
        "user_id", "unit__area__parent_id"
    ):
        villages_of[user_id].add(village_id)
        grids_of[user_id] += 1
    assert all(len(v) == 1 for v in villages_of.values())
    assert max(grids_of.values()) > 1


def test_other_units_are_staffed(city):
    def count(unit: Unit, duty: str) -> int:
        return sum(1 for _user, d in city.members[unit.pk] if d == duty)

    for village in city.villages:
        assert 1 <= count(city.village_unit[village.pk], Duty.VILLAGE_STAFF) <= 2
    for town in city.towns:
        platform = city.town_platform[town.pk]
        assert count(platform, Duty.DISPATCHER) == 2
        assert count(platform, Duty.LEADER) == 1
        for office in city.town_offices[town.pk].values():
            assert 1 <= count(office, Duty.HANDLER) <= 2
    for units in city.departments.values():
        for department in units:
            assert 1 <= count(department, Duty.HANDLER) <= 2
    assert count(city.command, Duty.LEADER) == 1
    assert count(city.command, Duty.ADMIN) == 1


def test_memberships_fit_their_unit_kind(city):
    pairs = Membership.objects.values_list("unit__kind", "duty").distinct()
    for kind, duty in pairs:
        assert duty in DUTIES_BY_UNIT_KIND[kind], (kind, duty)
    in_info = sum(len(members) for members in city.members.values())
    assert in_info == Membership.objects.count()


def test_users_have_names_unique_phones_and_ascii_usernames(city):
    users = list(User.objects.all())
    phones = [u.phone for u in users]
    assert len(phones) == len(set(phones))
    for user in users:
        assert MOBILE.fullmatch(user.phone), user.phone
        assert user.username.isascii() and user.username.isalnum(), user.username
        assert 2 <= len(user.display_name) <= 5
    staff = [u for u in users if not u.is_resident]
    assert len({u.password for u in staff}) == 1
    assert {u.username for u in users if u.is_superuser or u.is_staff} == {"admin"}


def test_named_logins_hold_their_duties_and_log_in(city):
    for username, (duty, unit_name) in LOGINS.items():
        user = User.objects.get(username=username)
        assert user.memberships.filter(duty=duty, unit__name=unit_name).exists(), username
        assert authenticate(username=username, password=DEMO_PASSWORD) == user
    admin = User.objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser
    assert authenticate(username="wangge", password="wrong") is None
    assert [login[0] for login in city.logins] == list(LOGINS)
    for username, role, unit_name in city.logins:
        assert unit_name == LOGINS[username][1]
        assert role


def test_shangdun_grid_1_is_the_named_team(city):
    grid = Area.objects.get(name="上墩村第1网格")
    members = {(u.username, d) for u, d in city.members[city.grid_team[grid.pk].pk]}
    assert {("wangge", Duty.FULL_TIME), ("wanggezhang", Duty.GRID_LEADER),
            ("jianzhi", Duty.PART_TIME)} <= members


def test_residents(city):
    residents = User.objects.filter(is_resident=True)
    assert residents.count() == 2_000
    assert {r.pk for r in residents} == {r.pk for r in city.residents}
    assert len({r.phone for r in residents}) == 2_000
    for resident in residents:
        assert resident.username == "r" + resident.phone
        assert not resident.has_usable_password()
    assert not residents.filter(memberships__isnull=False).exists()


def test_city_info_carries_lanes_and_leaf_categories(city):
    assert set(city.lanes) == {"zongzhi", "shichang", "zhifa", "bianmin"}
    assert len(city.categories) == 58
    assert all(c.parent_id and c.lane_id for c in city.categories)
    assert Category.objects.count() == 70
    assert set(city.departments) == set(city.lanes)


# Determinism -----------------------------------------------------------------------------


def test_same_seed_gives_identical_rows(city):
    first = fingerprint()
    with transaction.atomic():
        wipe_city()
        assert not Area.objects.exists()
        build_city()
        second = fingerprint()
        transaction.set_rollback(True)
    assert first == second


def test_building_twice_is_refused(city):
    with pytest.raises(CityExists):
        build_city()
