"""网格治理晾晒台: towns, villages, grids and grid workers ranked by one composite score.

Fair by construction:
- a unit with fewer than LINGE_RANK_MIN_CASES received cases in the period is listed
  but not ranked (two lucky cases say nothing);
- every rate is shrunk toward the mean of its level (a Bayesian average): with n cases
  and x successes, the rate shown is (x + k·m) / (n + k), m the pooled rate of all
  units at the level, k = LINGE_RANK_PRIOR — a small unit is pulled toward the mean,
  a large one barely moves;
- volumes are counted per 1,000 households, not in raw numbers.

score = 100 × Σ wᵢ·r̃ᵢ / Σ wᵢ over the rates below, weights from LINGE_RANK_WEIGHTS.
`formula()` returns exactly this, and the page prints it.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings

from linge.areas.models import Area, Level
from linge.insights.figures import summed_tuples
from linge.insights.models import Scope

# rate → (successes, trials) among the summed measures.
RATES: dict[str, tuple[str, str]] = {
    "on_time": ("closed_on_time", "received"),
    "satisfaction": ("satisfied_or_basic", "rated"),
    "in_grid": ("closed_in_grid", "closed"),
    "proactive": ("staff_reported", "received"),
}
# rankings() computes the four rates inline, in this order (thousands of workers).
assert list(RATES.values()) == [("closed_on_time", "received"), ("satisfied_or_basic", "rated"),
                                ("closed_in_grid", "closed"), ("staff_reported", "received")]
LEVELS = {"town": (Level.TOWN, Scope.TOWN), "village": (Level.VILLAGE, Scope.VILLAGE),
          "grid": (Level.GRID, Scope.GRID), "worker": (None, Scope.WORKER)}


def weights() -> dict[str, float]:
    return dict(settings.LINGE_RANK_WEIGHTS)


def formula() -> dict:
    w = weights()
    total = sum(w.values())
    terms = " + ".join(f"{w[name]:g}×{name}" for name in RATES if w.get(name))
    return {
        "weights": w,
        "prior": settings.LINGE_RANK_PRIOR,
        "min_cases": settings.LINGE_RANK_MIN_CASES,
        "text": (f"score = 100 × ({terms}) / {total:g}; "
                 f"rate = (x + {settings.LINGE_RANK_PRIOR}·m) / (n + {settings.LINGE_RANK_PRIOR})"),
    }


# A unit: (key, code, name, households). Plain tuples: the worker board lists thousands.
Unit = tuple[int, str, str, int]


def _units(level: str, within: Area | None) -> list[Unit]:
    area_level, _scope = LEVELS[level]
    if area_level is not None:
        areas = Area.objects.filter(level=area_level)
        if within is not None:
            areas = areas.filter(code__startswith=within.code)
        rows = list(areas.order_by("code").values_list("pk", "code", "name", "households"))
        households: dict[str, int] = {}
        if area_level != Level.GRID:
            # Areas above grids may carry no household count: sum their grids'.
            cut = {Level.TOWN: 9, Level.VILLAGE: 12}[area_level]
            grids = Area.objects.filter(level=Level.GRID)
            if within is not None:
                grids = grids.filter(code__startswith=within.code)
            for code, count in grids.values_list("code", "households"):
                households[code[:cut]] = households.get(code[:cut], 0) + count
        return [(pk, code, name, households.get(code, 0) or own)
                for pk, code, name, own in rows]
    return [(pk, *member) for pk, member in sorted(_workers(within).items())]


def _workers(within: Area | None) -> dict[int, tuple[str, str, int]]:
    from linge.insights.reach import workers_under

    city = within or Area.objects.filter(level=Level.CITY).first()
    return workers_under(city) if city else {}


def _rounded(value: float, scale: float) -> float:
    # round(value, n) goes through decimal digits (0.5 µs); thousands of rows, six each.
    return round(value * scale) / scale


INPUTS = ["received", "closed", "closed_on_time", "closed_in_grid", "staff_reported", "rated",
          "satisfied", "basic_satisfied"]


def rankings(level: str, since: date, until: date, within: Area | None = None) -> dict:
    _level, scope = LEVELS[level]
    # The whole city: no list of keys (an IN of a thousand grids costs more than the rows
    # it leaves out); the units listed pick theirs.
    whole = within is None or within.level == Level.CITY
    if level == "worker":
        # Thousands of grid workers: the board lists those with cases in the period.
        members = _workers(within)
        sums = summed_tuples(scope, since, until, INPUTS,
                             keys=None if whole else list(members))
        units = [(key, *members[key]) for key in sorted(sums) if key in members]
    else:
        units = _units(level, within)
        sums = summed_tuples(scope, since, until, INPUTS,
                             keys=None if whole else [unit[0] for unit in units])
    w = weights()
    names = list(RATES)
    weight = [w.get(name, 0) for name in names]
    total_weight = sum(weight) or 1
    prior = settings.LINGE_RANK_PRIOR
    minimum = settings.LINGE_RANK_MIN_CASES
    zero = (0,) * len(INPUTS)
    # inputs: received, closed, closed_on_time, closed_in_grid, staff_reported, rated,
    # satisfied, basic_satisfied → the four (x, n) pairs of RATES, in order:
    # on_time = closed_on_time / received, satisfaction = (satisfied + basic) / rated,
    # in_grid = closed_in_grid / closed, proactive = staff_reported / received.
    values = [sums.get(unit[0], zero) for unit in units]
    # The pooled mean of each rate over the units of this level (what a unit of no
    # evidence is assumed to be). Thousands of workers: sums by column, not per pair.
    col = [sum(column) for column in zip(*values, strict=True)] if values else list(zero)
    rec, clo, ont, ing, stf, rat, sat, bas = col
    means = [ont / rec if rec else 0.0, (sat + bas) / rat if rat else 0.0,
             ing / clo if clo else 0.0, stf / rec if rec else 0.0]
    m0, m1, m2, m3 = means
    w0, w1, w2, w3 = weight
    n0, n1, n2, n3 = names
    rows = []
    for (key, code, name, households), row_values in zip(units, values, strict=True):
        rec, clo, ont, ing, stf, rat, sat, bas = row_values
        r0 = (ont + prior * m0) / (rec + prior) if rec + prior else 0.0
        r1 = (sat + bas + prior * m1) / (rat + prior) if rat + prior else 0.0
        r2 = (ing + prior * m2) / (clo + prior) if clo + prior else 0.0
        r3 = (stf + prior * m3) / (rec + prior) if rec + prior else 0.0
        score = 100 * (w0 * r0 + w1 * r1 + w2 * r2 + w3 * r3) / total_weight
        rows.append({
            "received": rec, "closed": clo, "closed_on_time": ont, "closed_in_grid": ing,
            "staff_reported": stf, "rated": rat, "satisfied": sat, "basic_satisfied": bas,
            "satisfied_or_basic": sat + bas, "key": key, "code": code, "name": name,
            "households": households,
            "per_1000_households": (_rounded(rec * 1000 / households, 1e2)
                                    if households else None),
            "rates": {n0: _rounded(r0, 1e6), n1: _rounded(r1, 1e6), n2: _rounded(r2, 1e6),
                      n3: _rounded(r3, 1e6)},
            "score": _rounded(score, 1e2), "ranked": rec >= minimum,
        })
    ranked = sorted((row for row in rows if row["ranked"]), key=lambda row: -row["score"])
    for position, row in enumerate(ranked, start=1):
        row["rank"] = position
    unranked = sorted((row for row in rows if not row["ranked"]), key=lambda row: row["code"])
    for row in unranked:
        row["rank"] = None
    return {"level": level, "means": dict(zip(names, (round(m, 6) for m in means), strict=True)),
            "formula": formula(), "rows": ranked + unranked}
