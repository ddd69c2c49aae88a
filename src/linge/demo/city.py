"""A demo city modeled on Wenling (温岭市, 331081): areas, grids, teams, staff, residents.

``build_city(seed)`` writes everything in one transaction and returns a ``CityInfo``
with the rows the case-history generator needs. The same seed gives the same rows,
codes, names, coordinates and phone numbers.

The map is made up. Villages are the cells of a jittered quadrilateral lattice over
lon 121.22–121.58, lat 28.22–28.58; every lattice vertex is computed once, so
neighbouring villages share exact coordinates. A town is a rectangular block of
cells (stored as their union), and each village is cut into its grids as strips
between points interpolated along two opposite edges, so the grids of a village tile
it exactly. The 16 towns and streets and their codes come from the packaged
``wenling-towns.csv``; 上墩村 of 温峤镇, named in the reporting on the platform, has
its 7 grids.
"""

from __future__ import annotations

import csv
import math
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password
from django.db import transaction
from shapely.geometry import Polygon, mapping
from shapely.geometry.polygon import orient
from shapely.ops import unary_union

from linge.areas.models import Area, Level
from linge.cases.categories import load_categories
from linge.cases.models import Category
from linge.demo.names import PhoneBook, community_stems, person_name, village_stems
from linge.people.models import Duty, Lane, Membership, Unit, UnitKind, User

Point = tuple[float, float]

