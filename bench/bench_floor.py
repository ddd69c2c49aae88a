"""The floor under a page: the bare app plus exactly the database work of one request.

bench_http serves this beside Linge ("sqlite@floor", "postgres@floor"). For each
endpoint with a floor (the report, the Open311 POST, the grid pages, the inbox, the
case page) it replays the statements Linge ran for one real request of it (recorded
by `record`, in a child that prepares the server's database; for a submission, only
its writes and what it reads inside its transaction): the same
SQL, in the same transactions, through the same Django database connection and its
settings (SQLite's writer lock and PRAGMAs, PostgreSQL's health check), with the values
that must differ per submission made new: the case number from the day's counter, the
case id and the chain's sequence number from the rows the statements return, and every
other value that differed between two recorded submissions (submit keys, tracking-code
hashes, session keys, rate-limit keys) drawn at random with the same length. A page's
statements are replayed as they were. What Linge ran as a statement prepared on the
server (linge/prepared.py, on PostgreSQL) the floor runs prepared too. Nothing else runs: no form parsing, no checks,
no templates, no ORM. Its rate is what any implementation of the same statements,
indexes and guarantees could at best reach here; a share target above the floor's
share cannot be met by code on top of it.

Each replayed submission writes a real case, which the bench's verify step then finds
by number, so a replay that wrote nothing is a wrong answer like any other. Its event
carries the recorded hashes: the bench database's chain no longer verifies.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PAGE = b"<!doctype html><title>floor</title>" + b"<p>" * 500  # as the bare app's
_DATETIME = re.compile(r"^\d{4}-\d\d-\d\d[ T]\d")
_COUNTER, _CASE, _HEAD = '"cases_dailycounter"', 'INSERT INTO "cases_case"', '"cases_chainhead"'


@dataclass
class Script:
    method: str
    path: str
    kind: str  # how it answers: "report" and "open311" as Linge's submissions, "page"
    steps: list[tuple[str, list, bool]]  # (sql, params, inside the case's transaction)
    number: str  # the recorded case's number, its id and its event's sequence number
    case_id: int
    seq: int
    tokens: set[str] = field(default_factory=set)  # values drawn anew for each replay
    # (statement, parameter) positions that carry the new case's id or its event's seq:
    # by the column they fill, as the two may hold the same number.
    roles: dict[tuple[int, int], str] = field(default_factory=dict)
    # Steps Linge ran as statements prepared on the server (linge/prepared.py, on
    # PostgreSQL): replayed the same way, so the floor plans them once too.
    prepared: set[int] = field(default_factory=set)


# Recording (in a child process with Django set up and the database prepared).

def record(method: str, path: str, kind: str, send) -> Script:
    """Record the statements of two requests made by `send()` (which returns the number
    of the case it made, or "") after three more, and keep the first, knowing from the
    second which values vary."""
    for _ in range(3):
        send()  # the first ones of a process fill its caches (categories, grids…)
    first, second = _recorded(send), _recorded(send)
    prepared = first[4]
    if [s for s, _, _ in first[0]] != [s for s, _, _ in second[0]]:
        raise SystemExit(f"floor: two {method} {path} ran different statements:\n"
                         + "\n".join(s[:100] for s, _, _ in first[0]) + "\n--\n"
                         + "\n".join(s[:100] for s, _, _ in second[0]))
    tokens: set[str] = set()
    steps, number, case_id, seq, _ = first
    roles = _roles(steps, case_id, seq) if number else {}
    derived = (number, f"{seq}:") if number else ()
    for (_, params, _), (_, params_b, _) in zip(steps, second[0], strict=True):
        for a, b in zip(params, params_b, strict=True):
            if a == b or not isinstance(a, str):
                continue  # ints: the id and seq go by `roles`; others (a rate limit's
                # window) keep the recorded value
            if any(d in a for d in derived) or _DATETIME.match(a) or a[:1] in "{[":
                continue  # made from the new number or seq; a time; JSON
            tokens.add(a)
    if kind != "page":
        # A submission's look-ups before its transaction (the submit key, the grid, the
        # category, the team, whom to tell, an API key) could each be cached in the
        # process: the floor under a submission is its writes and what it reads inside
        # its transaction (the chain head, under its lock).
        kept = [i for i, s in enumerate(steps)
                if s[2] or not s[0].lstrip().upper().startswith("SELECT")]
        roles = {(kept.index(i), j): role for (i, j), role in roles.items() if i in kept}
        prepared = {kept.index(i) for i in prepared if i in kept}
        steps = [steps[i] for i in kept]
    return Script(method, path, kind, steps, number, case_id, seq, tokens, roles, prepared)


_INSERT = re.compile(r'INSERT INTO \S+ \(([^)]*)\) VALUES ((?:\([^()]*\)(?:, )?)+)')
_ASSIGN = re.compile(r'"?(\w+)"? = %s')
_ROLE_COLUMNS = {"case_id": "case_id", "seq": "seq"}


def _placeholder_columns(sql: str) -> list[str | None]:
    """The column each %s of an INSERT's VALUES or an UPDATE's SET fills, in order
    (None for any other, such as a WHERE's)."""
    named: dict[int, str] = {}
    for insert in _INSERT.finditer(sql):
        columns = [c.strip().strip('"') for c in insert.group(1).split(",")]
        for row in re.finditer(r"\(([^()]*)\)", insert.group(2)):
            at = insert.start(2) + row.start(1)
            for column, item in zip(columns, row.group(1).split(", "), strict=True):
                if item == "%s":
                    named[at] = column
                at += len(item) + 2
    for assign in _ASSIGN.finditer(sql):
        named[assign.end() - 2] = assign.group(1)
    return [named.get(m.start()) for m in re.finditer("%s", sql)]


def _roles(steps: list, case_id: int, seq: int) -> dict[tuple[int, int], str]:
    recorded = {"case_id": case_id, "seq": seq}
    roles = {}
    for i, (sql, params, _) in enumerate(steps):
        columns = _placeholder_columns(sql)
        if len(columns) != len(params):
            raise SystemExit(f"floor: {len(params)} values for {len(columns)} %s: {sql[:80]}")
        for j, column in enumerate(columns):
            role = _ROLE_COLUMNS.get(column or "")
            if role is None or sql.startswith(_CASE):
                continue
            if params[j] != recorded[role]:
                raise SystemExit(f"floor: {column} is {params[j]}, not {recorded[role]}")
            roles[(i, j)] = role
    return roles


def _recorded(send) -> tuple[list, str, int, int, set[int]]:
    from django.db import connection

    from linge.cases.models import Case, CaseEvent

    steps: list[tuple[str, list, bool]] = []
    prepared: set[int] = set()

    def keep(execute, sql, params, many, context):
        if many:
            raise SystemExit("floor: a submission ran executemany; replay cannot")
        if not sql.startswith("BEGIN"):  # SQLite's, sent by atomic() itself
            if type(context["cursor"].cursor).__name__ == "PreparingCursor":
                prepared.add(len(steps))
            steps.append((sql, list(params or ()), connection.in_atomic_block))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(keep):
        number = send()
    if not number:
        return steps, "", 0, 0, prepared
    case = Case.objects.get(number=number)
    seq = CaseEvent.objects.filter(case=case).order_by("seq").values_list("seq", flat=True)[0]
    return steps, number, case.pk, seq, prepared


# Replaying (in the floor's gunicorn workers).

def _scripts() -> dict[tuple[str, str], Script]:
    scripts = [pickle.loads(path.read_bytes())
               for path in Path(os.environ["LINGE_VAR_DIR"]).glob("floor-*.pickle")]
    return {(s.method, s.path): s for s in scripts}


def replay(script: Script) -> str:
    """Run the script once; returns the new case's number ("" for a page)."""
    from django.db import connection, transaction

    new: dict[str, Any] = {}
    tokens = {t: _token_like(t) for t in script.tokens}
    steps = script.steps
    i = 0
    while i < len(steps):
        if not steps[i][2]:
            _run(connection, script, i, new, tokens)
            i += 1
            continue
        with transaction.atomic():
            while i < len(steps) and steps[i][2]:
                _run(connection, script, i, new, tokens)
                i += 1
    return new.get("number", "")


def _run(connection, script: Script, index: int, new: dict, tokens: dict) -> None:
    sql, params, _ = script.steps[index]
    values = [new[script.roles[(index, j)]] if (index, j) in script.roles
              else _swapped(value, script, new, tokens) for j, value in enumerate(params)]
    if index in script.prepared:
        from linge.prepared import fetch

        rows = fetch(connection, sql, values)
    else:
        with connection.cursor() as cursor:
            cursor.execute(sql, values)
            rows = cursor.fetchall() if cursor.description is not None else []
    if _COUNTER in sql:
        new["number"] = f"{script.number[:9]}{rows[0][0]:06d}"
    elif sql.startswith(_CASE):
        new["case_id"] = rows[0][0]
    elif _HEAD in sql and sql.startswith("SELECT"):
        new["seq"] = rows[0][0] + 1


def _swapped(value: Any, script: Script, new: dict, tokens: dict) -> Any:
    if not isinstance(value, str):
        return value
    if value in tokens:
        return tokens[value]
    if "number" in new and script.number in value:
        value = value.replace(script.number, new["number"])
    if "seq" in new and value.startswith(f"{script.seq}:"):
        value = f"{new['seq']}:{value[len(str(script.seq)) + 1:]}"
    return value


def _token_like(old: str) -> str:
    """A random value as long as `old`, keeping what precedes its last ':' (a key's
    namespace such as "r:")."""
    head, _, tail = old.rpartition(":")
    fresh = secrets.token_hex(len(tail) // 2 + 1)[:len(tail)]
    return f"{head}:{fresh}" if head else fresh


# The WSGI app.

_SCRIPTS: dict[tuple[str, str], Script] | None = None


def application(environ, start_response):
    global _SCRIPTS
    if _SCRIPTS is None:
        import django

        django.setup()
        _SCRIPTS = _scripts()
    from django.db import close_old_connections

    length = int(environ.get("CONTENT_LENGTH") or 0)
    if length:
        environ["wsgi.input"].read(length)
    path = environ["PATH_INFO"] + (f"?{environ['QUERY_STRING']}" if environ.get("QUERY_STRING")
                                   else "")
    script = _SCRIPTS.get((environ["REQUEST_METHOD"], path))
    if script is None:
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"no floor recorded for this request"]
    close_old_connections()  # as Django's request_started and request_finished do
    try:
        number = replay(script)
    finally:
        close_old_connections()
    if script.kind == "page":
        body, kind = PAGE, "text/html"
    else:
        answer: Any = ([{"service_request_id": number}] if script.kind == "open311"
                       else {"ok": True, "number": number})
        body, kind = json.dumps(answer).encode(), "application/json"
    start_response("201 Created" if script.kind == "open311" else "200 OK",
                   [("Content-Type", kind), ("Content-Length", str(len(body)))])
    return [body]
