"""Shared test base: a small city and named personas, one for each standing.

    city 331081 ── town A 331081107 (温峤镇) ── village A1 331081107001 ── grids A1a, A1b
                │                            └─ village A2 331081107002 ── grid A2a
                └─ town B 331081001 (太平街道) ── village B1 331081001001 ── grid B1a

Grids are unit squares (0.01°) side by side, so their borders are shared exactly.
"""

from __future__ import annotations

import os
import re
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from linge.areas.models import Area, Level
from linge.cases.models import Category, TimeUnit
from linge.people.models import Duty, Lane, Membership, Unit, UnitKind, User

pytest_plugins = ["tests.browser", "tests.live"]

TZ = ZoneInfo("Asia/Shanghai")
PASSWORD = "correct horse battery"


def logged_in(username: str):
    """A test client logged in with the password form's backend (locks and all)."""
    from django.test import Client

    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return client


def pytest_configure(config: pytest.Config) -> None:
    from django.conf import settings

    # Real hashing is the point of PBKDF2 and the bane of a test suite.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    own_test_database(settings.DATABASES["default"])
    start_from_template(config, settings.DATABASES["default"])


def start_from_template(config: pytest.Config, database: dict) -> None:
    """Start from a migrated copy when LINGE_TEST_DB_TEMPLATE names one (`make mutate`).

    mutmut runs each mutant's tests in a fork with its own test database, and migrating
    it from nothing took 1.2 s of every fork (of 1.5 s for a one-test run). The copy is kept (reuse-db) so that
    Django only checks that every migration is applied, and removed when the run ends.
    """
    template = os.environ.get("LINGE_TEST_DB_TEMPLATE")
    if not template or database["ENGINE"] != "linge.sqlite":
        return
    name = Path(database["TEST"]["NAME"])
    # The backup API, not a file copy: it reads what the template's WAL still holds.
    source, copy = sqlite3.connect(template), sqlite3.connect(name)
    try:
        source.backup(copy)
    finally:
        source.close()
        copy.close()
    config.option.reuse_db = True

    def remove_copy() -> None:
        for path in (name, Path(f"{name}-wal"), Path(f"{name}-shm")):
            path.unlink(missing_ok=True)

    config.add_cleanup(remove_copy)


def own_test_database(database: dict) -> None:
    """Name the SQLite test database after this process, not the one that loaded the
    settings: `make mutate` runs each mutant's tests in a fork of one process, and two
    forks sharing the file drop each other's tables, failing tests no mutant broke."""
    test = database.get("TEST") or {}
    name = test.get("NAME")
    if name:
        test["NAME"] = re.sub(r"\.test-\d+\.sqlite3$", f".test-{os.getpid()}.sqlite3", name)


def pytest_runtest_setup(item: pytest.Item) -> None:
    from django.db import connection

    marker = item.get_closest_marker("database")
    if marker is not None and connection.vendor not in marker.args:
        pytest.skip(f"runs on {' and '.join(marker.args)} only (this run: {connection.vendor})")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Under CI (`CI` set) a skipped test fails: a skip there hides a missing codec, tool or
    browser. The one allowed skip is a test marked `database(...)` on the other database:
    .ci/run runs the suite once on SQLite and once on PostgreSQL, so it runs in the other
    pass."""
    outcome = yield
    report = outcome.get_result()
    if not (os.environ.get("CI") and report.skipped) or hasattr(report, "wasxfail"):
        return
    if item.get_closest_marker("database") is not None:
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    report.outcome = "failed"
    report.longrepr = f"skipped under CI, which must run every test: {reason}"


def pytest_report_header(config: pytest.Config) -> str:
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    return f"linge database: {engine}"


def square(x: int, y: int, size: float = 0.01) -> dict:
    lon, lat = 121.3 + x * size, 28.3 + y * size
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def at(text: str) -> datetime:
    """A Beijing-time instant: at("2026-10-09 10:00")."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=TZ)