CITY_CODE = "331081"
CITY_NAME = "温岭市"
TOWNS_CSV = Path(__file__).resolve().parents[1] / "areas" / "data" / "wenling-towns.csv"
DEMO_PASSWORD = "linge-demo"
# Demo accounts all "joined" at the same moment, so two builds give identical rows.
JOINED = datetime(2024, 1, 1, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
TOTAL_HOUSEHOLDS = 340_000
# Residents who report through the app: with the default 20,000 cases each has a
# handful over the year, as in a real city, rather than hundreds.
RESIDENTS = 2_000

# The real village and its grid count, placed first in its town.
SHANGDUN_TOWN, SHANGDUN_STEM, SHANGDUN_GRIDS = "331081107", "上墩", 7
GRIDS_PER_VILLAGE = (3, 8)

# The lattice: columns west→east, rows south→north, and how far a vertex may move.
WEST, EAST, SOUTH, NORTH = 121.22, 121.58, 28.22, 28.58
COLUMNS, ROWS, BAND_ROWS = 16, 12, 3
JITTER = 0.25
# Towns as blocks of cells: bands of BAND_ROWS rows from north to south, each split
# west→east into towns by width in columns (every band spans all COLUMNS).
TOWN_LAYOUT: tuple[tuple[tuple[str, int], ...], ...] = (
    (("大溪镇", 4), ("泽国镇", 4), ("城北街道", 3), ("新河镇", 5)),
    (("温峤镇", 5), ("城西街道", 3), ("太平街道", 3), ("箬横镇", 5)),
    (("坞根镇", 4), ("横峰街道", 3), ("城东街道", 3), ("滨海镇", 6)),
    (("城南镇", 5), ("石桥头镇", 4), ("松门镇", 4), ("石塘镇", 3)),
)
# Streets are urban: their grids hold more households.
STREET_DENSITY = 1.6

# Town offices, one per lane: the suffix after the town's name.
OFFICE_SUFFIX = {
    "zongzhi": "综治中心",
    "shichang": "市场监管所",
    "zhifa": "综合执法队",
    "bianmin": "便民服务中心",
}
# City departments: (name, lane code, ASCII key for usernames).
DEPARTMENTS = (
    ("市综合行政执法局", "zhifa", "zfj"),
    ("市市场监督管理局", "shichang", "scj"),
    ("市住房和城乡建设局", "bianmin", "zjj"),
    ("市交通运输局", "bianmin", "jtj"),
    ("市水利局", "bianmin", "slj"),
    ("市生态环境分局", "zhifa", "sthj"),
    ("市公安局", "zongzhi", "gaj"),
    ("市民政局", "bianmin", "mzj"),
)
COMMAND_NAME = "市社会治理中心"

# The demo logins named in the README: (unit name, duty, nth holder) → (username, role).
NAMED_LOGINS: tuple[tuple[tuple[str, str, int], tuple[str, str]], ...] = (
    ((COMMAND_NAME, Duty.ADMIN, 0), ("admin", "管理员")),
    (("上墩村第1网格", Duty.FULL_TIME, 0), ("wangge", "专职网格员")),
    (("上墩村第1网格", Duty.GRID_LEADER, 0), ("wanggezhang", "网格长")),
    (("上墩村第1网格", Duty.PART_TIME, 0), ("jianzhi", "兼职网格员")),
    (("上墩村村民委员会", Duty.VILLAGE_STAFF, 0), ("cungan", "村社干部")),
    (("温峤镇基层治理四平台", Duty.DISPATCHER, 0), ("paiqian", "镇街四平台派遣员")),
    (("市综合行政执法局", Duty.HANDLER, 0), ("bumen", "部门经办人")),
    (("温峤镇综合执法队", Duty.HANDLER, 0), ("zhenban", "镇街科室经办人")),
    ((COMMAND_NAME, Duty.LEADER, 0), ("lingdao", "指挥中心领导")),
)

# Username suffixes of grid team duties (the grid's code goes before them).
GRID_DUTY_KEY = {
    Duty.GRID_LEADER: "z",
    Duty.FULL_TIME: "w",
    Duty.PART_TIME: "j",
    Duty.GRID_GUIDE: "d",
}


class CityExists(RuntimeError):
    """The database already holds the demo city (or another city with its code)."""


@dataclass
class CityInfo:
    """What build_city made, with primary keys, for generators that follow it."""

    seed: int
    city: Area
    towns: list[Area]
    villages: list[Area]
    grids: list[Area]
    lanes: dict[str, Lane]
    grid_team: dict[int, Unit]  # grid id → its team
    village_unit: dict[int, Unit]  # village id → village unit
    town_platform: dict[int, Unit]  # town id → its platform (四平台)
    town_offices: dict[int, dict[str, Unit]]  # town id → lane code → office
    departments: dict[str, list[Unit]]  # lane code → city departments
    command: Unit
    members: dict[int, list[tuple[User, str]]]  # unit id → (user, duty)
    residents: list[User]
    categories: list[Category]  # the 小类, by code
    logins: list[tuple[str, str, str]]  # (username, role, unit name) of the named logins
    users: list[User] = field(default_factory=list)  # every staff user


def build_city(seed: int = 331081) -> CityInfo:
    """Build the demo city in one transaction; raise CityExists if it is already there."""
    if Area.objects.filter(code=CITY_CODE).exists():
        raise CityExists(f"区域 {CITY_CODE} 已存在，演示城市只能建在空库上")
    with transaction.atomic():
        load_categories()
        lanes = {lane.code: lane for lane in Lane.objects.all()}
        missing = set(OFFICE_SUFFIX) - set(lanes)
        if missing:
            raise RuntimeError(f"缺少条线：{'、'.join(sorted(missing))}")
        areas = _AreaBuilder(random.Random(f"{seed}:areas")).build()
        units = _UnitBuilder(areas, lanes).build()
        phones = PhoneBook(random.Random(f"{seed}:phones"))
        staff = _StaffBuilder(random.Random(f"{seed}:staff"), phones, units).build()
        residents = _residents(random.Random(f"{seed}:residents"), phones)
    categories = list(
        Category.objects.filter(parent__isnull=False).select_related("lane", "parent")
    )
    return CityInfo(
        seed=seed, city=areas.city, towns=areas.towns, villages=areas.villages,
        grids=areas.grids, lanes=lanes, grid_team=units.grid_team,
        village_unit=units.village_unit, town_platform=units.town_platform,
        town_offices=units.town_offices, departments=units.departments,
        command=units.command, members=staff.members, residents=residents,
        categories=categories, logins=staff.logins, users=staff.users,
    )


# Areas and their geometry ---------------------------------------------------------------


def read_towns(path: Path = TOWNS_CSV) -> list[tuple[str, str, str]]:
    """(code, name, kind) of the towns and streets, in file order."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [(row["code"], row["name"], row["kind"]) for row in csv.DictReader(handle)]


def town_blocks() -> dict[str, list[tuple[int, int]]]:
    """Town name → its lattice cells (column, row), north-west first, row by row."""
    blocks: dict[str, list[tuple[int, int]]] = {}
    for band, towns in enumerate(TOWN_LAYOUT):
        top = ROWS - band * BAND_ROWS  # rows count from the south
        left = 0
        for name, width in towns:
            blocks[name] = [
                (col, row)
                for row in range(top - 1, top - BAND_ROWS - 1, -1)
                for col in range(left, left + width)
            ]
            left += width
        if left != COLUMNS:
            raise ValueError(f"band {band} spans {left} columns, not {COLUMNS}")
    return blocks


def lattice(rng: random.Random) -> list[list[Point]]:
    """Vertices [column][row] of the jittered lattice, rounded to 1e-6 degree."""
    dx, dy = (EAST - WEST) / COLUMNS, (NORTH - SOUTH) / ROWS
    return [
        [
            (
                round(WEST + (col + rng.uniform(-JITTER, JITTER)) * dx, 6),
                round(SOUTH + (row + rng.uniform(-JITTER, JITTER)) * dy, 6),
            )
            for row in range(ROWS + 1)
        ]
        for col in range(COLUMNS + 1)
    ]


def cell(vertices: list[list[Point]], col: int, row: int) -> list[Point]:
    """The cell's corners counter-clockwise from the south-west one."""
    return [
        vertices[col][row], vertices[col + 1][row],
        vertices[col + 1][row + 1], vertices[col][row + 1],
    ]


def cut_edge(start: Point, end: Point, parts: int, rng: random.Random) -> list[Point]:
    """parts + 1 points from start to end (both exact), the inner ones a little uneven."""
    points = [start]
    for i in range(1, parts):
        t = (i + rng.uniform(-0.2, 0.2)) / parts
        points.append((start[0] + (end[0] - start[0]) * t, start[1] + (end[1] - start[1]) * t))
    points.append(end)
    return points


def strips(corners: list[Point], parts: int, rng: random.Random) -> list[list[Point]]:
    """Cut a counter-clockwise quadrilateral into `parts` strips (counter-clockwise rings).

    The strips run between points on two opposite edges, chosen at random: the southern
    and northern edges (strips side by side) or the eastern and western (stacked).
    Adjacent strips share the very same points.
    """
    a, b, c, d = corners
    first, second = ((a, b), (d, c)) if rng.random() < 0.5 else ((b, c), (a, d))
    low = cut_edge(*first, parts, rng)
    high = cut_edge(*second, parts, rng)
    return [[low[i], low[i + 1], high[i + 1], high[i]] for i in range(parts)]


def polygon_json(ring: list[Point]) -> dict:
    """A GeoJSON Polygon from an open counter-clockwise ring."""
    return {"type": "Polygon", "coordinates": [[list(p) for p in [*ring, ring[0]]]]}


def shape_json(shape: Polygon) -> dict:
    """GeoJSON of a shapely polygon, exterior counter-clockwise (RFC 7946)."""
    if shape.geom_type != "Polygon":
        raise ValueError(f"expected one polygon, got {shape.geom_type}")
    data = mapping(orient(shape, 1.0))
    return {
        "type": "Polygon",
        "coordinates": [[list(p) for p in ring] for ring in data["coordinates"]],
    }


def set_center(area: Area, shape: Polygon) -> None:
    point = shape.representative_point()
    area.center_lon, area.center_lat = round(point.x, 6), round(point.y, 6)


@dataclass
class Areas:
    city: Area
    towns: list[Area]
    villages: list[Area]
    grids: list[Area]


class _AreaBuilder:
    """Plans the whole tree in memory, then writes it level by level."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.vertices = lattice(rng)
        self.blocks = town_blocks()
        self.taken = {SHANGDUN_STEM}
        self.town_shapes: list[Polygon] = []
        self.grid_weights: list[float] = []
        self.corners: dict[str, list[Point]] = {}  # village code → its cell's corners

    def build(self) -> Areas:
        city = Area(code=CITY_CODE, name=CITY_NAME, level=Level.CITY, kind="县级市")
        towns, villages, grids = [], [], []
        for code, name, kind in read_towns():
            if name not in self.blocks:
                raise ValueError(f"town {name} has no block in TOWN_LAYOUT")
            town = Area(code=code, name=name, level=Level.TOWN, kind=kind, parent=city)
            towns.append(town)
            town_villages = self._villages(town)
            villages.extend(town_villages)
            for village in town_villages:
                grids.extend(self._grids(village, kind))
        self._households(city, towns, villages, grids)
        city_shape = unary_union(self.town_shapes)
        city.boundary = shape_json(city_shape)
        set_center(city, city_shape)
        for level in ([city], towns, villages, grids):
            Area.objects.bulk_create(level)
        return Areas(city, towns, villages, grids)

    def _villages(self, town: Area) -> list[Area]:
        cells = self.blocks[town.name]
        names = self._village_names(town, len(cells))
        shapes, villages = [], []
        for serial, ((col, row), (name, kind)) in enumerate(zip(cells, names, strict=True), 1):
            corners = cell(self.vertices, col, row)
            village = Area(
                code=f"{town.code}{serial:03d}", name=name, level=Level.VILLAGE, kind=kind,
                parent=town, boundary=polygon_json(corners),
            )
            shape = Polygon(corners)
            set_center(village, shape)
            self.corners[village.code] = corners
            shapes.append(shape)
            villages.append(village)
        town_shape = unary_union(shapes)
        town.boundary = shape_json(town_shape)
        set_center(town, town_shape)
        self.town_shapes.append(town_shape)
        return villages

    def _village_names(self, town: Area, count: int) -> list[tuple[str, str]]:
        """(name, kind): streets have 社区; towns have 村 and one seat 社区 last."""
        if town.kind == "街道":
            return [(s + "社区", "社区") for s in community_stems(self.rng, count, self.taken)]
        seat = town.name.removesuffix("镇")[:2]
        self.taken.add(seat)
        first = [SHANGDUN_STEM] if town.code == SHANGDUN_TOWN else []
        stems = first + village_stems(self.rng, count - 1 - len(first), self.taken)
        return [(s + "村", "村") for s in stems] + [(seat + "社区", "社区")]

    def _grids(self, village: Area, town_kind: str) -> list[Area]:
        if village.name == SHANGDUN_STEM + "村":
            count = SHANGDUN_GRIDS
        else:
            count = self.rng.randint(*GRIDS_PER_VILLAGE)
        density = STREET_DENSITY if town_kind == "街道" else 1.0
        grids = []
        for serial, ring in enumerate(strips(self.corners[village.code], count, self.rng), 1):
            grid = Area(
                code=f"{village.code}{serial:03d}", name=f"{village.name}第{serial}网格",
                level=Level.GRID, parent=village, boundary=polygon_json(ring),
            )
            set_center(grid, Polygon(ring))
            grids.append(grid)
            self.grid_weights.append(density * self.rng.uniform(0.6, 1.4))
        return grids

    def _households(self, city: Area, towns: list[Area], villages: list[Area], grids: list[Area]) -> None:
        """Share TOTAL_HOUSEHOLDS among the grids by weight; higher levels are sums."""
        for grid, count in zip(grids, apportion(self.grid_weights, TOTAL_HOUSEHOLDS), strict=True):
            grid.households = count
        for parents in (villages, towns, [city]):
            for parent in parents:
                parent.households = 0
        for grid in grids:
            grid.parent.households += grid.households
        for village in villages:
            village.parent.households += village.households
        city.households = sum(town.households for town in towns)


def apportion(weights: list[float], total: int) -> list[int]:
    """Whole numbers proportional to weights that sum to total (largest remainders)."""
    scale = total / sum(weights)
    exact = [w * scale for w in weights]
    counts = [math.floor(x) for x in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: (counts[i] - exact[i], i))
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


# Units --------------------------------------------------------------------------------


@dataclass
class Units:
    command: Unit
    departments: dict[str, list[Unit]]
    town_platform: dict[int, Unit]
    town_offices: dict[int, dict[str, Unit]]
    village_unit: dict[int, Unit]
    grid_team: dict[int, Unit]
    all: list[Unit]
    areas: Areas


class _UnitBuilder:
    def __init__(self, areas: Areas, lanes: dict[str, Lane]) -> None:
        self.areas = areas
        self.lanes = lanes

    def build(self) -> Units:
        city = self.areas.city
        command = Unit(name=COMMAND_NAME, kind=UnitKind.COMMAND, area=city)
        departments: dict[str, list[Unit]] = {code: [] for code in OFFICE_SUFFIX}
        for name, lane, _key in DEPARTMENTS:
            departments[lane].append(
                Unit(name=name, kind=UnitKind.DEPARTMENT, area=city, lane=self.lanes[lane])
            )
        platforms, offices = {}, {}
        for town in self.areas.towns:
            platforms[town.code] = Unit(
                name=f"{town.name}基层治理四平台", kind=UnitKind.TOWN_PLATFORM, area=town
            )
            offices[town.code] = {
                lane: Unit(
                    name=town.name + suffix, kind=UnitKind.OFFICE, area=town,
                    lane=self.lanes[lane],
                )
                for lane, suffix in OFFICE_SUFFIX.items()
            }
        villages = {
            v.code: Unit(name=village_unit_name(v), kind=UnitKind.VILLAGE, area=v)
            for v in self.areas.villages
        }
        teams = {
            g.code: Unit(name=g.name, kind=UnitKind.GRID_TEAM, area=g) for g in self.areas.grids
        }
        every = [
            command, *(u for units in departments.values() for u in units),
            *_town_units(self.areas.towns, platforms, offices),
            *villages.values(), *teams.values(),
        ]
        return Units(
            command=command, departments=departments,
            town_platform={t.pk: platforms[t.code] for t in self.areas.towns},
            town_offices={t.pk: offices[t.code] for t in self.areas.towns},
            village_unit={v.pk: villages[v.code] for v in self.areas.villages},
            grid_team={g.pk: teams[g.code] for g in self.areas.grids},
            all=every, areas=self.areas,
        )


def _town_units(towns: list[Area], platforms: dict, offices: dict) -> Iterable[Unit]:
    for town in towns:
        yield platforms[town.code]
        yield from offices[town.code].values()


def village_unit_name(village: Area) -> str:
    return village.name + ("村民委员会" if village.kind == "村" else "居民委员会")


# Staff and residents ------------------------------------------------------------------


@dataclass
class Staff:
    users: list[User]
    members: dict[int, list[tuple[User, str]]]
    logins: list[tuple[str, str, str]]


class _StaffBuilder:
    """Plans every staff user and membership, then writes them with bulk_create."""

    def __init__(self, rng: random.Random, phones: PhoneBook, units: Units) -> None:
        self.rng = rng
        self.phones = phones
        self.units = units
        # Hashed once: every demo account has the same password, and a fixed salt keeps
        # two builds with the same seed identical.
        self.password = make_password(DEMO_PASSWORD, salt="lingedemocity")
        self.users: list[User] = []
        self.memberships: list[Membership] = []
        self.named = {key: value for key, value in NAMED_LOGINS}
        self.logins: dict[str, tuple[str, str, str]] = {}
        self.grids_of: dict[str, list[Area]] = {}
        for grid in units.areas.grids:
            self.grids_of.setdefault(grid.parent.code, []).append(grid)

    def build(self) -> Staff:
        self._command()
        self._departments()
        for town in self.units.areas.towns:
            self._town(town)
        for village in self.units.areas.villages:
            self._village(village)
        # Units are written after planning, which sets their phone numbers.
        Unit.objects.bulk_create(self.units.all)
        User.objects.bulk_create(self.users)
        Membership.objects.bulk_create(self.memberships)
        members: dict[int, list[tuple[User, str]]] = {}
        for m in self.memberships:
            members.setdefault(m.unit.pk, []).append((m.user, m.duty))
        logins = [self.logins[username] for _key, (username, _role) in NAMED_LOGINS]
        return Staff(self.users, members, logins)

    def _person(self, username: str, unit: Unit, duty: str, nth: int = 0) -> User:
        """A new user holding `duty` in `unit`; a named login takes its README username."""
        named = self.named.get((unit.name, duty, nth))
        if named:
            username = named[0]
            self.logins[username] = (username, named[1], unit.name)
        user = self._user(username)
        self.join(user, unit, duty)
        return user

    def _user(self, username: str) -> User:
        user = User(
            username=username, display_name=person_name(self.rng), phone=self.phones.mobile(),
            password=self.password, date_joined=JOINED,
        )
        self.users.append(user)
        return user

    def join(self, user: User, unit: Unit, duty: str) -> None:
        self.memberships.append(Membership(user=user, unit=unit, duty=duty))

    def _command(self) -> None:
        command = self.units.command
        command.phone = self.phones.landline()
        self._person("lingdao", command, Duty.LEADER)
        admin = self._person("admin", command, Duty.ADMIN)
        admin.display_name = "系统管理员"
        admin.is_staff = admin.is_superuser = True

    def _departments(self) -> None:
        keys = {name: key for name, _lane, key in DEPARTMENTS}
        for units in self.units.departments.values():
            for unit in units:
                unit.phone = self.phones.landline()
                self._handlers(f"d{keys[unit.name]}", unit)

    def _handlers(self, prefix: str, unit: Unit) -> None:
        for nth in range(self.rng.randint(1, 2)):
            self._person(f"{prefix}{nth + 1}", unit, Duty.HANDLER, nth)

    def _town(self, town: Area) -> None:
        platform = self.units.town_platform[town.pk]
        platform.phone = self.phones.landline()
        for nth in range(2):
            self._person(f"t{town.code}p{nth + 1}", platform, Duty.DISPATCHER, nth)
        self._person(f"t{town.code}l", platform, Duty.LEADER)
        for lane, office in self.units.town_offices[town.pk].items():
            office.phone = self.phones.landline()
            self._handlers(f"o{town.code}{lane}", office)

    def _village(self, village: Area) -> None:
        unit = self.units.village_unit[village.pk]
        unit.phone = self.phones.landline()
        for nth in range(self.rng.randint(1, 2)):
            self._person(f"v{village.code}{nth + 1}", unit, Duty.VILLAGE_STAFF, nth)
        grids = self.grids_of[village.code]
        # One police officer for up to four grids of the village, joined to each team.
        officers = [self._user(f"p{village.code}{n + 1}") for n in range(math.ceil(len(grids) / 4))]
        for index, grid in enumerate(grids):
            team = self.units.grid_team[grid.pk]
            self._team(grid, team)
            self.join(officers[index * len(officers) // len(grids)], team, Duty.POLICE)

    def _team(self, grid: Area, team: Unit) -> None:
        prefix = f"g{grid.code}"
        key = GRID_DUTY_KEY
        self._person(prefix + key[Duty.GRID_LEADER], team, Duty.GRID_LEADER)
        worker = self._person(prefix + key[Duty.FULL_TIME], team, Duty.FULL_TIME)
        team.phone = worker.phone
        for nth in range(self.rng.randint(1, 3)):
            self._person(f"{prefix}{key[Duty.PART_TIME]}{nth + 1}", team, Duty.PART_TIME, nth)
        self._person(prefix + key[Duty.GRID_GUIDE], team, Duty.GRID_GUIDE)


def _residents(rng: random.Random, phones: PhoneBook) -> list[User]:
    """A few residents known by phone, with unusable passwords, for the case history."""
    residents = []
    for _ in range(RESIDENTS):
        phone = phones.mobile()
        # "!" marks an unusable password; the rest is seeded so builds stay identical.
        unusable = "!" + "".join(rng.choice("abcdefghijkmnpqrstuvwxyz23456789") for _ in range(40))
        residents.append(
            User(
                username=f"r{phone}", display_name=person_name(rng), phone=phone,
                is_resident=True, password=unusable, date_joined=JOINED,
            )
        )
    return User.objects.bulk_create(residents)
