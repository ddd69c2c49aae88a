"""网格治理晾晒台: a small unit never tops the board; the printed formula gives the score."""

from __future__ import annotations

from datetime import timedelta

import pytest

from linge.cases import workflow
from linge.cases.models import Rating, Source
from linge.insights import rankings, rollups
from tests.conftest import City, at

DAY = at("2026-11-02 09:00")
SINCE, UNTIL = DAY.date(), DAY.date() + timedelta(days=20)


def play(city: City, grid, worker: str, n: int, good: int, *, patrol: bool = False) -> None:
    """n cases in the grid; the first `good` closed on time and satisfied, the others
    escalated, solved late by the town, and rated unsatisfied then basic."""
    for i in range(n):
        now = DAY + timedelta(hours=i)
        who = city[worker] if patrol else city["resident"]
        case = workflow.submit(who, category=city.plain, description="路面破损", grid=grid,
                               now=now, source=Source.PATROL if patrol else Source.RESIDENT_PAGE
                               ).case
        workflow.accept(case, city[worker], now=now + timedelta(minutes=10))
        if i < good:
            workflow.resolve(case, city[worker], note="已修", now=now + timedelta(hours=2))
            if patrol:
                workflow.auto_close(case, rollups_system(), now=now + timedelta(days=8))
            else:
                workflow.rate(case, city["resident"], rating=Rating.SATISFIED,
                              now=now + timedelta(hours=3))
            continue
        workflow.escalate(case, city[worker], reason="需要镇街", now=now + timedelta(hours=1))
        dispatcher = city["dispatcher"] if grid.parent.parent_id == city.town.pk else city[
            "other_town_dispatcher"]
        workflow.resolve(case, dispatcher, note="镇街处理", now=now + timedelta(days=9))
        workflow.rate(case, city["resident"], rating=Rating.BASIC, now=now + timedelta(days=10))


def rollups_system():
    from linge.people.roles import SYSTEM

    return SYSTEM


@pytest.fixture
def board(city: City) -> City:
    play(city, city.grid, "full_time", 2, 2, patrol=True)  # two perfect cases
    play(city, city.neighbour_grid, "neighbour_worker", 16, 15)
    play(city, city.other_village_grid, "other_village_worker", 14, 8)
    play(city, city.other_town_grid, "other_town_worker", 12, 9)
    rollups.catch_up_all()
    return city


def independent_score(rows: list[dict], formula: dict) -> dict[int, float]:
    """The score as docs/figures.md and the page print it, computed from the row inputs."""
    parts = {"on_time": ("closed_on_time", "received"),
             "satisfaction": ("satisfied_or_basic", "rated"),
             "in_grid": ("closed_in_grid", "closed"),
             "proactive": ("staff_reported", "received")}
    k = formula["prior"]
    weights = formula["weights"]
    means = {}
    for name, (x, n) in parts.items():
        trials = sum(r[n] for r in rows)
        means[name] = sum(r[x] for r in rows) / trials if trials else 0
    scores = {}
    for r in rows:
        total = sum(weights[name] * (r[x] + k * means[name]) / (r[n] + k)
                    for name, (x, n) in parts.items())
        scores[r["key"]] = 100 * total / sum(weights.values())
    return scores


def test_two_cases_never_top_the_board(board: City) -> None:
    result = rankings.rankings("grid", SINCE, UNTIL)
    rows = {r["code"]: r for r in result["rows"]}
    small = rows[board.grid.code]
    assert small["received"] == 2 and small["rank"] is None and not small["ranked"]
    assert result["rows"][0]["code"] != board.grid.code
    assert result["rows"][0]["code"] == board.neighbour_grid.code


def test_shrinkage_alone_keeps_a_small_perfect_grid_below_a_large_good_one(
        board: City, settings) -> None:
    settings.LINGE_RANK_MIN_CASES = 1
    result = rankings.rankings("grid", SINCE, UNTIL)
    assert result["rows"][0]["code"] == board.neighbour_grid.code
    small = next(r for r in result["rows"] if r["code"] == board.grid.code)
    # Its raw rates are all 100%, but shrunk toward the mean they stay below 100% (but
    # satisfaction, where every verdict here is 满意 or 基本满意 and the mean is 100%).
    assert all(value < 1 or result["means"][name] == 1
               for name, value in small["rates"].items()), small


def test_the_printed_formula_reproduces_every_score(board: City) -> None:
    for level in ("town", "village", "grid", "worker"):
        result = rankings.rankings(level, SINCE, UNTIL)
        expected = independent_score(result["rows"], result["formula"])
        for row in result["rows"]:
            assert row["score"] == pytest.approx(expected[row["key"]], abs=0.005), (level, row)
        text = result["formula"]["text"]
        assert "0.4×on_time" in text and "(x + 20·m) / (n + 20)" in text


def test_weights_come_from_the_settings(board: City, settings) -> None:
    settings.LINGE_RANK_WEIGHTS = {"on_time": 1.0, "satisfaction": 0, "in_grid": 0,
                                   "proactive": 0}
    result = rankings.rankings("grid", SINCE, UNTIL)
    assert result["formula"]["text"].startswith("score = 100 × (1×on_time) / 1")
    expected = independent_score(result["rows"], result["formula"])
    assert all(r["score"] == pytest.approx(expected[r["key"]], abs=0.005)
               for r in result["rows"])


def test_a_worker_is_counted_per_1000_households_of_their_grid(board: City) -> None:
    board.neighbour_grid.households = 400
    board.neighbour_grid.save(update_fields=["households"])
    board.other_village_grid.households = 0
    board.other_village_grid.save(update_fields=["households"])
    rows = {r["key"]: r for r in rankings.rankings("worker", SINCE, UNTIL)["rows"]}
    worker = rows[board["neighbour_worker"].pk]
    assert (worker["code"], worker["received"], worker["households"]) == (
        board.neighbour_grid.code, 16, 400)
    assert worker["per_1000_households"] == 40.0  # 16 cases for 400 households
    assert rows[board["full_time"].pk]["per_1000_households"] == 6.67  # 2 for 300
    # A grid without a household count gives no rate, not a division by zero.
    assert rows[board["other_village_worker"].pk]["per_1000_households"] is None