@dataclass
class City:
    city: Area
    town: Area
    other_town: Area
    village: Area
    other_village: Area
    grid: Area
    neighbour_grid: Area
    other_village_grid: Area
    other_town_grid: Area
    platform: Unit
    office: Unit
    department: Unit
    other_department: Unit
    lanes: dict[str, Lane]
    category: Category  # 4 工作时 to resolve, after-photo required
    urgent: Category  # 紧急时, escalates by itself when overdue
    plain: Category  # 3 工作日, no photo needed
    people: dict[str, User] = field(default_factory=dict)

    def __getitem__(self, name: str) -> User:
        return self.people[name]


def _area(code: str, name: str, level: str, parent: Area | None, box: dict | None = None,
          households: int = 0) -> Area:
    return Area.objects.create(
        code=code, name=name, level=level, parent=parent, boundary=box, households=households
    )


def _person(name: str, display: str, **extra) -> User:
    user = User(username=name, display_name=display, **extra)
    user.set_password(PASSWORD)
    user.save()
    return user


def _member(user: User, unit: Unit, duty: str) -> None:
    Membership.objects.create(user=user, unit=unit, duty=duty)


def build_city() -> City:
    lanes = {
        code: Lane.objects.create(code=code, name=name, position=i)
        for i, (code, name) in enumerate(
            [("zongzhi", "综治工作"), ("shichang", "市场监管"), ("zhifa", "综合执法"),
             ("bianmin", "便民服务")], start=1
        )
    }
    city = _area("331081", "温岭市", Level.CITY, None)
    town = _area("331081107", "温峤镇", Level.TOWN, city)
    other_town = _area("331081001", "太平街道", Level.TOWN, city)
    village = _area("331081107001", "上墩村", Level.VILLAGE, town)
    other_village = _area("331081107002", "下墩村", Level.VILLAGE, town)
    b_village = _area("331081001001", "东门社区", Level.VILLAGE, other_town)
    grid = _area("331081107001001", "上墩村第1网格", Level.GRID, village, square(0, 0), 300)
    neighbour = _area("331081107001002", "上墩村第2网格", Level.GRID, village, square(1, 0), 200)
    a2 = _area("331081107002001", "下墩村第1网格", Level.GRID, other_village, square(2, 0), 250)
    b1 = _area("331081001001001", "东门社区第1网格", Level.GRID, b_village, square(5, 5), 400)

    def unit(name: str, kind: str, area: Area, lane: str | None = None) -> Unit:
        return Unit.objects.create(name=name, kind=kind, area=area,
                                   lane=lanes[lane] if lane else None)

    teams = {g.pk: unit(f"{g.name}团队", UnitKind.GRID_TEAM, g) for g in (grid, neighbour, a2, b1)}
    village_unit = unit("上墩村村委", UnitKind.VILLAGE, village)
    unit("下墩村村委", UnitKind.VILLAGE, other_village)
    unit("东门社区居委", UnitKind.VILLAGE, b_village)
    platform = unit("温峤镇四平台", UnitKind.TOWN_PLATFORM, town)
    other_platform = unit("太平街道四平台", UnitKind.TOWN_PLATFORM, other_town)
    office = unit("温峤镇综合执法队", UnitKind.OFFICE, town, "zhifa")
    other_office = unit("太平街道综合执法队", UnitKind.OFFICE, other_town, "zhifa")
    department = unit("市综合行政执法局", UnitKind.DEPARTMENT, city, "zhifa")
    other_department = unit("市市场监督管理局", UnitKind.DEPARTMENT, city, "shichang")
    command = unit("市社会治理中心", UnitKind.COMMAND, city)

    parent = Category.objects.create(code="01", name="市容环境", lane=lanes["zhifa"])
    category = Category.objects.create(
        code="0101", name="暴露垃圾", parent=parent, lane=lanes["zhifa"], accept_within=2,
        accept_unit=TimeUnit.WORK_HOURS, resolve_within=4, resolve_unit=TimeUnit.WORK_HOURS,
        photo_after_required=True, keywords="垃圾 垃圾桶",
    )
    urgent = Category.objects.create(
        code="0105", name="露天焚烧", parent=parent, lane=lanes["zhifa"], accept_within=1,
        accept_unit=TimeUnit.CLOCK_HOURS, resolve_within=4, resolve_unit=TimeUnit.CLOCK_HOURS,
        auto_escalate=True,
    )
    plain = Category.objects.create(
        code="0104", name="乱堆物堆料", parent=parent, lane=lanes["zhifa"], accept_within=2,
        accept_unit=TimeUnit.WORK_HOURS, resolve_within=3, resolve_unit=TimeUnit.WORK_DAYS,
    )
    c = City(city, town, other_town, village, other_village, grid, neighbour, a2, b1, platform,
             office, department, other_department, lanes, category, urgent, plain)

    team = teams[grid.pk]
    staff = [
        ("grid_leader", "王网格长", team, Duty.GRID_LEADER),
        ("full_time", "李专职", team, Duty.FULL_TIME),
        ("part_time", "张兼职", team, Duty.PART_TIME),
        ("grid_guide", "赵指导员", team, Duty.GRID_GUIDE),
        ("police", "钱民警", team, Duty.POLICE),
        ("neighbour_worker", "孙专职", teams[neighbour.pk], Duty.FULL_TIME),
        ("other_village_worker", "周专职", teams[a2.pk], Duty.FULL_TIME),
        ("other_town_worker", "吴专职", teams[b1.pk], Duty.FULL_TIME),
        ("village_staff", "郑村干部", village_unit, Duty.VILLAGE_STAFF),
        ("dispatcher", "冯派遣员", platform, Duty.DISPATCHER),
        ("other_town_dispatcher", "陈派遣员", other_platform, Duty.DISPATCHER),
        ("town_leader", "褚镇领导", platform, Duty.LEADER),
        ("office_handler", "卫执法队员", office, Duty.HANDLER),
        ("other_office_handler", "蒋执法队员", other_office, Duty.HANDLER),
        ("department_handler", "沈执法局经办", department, Duty.HANDLER),
        ("other_department_handler", "韩市监局经办", other_department, Duty.HANDLER),
        ("leader", "杨指挥长", command, Duty.LEADER),
        ("admin", "朱管理员", command, Duty.ADMIN),
    ]
    for username, display, where, duty in staff:
        user = _person(username, display, phone=f"1380000{len(c.people):04d}")
        _member(user, where, duty)
        c.people[username] = user
    c.people["admin"].is_superuser = c.people["admin"].is_staff = True
    c.people["admin"].save()
    c.people["resident"] = _person("r13900000001", "居民甲", phone="13900000001",
                                   is_resident=True)
    c.people["other_resident"] = _person("r13900000002", "居民乙", phone="13900000002",
                                         is_resident=True)
    return c


@pytest.fixture
def city(db) -> City:
    return build_city()


@pytest.fixture
def media(settings, tmp_path) -> Path:
    """A private media folder: photos written by the test land here and go with it."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    return root


@pytest.fixture(autouse=True)
def _fresh_caches():
    from django.core.cache import cache

    from linge.areas import locate
    from linge.cases import deadlines

    deadlines.calendar.cache_clear()
    locate.invalidate()
    cache.clear()
    yield
    locate.invalidate()
    cache.clear()


@pytest.fixture(autouse=True)
def _site_language():
    # A request leaves its language active in the thread (LocaleMiddleware activates it
    # and nothing deactivates it): a test that calls code directly after a test that
    # switched to English would otherwise read English.
    from django.utils import translation

    yield
    translation.deactivate()


def postgres_requested() -> bool:
    return os.environ.get("LINGE_DATABASE_URL", "").startswith("postgres")
