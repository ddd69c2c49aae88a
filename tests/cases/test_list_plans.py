"""Every case list a page reads is answered from an index, newest first, on both databases.

What this proves, and what it does not: on a case table of 20,000 rows (after ANALYZE,
so both planners see real statistics), each list query's plan reads `cases_case`
through an index, never by a full scan, and the single-scope lists (the grid page, a
village's, a town's, a state's newest cases, an inbox tab of one state) need no sort
at all: the index hands the rows over in created_at order and the LIMIT stops the
walk. The tabs of several states ("处理中", "已办结") may sort, but only the rows the
index found for that scope, never the table. It does not time anything, and a planner
may choose differently on other data; bench/bench_http.py measures the pages.

SQLite: `EXPLAIN QUERY PLAN` must not say "SCAN cases_case" without an index, nor
"USE TEMP B-TREE FOR ORDER BY" where no sort is allowed. PostgreSQL: the JSON plan
must have no "Seq Scan" on cases_case, and no Sort node where no sort is allowed.
No planner setting is changed.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from linge.cases import policy
from linge.cases.models import Case, Source, State
from linge.people.models import Unit, UnitKind
from linge.workbench import queries as Q_

pytestmark = pytest.mark.django_db

ROWS = 20_000
STATES = list(State.values)


@pytest.fixture
def many_cases(city):
    grids = [city.grid, city.neighbour_grid, city.other_village_grid, city.other_town_grid]
    teams = {u.area_id: u.pk for u in Unit.objects.filter(kind=UnitKind.GRID_TEAM)}
    now = timezone.now()
    cases = []
    for i in range(ROWS):
        grid = grids[i % len(grids)]
        at = now - timedelta(minutes=37 * i)
        cases.append(Case(
            number=f"20000101-{i:06d}", source=Source.RESIDENT_PAGE, category=city.category,
            description="路灯不亮", grid=grid, village_id=grid.parent_id,
            town_id=grid.parent.parent_id, owner_unit_id=teams[grid.pk],
            dispatched_unit=city.department if i % 7 == 0 else None,
            state=STATES[(i // len(grids)) % len(STATES)], created_at=at, updated_at=at,
        ))
    Case.objects.bulk_create(cases, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return city


def _plan(qs, table: str = "cases_case") -> tuple[bool, bool, str]:
    """(full scan of `table`, sort anywhere, the plan as text)."""
    if connection.vendor == "sqlite":
        text = qs.explain()
        lines = text.splitlines()
        full = any(line.rstrip().endswith(f"SCAN {table}") for line in lines)
        sort = any("USE TEMP B-TREE FOR ORDER BY" in line for line in lines)
        return full, sort, text
    plan = json.loads(qs.explain(format="json"))
    nodes, stack = [], [plan[0]["Plan"]]
    while stack:
        node = stack.pop()
        nodes.append(node)
        stack.extend(node.get("Plans", []))
    full = any(n["Node Type"] == "Seq Scan" and n.get("Relation Name") == table
               for n in nodes)
    sort = any(n["Node Type"] in ("Sort", "Incremental Sort") for n in nodes)
    return full, sort, json.dumps(plan, ensure_ascii=False, indent=1)


def _assert_indexed(qs, *, may_sort: bool = False, table: str = "cases_case") -> None:
    full, sort, text = _plan(qs, table)
    assert not full, f"full scan of {table}:\n{text}"
    if not may_sort:
        assert not sort, f"sorts instead of reading the index in order:\n{text}"


def test_case_lists_read_an_index_in_order(many_cases) -> None:
    city = many_cases
    _assert_indexed(policy.public_grid_cases(city.grid).select_related("category")[:10])
    _assert_indexed(policy.grid_page_rows(city.grid.pk, city.grid.pk))
    _assert_indexed(Case.objects.filter(grid=city.grid).order_by("-created_at")[:30])
    _assert_indexed(Case.objects.filter(village=city.village).order_by("-created_at")[:30])
    _assert_indexed(Case.objects.filter(town=city.town).order_by("-created_at")[:30])
    _assert_indexed(Case.objects.filter(state=State.ESCALATED).order_by("-created_at")[:30])
    _assert_indexed(Case.objects.filter(grid=city.grid, state=State.SUBMITTED)
                    .order_by("-created_at")[:30])
    check_inbox_tabs(city)  # one table of 20,000 rows for both
    check_api_pages(city)
    # And the check can fail: a list by a column without an index scans and sorts.
    full, sort, _text = _plan(Case.objects.filter(rating_comment="x").order_by("-updated_at"))
    assert full and sort


@pytest.fixture
def quiet_big_grid(city):
    """A grid with a quarter of the city's cases, all older than the other grids' 15,000:
    walking the city's newest cases first, a planner finds none of its cases for a long
    way (the bench's 10,000-case grid, once reports kept coming in elsewhere)."""
    teams = {u.area_id: u.pk for u in Unit.objects.filter(kind=UnitKind.GRID_TEAM)}
    others = [city.neighbour_grid, city.other_village_grid, city.other_town_grid]
    now = timezone.now()
    cases = []
    for i in range(ROWS):
        grid = others[i % len(others)] if i < 15_000 else city.grid
        at = now - timedelta(minutes=11 * i)
        cases.append(Case(
            number=f"20000102-{i:06d}", source=Source.RESIDENT_PAGE, category=city.category,
            description="路灯不亮", grid=grid, village_id=grid.parent_id,
            town_id=grid.parent.parent_id, owner_unit_id=teams[grid.pk],
            state=State.CLOSED, created_at=at, updated_at=at,
        ))
    Case.objects.bulk_create(cases, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return city


def _indexes_read(qs) -> list[str]:
    """The indexes the plan reads cases_case through."""
    if connection.vendor == "sqlite":
        used = [line.split(" cases_case USING ", 1)[1] for line in qs.explain().splitlines()
                if " cases_case USING " in line]
        return [u.removeprefix("COVERING ").removeprefix("INDEX ").split()[0] for u in used]
    plan = json.loads(qs.explain(format="json"))
    names, stack = [], [plan[0]["Plan"]]
    while stack:
        node = stack.pop()
        if node.get("Relation Name") == "cases_case" and "Index Name" in node:
            names.append(node["Index Name"])
        if node.get("Relation Name") == "cases_case" and node["Node Type"] == "Bitmap Heap Scan":
            # The indexes a bitmap scan reads are its children's (they name no table).
            bitmaps = list(node.get("Plans", []))
            while bitmaps:
                child = bitmaps.pop()
                names += [child["Index Name"]] if "Index Name" in child else []
                bitmaps.extend(child.get("Plans", []))
            continue
        stack.extend(node.get("Plans", []))
    return names


def test_the_grid_page_reads_its_grid_and_not_the_citys_newest(quiet_big_grid) -> None:
    city = quiet_big_grid
    page = policy.public_grid_cases(city.grid).select_related("category")[:10]
    assert _indexes_read(page) == ["case_grid_new"]
    assert [c.number for c in page][:2] == ["20000102-015000", "20000102-015001"]
    # What the page runs: the same rows, compiled once (policy.newest_public_cases).
    assert _indexes_read(policy.grid_page_rows(city.grid.pk, city.grid.pk)) == ["case_grid_new"]
    shown = [at for _, _, at in policy.newest_public_cases(city.grid)][:2]
    assert shown == [Case.objects.get(number=n).created_at
                     for n in ("20000102-015000", "20000102-015001")]


SINGLE_STATE_TABS = ["submitted", "escalated", "verifying"]
MANY_STATE_TABS = ["doing", "done"]


def check_inbox_tabs(city) -> None:
    """Called by the test above, on its table."""
    now = timezone.now()
    for who in ["full_time", "village_staff", "dispatcher", "department_handler"]:
        user = city[who]
        for tab in SINGLE_STATE_TABS + MANY_STATE_TABS:
            f = Q_.Filters(tab=tab)
            page = Q_.filtered(user, f, now).order_by("-created_at")[:30]
            _assert_indexed(page, may_sort=tab in MANY_STATE_TABS)
            # The tab's count, shown on every inbox page, counts within the index too.
            _assert_indexed(Q_.filtered(user, f, now), may_sort=True)


def test_the_due_soon_read_takes_the_open_cases_by_state(many_cases) -> None:
    """The cases near their deadline (the 即将超时 count on every inbox) are read
    through an index on the state, the scope's (area, state) one on SQLite: the open
    ones only, not the area's whole history by time (SQLite did, to skip a sort; 100 ms
    at a million cases). PostgreSQL may take the open cases of the city by state and
    keep the town's."""
    from linge.cases import deadlines, inbox

    city = many_cases
    now = timezone.now()
    for who, index in [("full_time", "case_grid_state_new"),
                       ("village_staff", "case_village_state_new"),
                       ("dispatcher", "case_town_state_new")]:
        near = inbox._near_deadlines(policy.scope_cases(policy.case_scope(city[who])), now,
                                     now + deadlines.LOOKAHEAD)
        read = set(_indexes_read(near))
        assert read and all("state" in name for name in read), (who, read)
        if connection.vendor == "sqlite":
            assert read == {index}, who


def check_api_pages(city) -> None:
    """/api/v1/cases keyset pages: the first and one after a cursor read the created_at
    index in order and stop; the page after a cursor never sorts what lies before it.
    (PostgreSQL may sort the rows of one created_at value, an Incremental Sort.)"""
    import linge.api.api  # noqa: F401 (the API's routers, before its cases module)
    from linge.api.cases import case_page, newest_after

    now = timezone.now()
    for who in ["leader", "dispatcher"]:
        user = city[who]
        qs = Q_.filtered(user, Q_.Filters(tab="done"), now).select_related("category", "grid")
        _rows, cursor = case_page(qs, None, 50)
        assert cursor is not None
        for page in (newest_after(qs, None)[:51], newest_after(qs, cursor)[:51]):
            _assert_indexed(page, may_sort=connection.vendor == "postgresql")


def test_the_same_problem_nearby_reads_its_grid_and_not_the_citys_newest(many_cases) -> None:
    """我也遇到 without a position lists the grid's open cases of the category of the
    last 30 days, through the grid's own index: not by walking the whole city's newest
    cases of the month (the planner trap of the grid page above)."""
    from linge.cases.nearby import nearby_open_cases

    city = many_cases
    sent: list[tuple[str, tuple]] = []

    def keep(execute, sql, params, many, context):
        sent.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(keep):
        found = nearby_open_cases(city.category.pk, None, None, grid_id=city.grid.pk)
    sql, params = next((q, p) for q, p in sent if "cases_case" in q and "LIMIT" in q)
    with connection.cursor() as cursor:
        prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
        cursor.execute(prefix + sql, params)
        plan = "\n".join(str(row[-1]) for row in cursor.fetchall())
    assert len(found) == 5
    assert {case.grid_id for case, _m in found} == {city.grid.pk}
    assert "case_grid_new" in plan or "case_grid_state_new" in plan, plan
