"""The cases behind a number: for any count a leader's screen shows (an area or a
worker, a period, one figure), the exact cases that make it up.

They are read from CaseFact, the per-case contributions the rollups are the sums of,
so the list always adds up to the number on the screen: a case counts once for a
case-level figure (received, closed, …) and as many times as it was rated for a
verdict figure (rated, satisfied, …), and the list says how many. Lists are newest
cohort day first and keyset-paginated on (day, case) over the (area, day, case)
indexes of CaseFact, so a page costs the same whatever the table holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Q, QuerySet

from linge.areas.models import Area, Level
from linge.cases import policy
from linge.cases.models import Case
from linge.insights.figures import COUNTS, SCOPE_OF_LEVEL, totals
from linge.insights.models import CaseFact, Scope

# The figures a list can be asked for: every count the screens show, and the live ones
# of the disposal screen (open, overdue).
FIGURES = [*COUNTS, "closed_rated", "open", "overdue_open"]
# Verdicts: a case may carry more than one (a 不满意 that reopened it, then a 满意).
PER_VERDICT = {"rated", "satisfied", "basic_satisfied", "unsatisfied"}
MAX_LIMIT = 200


class BadCursor(ValueError):
    pass


@dataclass(frozen=True)
class Row:
    case: Case
    day: date  # the cohort day: the local date the case was received
    count: int  # what this case adds to the figure (1, or its verdicts)


def _area_q(area: Area) -> Q:
    if area.level == Level.CITY:
        towns = Area.objects.filter(parent=area, level=Level.TOWN).values_list("pk", flat=True)
        return Q(town_id__in=list(towns))
    column = {Level.TOWN: "town_id", Level.VILLAGE: "village_id", Level.GRID: "grid_id"}
    return Q(**{column[area.level]: area.pk})


def facts(figure: str, since: date, until: date, *, area: Area | None = None,
          worker_id: int | None = None) -> QuerySet[CaseFact]:
    """The CaseFact rows adding to `figure` for an area or a worker over [since, until]."""
    if figure not in FIGURES:
        raise ValueError(figure)
    rows = CaseFact.objects.filter(day__gte=since, day__lte=until, **{f"{figure}__gt": 0})
    if worker_id is not None:
        return rows.filter(worker_id=worker_id)
    assert area is not None
    return rows.filter(_area_q(area))


def total(figure: str, since: date, until: date, *, area: Area | None = None,
          worker_id: int | None = None) -> int:
    """The number on the screen, read from the rollups as the figures read it."""
    if figure not in FIGURES:
        raise ValueError(figure)
    if worker_id is not None:
        return totals(Scope.WORKER, worker_id, since, until).measures[figure]
    assert area is not None
    return totals(SCOPE_OF_LEVEL[area.level], area.pk, since, until).measures[figure]


def parse_cursor(cursor: str | None) -> tuple[date, int] | None:
    if not cursor:
        return None
    try:
        day, case_id = cursor.split("~")
        return date.fromisoformat(day), int(case_id)
    except ValueError as exc:
        raise BadCursor(cursor) from exc


def page(user, figure: str, since: date, until: date, *, area: Area | None = None,
         worker_id: int | None = None, cursor: str | None = None,
         limit: int = 50) -> tuple[list[Row], str | None, int]:
    """One page of the cases behind `figure`, newest first: (rows, the next page's
    cursor or None, rows of this page the user may not open and that are left out)."""
    limit = max(1, min(limit, MAX_LIMIT))
    rows = facts(figure, since, until, area=area, worker_id=worker_id)
    after = parse_cursor(cursor)
    if after is not None:
        day, case_id = after
        rows = rows.filter(Q(day__lt=day) | Q(day=day, case_id__lt=case_id))
    chosen = list(rows.order_by("-day", "-case_id").values_list("case_id", "day", figure)
                  [:limit + 1])
    more = len(chosen) > limit
    chosen = chosen[:limit]
    # Whoever reads an area's figures sees its cases (cases.policy); asking the policy
    # again keeps a list from ever showing a case its reader could not open.
    cases = {c.pk: c for c in policy.visible_cases(user)
             .filter(pk__in=[case_id for case_id, _day, _n in chosen])
             .select_related("category", "grid", "town")}
    shown = [Row(cases[case_id], day, n) for case_id, day, n in chosen if case_id in cases]
    following = f"{chosen[-1][1].isoformat()}~{chosen[-1][0]}" if more else None
    return shown, following, len(chosen) - len(shown)


def every(user, figure: str, since: date, until: date, *, area: Area | None = None,
          worker_id: int | None = None, cap: int = 10_000) -> tuple[list[Row], bool]:
    """The whole list for an export, page by page: (rows, whether `cap` cut it short)."""
    rows: list[Row] = []
    cursor = None
    while len(rows) < cap:
        chunk, cursor, _withheld = page(user, figure, since, until, area=area,
                                        worker_id=worker_id, cursor=cursor, limit=MAX_LIMIT)
        rows += chunk
        if cursor is None:
            return rows[:cap], False
    return rows[:cap], True
