"""Every figure read from the rollups equals a brute-force count over raw cases and events.

The brute force below is written from the definitions in docs/figures.md, reading Case
rows and CaseEvent rows directly; it shares no code with insights/figures.py or
insights/rollups.py (only the list of figure names, to compare like with like).
"""

from __future__ import annotations

import math
import re
from datetime import date
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from linge.areas.models import Area, Level
from linge.cases.models import Case, CaseEvent
from linge.insights import figures, rollups
from linge.insights.models import CaseFact, Rollup
from tests.conftest import City
from tests.insights.histories import History

TZ = ZoneInfo("Asia/Shanghai")
PERIODS = [
    (date(2026, 9, 26), date(2026, 11, 30)),  # everything
    (date(2026, 10, 1), date(2026, 10, 31)),  # one whole month (month rows)
    (date(2026, 9, 28), date(2026, 10, 3)),  # across a month's end, in the holiday
    (date(2026, 10, 5), date(2026, 10, 5)),  # one day
    (date(2026, 9, 30), date(2026, 11, 1)),  # a whole month and a day either side
    (date(2026, 1, 1), date(2026, 12, 31)),  # a whole year (year rows)
    (date(2025, 12, 31), date(2027, 1, 1)),  # a year and a day either side
]


def nearest_rank(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


def brute_force(cases: list[Case], events: dict[int, list[CaseEvent]], due: dict,
                households: int | None) -> dict:
    received = [c for c in cases if c.state not in ("rejected", "merged")]
    closed = [c for c in received if c.state == "closed"]

    def last_resolution(c: Case):
        return [e for e in events[c.pk] if e.to_state == "resolved"][-1].at

    def verdicts(c: Case) -> list[str]:
        return [e.data["rating"] for e in events[c.pk]
                if e.action in ("rate", "reopen") and "rating" in e.data]

    on_time = [c for c in closed if due[c.pk] is None or last_resolution(c) <= due[c.pk]]
    in_grid = [c for c in closed if not any(e.action == "escalate" for e in events[c.pk])]
    reopened = [c for c in closed if any(e.action == "reopen" for e in events[c.pk])]
    staff = [c for c in received if c.source in ("patrol", "visit")]
    all_verdicts = [v for c in received for v in verdicts(c)]
    satisfied = all_verdicts.count("satisfied")
    basic = all_verdicts.count("basic")
    unsatisfied = all_verdicts.count("unsatisfied")
    closed_rated = [c for c in closed if verdicts(c)]

    def rate(a, b):
        return None if b == 0 else a / b

    responses = []
    for c in received:
        accepts = [e for e in events[c.pk] if e.action == "accept"]
        if accepts:
            responses.append((accepts[0].at - c.created_at).total_seconds())
    resolutions = [(last_resolution(c) - c.created_at).total_seconds() for c in closed]
    return {
        "received": len(received), "closed": len(closed), "closed_on_time": len(on_time),
        "closed_in_grid": len(in_grid), "reopened": len(reopened),
        "staff_reported": len(staff),
        "rejected": sum(c.state == "rejected" for c in cases),
        "merged": sum(c.state == "merged" for c in cases),
        "rated": len(all_verdicts), "satisfied": satisfied, "basic_satisfied": basic,
        "unsatisfied": unsatisfied,
        "closure_rate": rate(len(closed), len(received)),
        "on_time_rate": rate(len(on_time), len(received)),
        "satisfaction_rate": rate(satisfied + basic, len(all_verdicts)),
        "rating_rate": rate(len(closed_rated), len(closed)),
        "in_grid_rate": rate(len(in_grid), len(closed)),
        "rework_rate": rate(len(reopened), len(closed)),
        "proactive_rate": rate(len(staff), len(received)),
        "response_median_s": nearest_rank(responses, 0.5),
        "response_p90_s": nearest_rank(responses, 0.9),
        "resolution_median_s": nearest_rank(resolutions, 0.5),
        "resolution_p90_s": nearest_rank(resolutions, 0.9),
        "per_1000_households": (round(len(received) * 1000 / households, 2)
                                if households else None),
    }


def assert_same(got: dict, want: dict, where: str) -> None:
    assert set(got) == set(want) == set(figures.FIGURES), where
    for name, expected in want.items():
        value = got[name]
        if name.endswith("_s") and expected is not None and value is not None:
            # Read from log-spaced buckets: within the stated relative error.
            if expected < 1:
                assert value == 0, (where, name)
            else:
                assert abs(value - expected) <= figures.RELATIVE_ERROR * expected + 0.1, (
                    where, name, value, expected)
        elif isinstance(expected, float):
            assert value == pytest.approx(expected), (where, name, value, expected)
        else:
            assert value == expected, (where, name, value, expected)


def in_period(case: Case, since: date, until: date) -> bool:
    return since <= case.created_at.astimezone(TZ).date() <= until


def worker_of(case: Case, events: list[CaseEvent]) -> int | None:
    if case.assignee_id:
        return case.assignee_id
    accepts = [e for e in events if e.action == "accept"]
    return accepts[0].actor_id if accepts else None


def check_everything(city: City, history: History) -> None:
    cases = list(Case.objects.all())
    events: dict[int, list[CaseEvent]] = {c.pk: [] for c in cases}
    for event in CaseEvent.objects.order_by("seq"):
        events[event.case_id].append(event)
    due = {c.pk: history.due_at_resolution.get(c.pk) for c in cases}
    grids = {a.pk: a for a in Area.objects.filter(level=Level.GRID)}
    for area in Area.objects.all():
        def inside(c: Case, area=area) -> bool:
            return area.pk in (c.grid_id, c.village_id, c.town_id) or area.level == Level.CITY

        households = sum(g.households for g in grids.values() if g.code.startswith(area.code))
        for since, until in PERIODS:
            chosen = [c for c in cases if inside(c) and in_period(c, since, until)]
            want = brute_force(chosen, events, due, households)
            got = figures.figures_for_area(area, since, until)
            assert_same(got, want, f"{area.name} {since}..{until}")
    workers = {worker_of(c, events[c.pk]) for c in cases} - {None}
    assert len(workers) >= 4
    for user_id in workers:
        for since, until in PERIODS:
            chosen = [c for c in cases if worker_of(c, events[c.pk]) == user_id
                      and in_period(c, since, until)]
            want = brute_force(chosen, events, due, None)
            assert_same(figures.figures_for_worker(user_id, since, until), want,
                        f"worker {user_id} {since}..{until}")


def snapshot() -> tuple[dict, dict]:
    """Rollup rows and case facts as plain values; all-zero rollup rows dropped (an
    incremental pass can leave a row that was counted and then taken back)."""
    rows = {}
    for row in Rollup.objects.values():
        key = (row.pop("scope"), row.pop("key"), row.pop("category_id"), row.pop("grain"),
               row.pop("start"))
        row.pop("id")
        if any(v for v in row.values()):
            rows[key] = row
    facts = {f.pop("case_id"): f for f in CaseFact.objects.values()}
    return rows, facts


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rollups_equal_brute_force(city: City, seed: int) -> None:
    history = History(city, seed)
    # Fold in small steps while the history plays, so cases change after being folded.
    history.play(70, on_step=lambda: rollups.catch_up(limit=9))
    rollups.catch_up_all()
    counts = Case.objects.values_list("state", flat=True)
    assert {"closed", "rejected", "merged"} <= set(counts), "a history should have them all"
    assert CaseEvent.objects.filter(action="reopen").exists()
    assert CaseEvent.objects.filter(action="resume").exists()
    check_everything(city, history)
    # The rebuild gives exactly what the increments gave.
    incremental = snapshot()
    rollups.rebuild(batch=7)
    assert snapshot() == incremental
    check_everything(city, history)


def test_events_arriving_during_a_rebuild_are_folded_after(city: City) -> None:
    history = History(city, 11)
    history.play(40)
    rollups.catch_up_all()
    extra = History(city, 12)
    extra.due_at_resolution = history.due_at_resolution  # one record for both
    extra.open_cases = history.open_cases
    # Between every batch of the rebuild, more cases arrive and move (later seqs).
    rollups.rebuild(batch=5, between_batches=lambda: extra.one(0))
    rollups.catch_up_all()
    check_everything(city, history)
    after = snapshot()
    rollups.rebuild()
    assert snapshot() == after


def test_a_rebuild_writes_each_rollup_row_once(city: City) -> None:
    """Folding in the order of the cohort day, a rebuild inserts each row when its
    period is over and never reads one back nor updates it: on PostgreSQL each update
    inside the rebuild's one transaction leaves a dead version that later reads walk."""
    History(city, 13).play(40)
    rollups.catch_up_all()
    incremental = snapshot()
    table = connection.ops.quote_name(Rollup._meta.db_table)
    with CaptureQueriesContext(connection) as queries:
        rollups.rebuild(batch=3)
    # An executemany is logged as "N times: <sql>".
    touching = [re.sub(r"^\d+ times: ", "", q["sql"]) for q in queries.captured_queries
                if table in q["sql"]]
    assert [sql.split()[0] for sql in touching
            if not sql.startswith(("DELETE", "INSERT", "VACUUM", "ANALYZE"))] == []
    assert snapshot() == incremental


def test_catch_up_is_idempotent_and_empty_when_current(city: City) -> None:
    History(city, 5).play(10)
    assert rollups.catch_up_all() > 0
    assert rollups.catch_up() == 0
