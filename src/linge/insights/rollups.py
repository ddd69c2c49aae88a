"""The rollups: the case event log projected into per-day and per-month sums.

Figures are by cohort (the day a case was received), and a case's later events change
its cohort's counts. So each case has one CaseFact row, its current contribution; when
new events arrive for a case, its contribution is computed again from the case and
all its events, and the difference (new − old) is added to every rollup row the case
counts in: city, town, village, grid, worker and town × category, each by day, month
and year. A case's contribution is a function of its whole history, so folding it twice
changes nothing, and a pass that read a case in the middle of a later move is put
right by the pass that folds that move.

The high-water mark (RollupMark.seq) is the last event folded. Events are committed
in seq order (the chain head is locked to append one), so every event at or below the
mark has been seen. Each pass first UPDATEs the mark row, which holds the row lock on
PostgreSQL and the write lock on SQLite: two workers never fold at the same time.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, timedelta

from django.db import connection, transaction
from django.db.models import F, Max
from django.utils import timezone

from linge.areas.models import Area, Level
from linge.cases.models import STAFF_SOURCES, Case, CaseEvent, Rating, State
from linge.insights.figures import bucket, month_start, next_month
from linge.insights.models import MEASURES, CaseFact, Grain, Rollup, RollupMark, Scope
from linge.people.models import Membership, Unit, UnitKind

OPEN_STATES = {State.SUBMITTED, State.ACCEPTED, State.ESCALATED, State.DISPATCHED,
               State.VERIFYING, State.SUSPENDED, State.RESOLVED}
CASE_FIELDS = ["pk", "created_at", "state", "source", "grid_id", "village_id", "town_id",
               "category_id", "assignee_id", "resolve_due", "overdue", "escalated",
               "dispatched_unit_id"]
EVENT_FIELDS = ["case_id", "seq", "action", "from_state", "to_state", "data", "at", "actor_id"]


class _Lookups:
    """Small tables read once per pass: unit kinds, town → city, grid team members."""

    def __init__(self) -> None:
        self.unit_kind = dict(Unit.objects.values_list("pk", "kind"))
        self.city_of_town = dict(
            Area.objects.filter(level=Level.TOWN).values_list("pk", "parent_id")
        )
        self.grid_hands: set[tuple[int, int]] = set(
            Membership.objects.filter(unit__kind=UnitKind.GRID_TEAM)
            .values_list("user_id", "unit__area_id")
        )


def contribution(case: dict, events: list[dict], lookups: _Lookups) -> dict:
    """What one case adds to the rollups now (the CaseFact fields)."""
    state = case["state"]
    created = case["created_at"]
    fact: dict = dict.fromkeys(MEASURES, 0)
    fact.update(
        day=timezone.localtime(created).date(), grid_id=case["grid_id"],
        village_id=case["village_id"], town_id=case["town_id"],
        category_id=case["category_id"], worker_id=None, response_bucket=None,
        resolution_bucket=None,
    )
    if state == State.REJECTED:
        fact["rejected"] = 1
        return fact
    if state == State.MERGED:
        fact["merged"] = 1
        return fact
    fact["received"] = 1
    fact["staff_reported"] = int(case["source"] in STAFF_SOURCES)
    first_accept = None
    last_resolution = None
    reworked = False
    for event in events:
        action = event["action"]
        if action == "accept" and first_accept is None:
            first_accept = event
        if event["to_state"] == State.RESOLVED and event["from_state"] != State.RESOLVED:
            last_resolution = event
        if action == "reopen":
            reworked = True
        if action in ("rate", "reopen"):
            verdict = event["data"].get("rating")
            if verdict in Rating.values:
                fact["rated"] += 1
                fact["satisfied"] += verdict == Rating.SATISFIED
                fact["basic_satisfied"] += verdict == Rating.BASIC
                fact["unsatisfied"] += verdict == Rating.UNSATISFIED
    if first_accept is not None:
        fact["response_bucket"] = bucket((first_accept["at"] - created).total_seconds())
    # The case's worker: whom it was assigned to, else who accepted it.
    fact["worker_id"] = case["assignee_id"] or (first_accept or {}).get("actor_id")
    if state in OPEN_STATES:
        fact["open"] = 1
        fact["overdue_open"] = int(case["overdue"])
        return fact
    # Closed: every closed case reached 待评价 at least once.
    fact["closed"] = 1
    due = case["resolve_due"]
    resolved_at = last_resolution["at"] if last_resolution else case["created_at"]
    fact["closed_on_time"] = int(due is None or resolved_at <= due)
    fact["closed_in_grid"] = int(not case["escalated"])
    fact["reopened"] = int(reworked)
    fact["closed_rated"] = int(fact["rated"] > 0)
    fact["resolution_bucket"] = bucket((resolved_at - created).total_seconds())
    fact[f"solved_{_solved_level(case, last_resolution, lookups)}"] = 1
    return fact


def _solved_level(case: dict, resolution: dict | None, lookups: _Lookups) -> str:
    """Where the case was solved: 小事不出村 (grid, village), 大事不出镇 (town), or above."""
    if resolution is None:
        return "grid"
    if resolution["action"] == "verify":
        kind = lookups.unit_kind.get(case["dispatched_unit_id"])
        return "department" if kind == UnitKind.DEPARTMENT else "town"
    if resolution["from_state"] == State.ESCALATED:
        return "town"
    if (resolution["actor_id"], case["grid_id"]) in lookups.grid_hands:
        return "grid"
    return "village"


def _keys(fact: dict, lookups: _Lookups) -> Iterable[tuple[str, int, int, str, date]]:
    """The rollup rows a fact counts in."""
    day = fact["day"]
    month = month_start(day)
    city = lookups.city_of_town.get(fact["town_id"]) or 0
    owners = [(Scope.CITY, city, 0), (Scope.TOWN, fact["town_id"], 0),
              (Scope.VILLAGE, fact["village_id"], 0), (Scope.GRID, fact["grid_id"], 0),
              (Scope.TOWN_CATEGORY, fact["town_id"], fact["category_id"])]
    if fact["worker_id"]:
        owners.append((Scope.WORKER, fact["worker_id"], 0))
    year = day.replace(month=1, day=1)
    for scope, key, category in owners:
        yield scope, key, category, Grain.DAY, day
        yield scope, key, category, Grain.MONTH, month
        yield scope, key, category, Grain.YEAR, year


class _Delta:
    def __init__(self) -> None:
        self.measures: dict[str, int] = defaultdict(int)
        self.response: dict[int, int] = defaultdict(int)
        self.resolution: dict[int, int] = defaultdict(int)


def _add(deltas: dict, fact: dict, sign: int, lookups: _Lookups) -> None:
    for key in _keys(fact, lookups):
        delta = deltas.setdefault(key, _Delta())
        for name in MEASURES:
            if fact[name]:
                delta.measures[name] += sign * fact[name]
        if fact["response_bucket"] is not None:
            delta.response[fact["response_bucket"]] += sign
        if fact["resolution_bucket"] is not None:
            delta.resolution[fact["resolution_bucket"]] += sign


FACT_FIELDS = ["day", "grid_id", "village_id", "town_id", "category_id", "worker_id",
               "response_bucket", "resolution_bucket", *MEASURES]
ROLLUP_KEY = ["scope", "key", "category_id", "grain", "start"]
ROLLUP_VALUES = [*MEASURES, "response_hist", "resolution_hist"]


def _fold_cases(case_ids: list[int], lookups: _Lookups, deltas: dict, *,
                fresh: bool = False) -> None:
    """Compute the cases' contributions again, write their CaseFacts and add the
    differences to `deltas` (rollup key → _Delta), for the caller to apply.

    `fresh`: the cases have no CaseFact yet (a rebuild), so none is read back."""
    if not case_ids:
        return
    cases = {row["pk"]: row for row in Case.objects.filter(pk__in=case_ids).values(*CASE_FIELDS)}
    events: dict[int, list[dict]] = defaultdict(list)
    for row in CaseEvent.objects.filter(case_id__in=case_ids).order_by("seq").values(
            *EVENT_FIELDS):
        events[row["case_id"]].append(row)
    old: dict[int, dict] = {}
    if not fresh:
        for row in CaseFact.objects.filter(case_id__in=case_ids).values("case_id", *FACT_FIELDS):
            old[row.pop("case_id")] = row
    to_create, to_update = [], []
    for case_id, case in cases.items():
        new = contribution(case, events[case_id], lookups)
        before = old.get(case_id)
        if before is not None:
            if before == new:
                continue
            _add(deltas, before, -1, lookups)
            to_update.append([new[name] for name in FACT_FIELDS] + [case_id])
        else:
            to_create.append([case_id] + [new[name] for name in FACT_FIELDS])
        _add(deltas, new, +1, lookups)
    _insert(CaseFact, ["case_id", *FACT_FIELDS], to_create)
    _update(CaseFact, FACT_FIELDS, "case_id", to_update)


# Plain executemany: the ORM's bulk_create and bulk_update spend most of a rebuild
# preparing each value of each row (measured: 75% of the time on 3,000 cases).

def _insert(model, columns: list[str], rows: list[list]) -> None:
    if not rows:
        return
    q = connection.ops.quote_name
    sql = (f"INSERT INTO {q(model._meta.db_table)} ({', '.join(q(c) for c in columns)}) "
           f"VALUES ({', '.join(['%s'] * len(columns))})")
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _update(model, columns: list[str], where: str, rows: list[list]) -> None:
    if not rows:
        return
    q = connection.ops.quote_name
    sql = (f"UPDATE {q(model._meta.db_table)} SET {', '.join(f'{q(c)} = %s' for c in columns)} "
           f"WHERE {q(where)} = %s")
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _json(value: dict):
    # What JSONField would send, without its per-value machinery.
    if connection.vendor == "postgresql":
        from psycopg.types.json import Jsonb

        return Jsonb(value)
    return json.dumps(value, separators=(",", ":"))


def _apply(deltas: dict, *, fresh: bool = False) -> None:
    """Add the deltas to their rollup rows, creating the missing ones.

    `fresh`: none of the rows exists yet (a rebuild's finished periods); none is read."""
    existing = {} if fresh else _existing_rows(deltas)
    to_create, to_update = [], []
    for key, delta in deltas.items():
        row = existing.get(key)
        if row is None:
            values = dict.fromkeys(MEASURES, 0)
            response, resolution = {}, {}
        else:
            values = {name: row[name] for name in MEASURES}
            response, resolution = row["response_hist"], row["resolution_hist"]
        for name, change in delta.measures.items():
            values[name] += change
        response = _merged(response, delta.response)
        resolution = _merged(resolution, delta.resolution)
        tail = [values[name] for name in MEASURES] + [_json(response), _json(resolution)]
        if row is None:
            to_create.append(list(key) + tail)
        else:
            to_update.append(tail + [row["id"]])
    _insert(Rollup, [*ROLLUP_KEY, *ROLLUP_VALUES], to_create)
    _update(Rollup, ROLLUP_VALUES, "id", to_update)


def _existing_rows(deltas: dict) -> dict:
    by_scope: dict[tuple[str, str], list] = defaultdict(list)
    for key in deltas:
        by_scope[(key[0], key[3])].append(key)
    existing: dict = {}
    for (scope, grain), keys in by_scope.items():
        ids = sorted({k[1] for k in keys})
        starts = sorted({k[4] for k in keys})
        for chunk in _chunks(ids, 500):
            rows = Rollup.objects.filter(scope=scope, grain=grain, key__in=chunk,
                                         start__in=starts).values("id", *ROLLUP_KEY,
                                                                  *ROLLUP_VALUES)
            for row in rows:
                existing[tuple(row[k] for k in ROLLUP_KEY)] = row
    return existing


def _merged(hist: dict, delta: dict[int, int]) -> dict:
    # JSON keys are strings; empty buckets are dropped so rows stay small.
    out = {str(k): v for k, v in hist.items()}
    for index, change in delta.items():
        if change:
            value = out.get(str(index), 0) + change
            if value:
                out[str(index)] = value
            else:
                out.pop(str(index), None)
    return out


def _chunks(items: list, size: int) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _lock_mark() -> RollupMark:
    RollupMark.objects.get_or_create(pk=1)
    # UPDATE before reading: the row lock (PostgreSQL) or the write lock (SQLite) is
    # taken now, so a second worker waits here instead of folding the same events.
    RollupMark.objects.filter(pk=1).update(seq=F("seq"))
    return RollupMark.objects.select_for_update().get(pk=1)


def catch_up(limit: int = 5000) -> int:
    """Fold up to `limit` events past the mark into the rollups; returns how many."""
    with transaction.atomic():
        mark = _lock_mark()
        rows = list(CaseEvent.objects.filter(seq__gt=mark.seq).order_by("seq")
                    .values_list("seq", "case_id")[:limit])
        if not rows:
            return 0
        deltas: dict = {}
        _fold_cases(sorted({case_id for _seq, case_id in rows}), _Lookups(), deltas)
        _apply(deltas)
        mark.seq = rows[-1][0]
        mark.at = timezone.now()
        mark.save(update_fields=["seq", "at"])
        return len(rows)


def catch_up_all(limit: int = 5000) -> int:
    total = 0
    while True:
        done = catch_up(limit)
        total += done
        if done < limit:
            return total


def rebuild(batch: int = 5000, between_batches: Callable[[], None] | None = None) -> int:
    """Recreate the rollups from the cases and their events; returns the cases folded.

    Runs in one transaction holding the mark: readers see the old rollups until it
    commits. Events appended meanwhile (seq above the mark taken at the start) are
    folded by the next catch-up. `between_batches` lets a test append events midway.

    Cases are folded in the order of the day they count on, so once a batch has passed
    the end of a day, month or year, that period's rows are final: they are inserted
    once, never read back nor updated. Updating the year rows once per batch instead
    made PostgreSQL's rebuild quadratic: every update inside the one transaction leaves
    a dead row version that no vacuum may remove before the commit, and each later
    batch's read of those rows walks all of them (105 s at 100,000 cases, over an hour
    at 1,000,000)."""
    with transaction.atomic():
        mark = _lock_mark()
        top = CaseEvent.objects.aggregate(top=Max("seq"))["top"] or 0
        CaseFact.objects.all().delete()
        Rollup.objects.all().delete()
        lookups = _Lookups()
        # Every case has its submit event; a case made after `top` is folded again by
        # the next catch-up, which is harmless.
        ids = list(Case.objects.order_by("created_at", "pk").values_list("pk", flat=True))
        pending: dict = {}
        for chunk in _chunks(ids, batch):
            _fold_cases(chunk, lookups, pending, fresh=True)
            reached = timezone.localtime(
                Case.objects.values_list("created_at", flat=True).get(pk=chunk[-1])).date()
            _apply(_pop_finished(pending, reached), fresh=True)
            if between_batches is not None:
                between_batches()
        _apply(pending, fresh=True)
        mark.seq = top
        mark.at = timezone.now()
        mark.save(update_fields=["seq", "at"])
    _analyze(CaseFact, Rollup)
    return len(ids)


def _pop_finished(pending: dict, reached: date) -> dict:
    """Take out of `pending` the rows of periods that end before the day `reached`."""
    finished = {}
    for key in list(pending):
        grain, start = key[3], key[4]
        if grain == Grain.DAY:
            end = start + timedelta(days=1)
        elif grain == Grain.MONTH:
            end = next_month(start)
        else:
            end = start.replace(year=start.year + 1)
        if end <= reached:
            finished[key] = pending.pop(key)
    return finished


def _analyze(*models) -> None:
    """Refresh the planner's statistics of tables whose every row was just replaced:
    until autovacuum gets there, PostgreSQL plans the screens' reads on the old ones.
    On PostgreSQL, outside a transaction, VACUUM too: the rebuild deleted every old row,
    and until the dead versions go, an index read of the new rows also visits the old
    ones (the worker board's 4,400 year rows: 27 ms → 14 ms at 100,000 cases, measured
    when the rebuild still updated each year row once per batch)."""
    vacuum = connection.vendor == "postgresql" and not connection.in_atomic_block
    with connection.cursor() as cursor:
        for model in models:
            table = connection.ops.quote_name(model._meta.db_table)
            cursor.execute(f"VACUUM ANALYZE {table}" if vacuum else f"ANALYZE {table}")


def as_of() -> RollupMark:
    return RollupMark.objects.get_or_create(pk=1)[0]
