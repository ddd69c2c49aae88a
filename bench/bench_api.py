"""Benchmark the lists as the case table grows: the Open311 GET list, the /api/v1 case
list (first and second keyset page), and the staff pages that must stay flat (issue
#13: a grid worker's inbox as it opens, a town dispatcher's done tab, the case page),
at 1 and 8 clients, against a bare WSGI app served the same way beside them (the
baseline: what gunicorn and the loopback cost with no Django at all). The Open311 POST,
with and without media, is measured with the pages in bench/bench_http.py.

    python bench/bench_api.py [--cases 10000] [--also 1000000] [--postgres URL]
                              [--seconds 5]

Both servers are gunicorn with 2 sync processes on loopback. Clients are separate
processes (so the client's GIL does not cap the rate), each sending one request after
another for --seconds. Cases are inserted in bulk into the test city's four grids and
its categories, as they arrive in Wenling: 1,000 a day, so that a bigger table is a
longer history, not a busier day. A case younger than three weeks may be in any state
(six in ten closed); older ones are closed, so the history grows and the open cases
do not. With --also, the lists are
measured again after growing the table to that many cases: the target is each list
at the larger size within 1.5× its latency at the smaller. Prints figures; exits non-zero only
when a request fails.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BARE_APP = '''
def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/json")])
    return [b"[]"]
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(args: list[str], env: dict, port: int, log: Path) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "2",
                                "--bind", f"127.0.0.1:{port}", *args],
                               env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
            return process
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise SystemExit(f"server did not start: see {log}")


def one(request: dict) -> tuple[float, int]:
    data = request.get("body")
    r = urllib.request.Request(request["url"], data=data, method=request["method"],
                               headers=request.get("headers", {}))
    t = time.perf_counter()
    try:
        with urllib.request.urlopen(r, timeout=30) as answer:
            answer.read()
            status = answer.status
    except urllib.error.HTTPError as error:
        status = error.code
    return time.perf_counter() - t, status


def client(request: dict, seconds: float, out) -> None:
    end = time.monotonic() + seconds
    times, bad = [], 0
    while time.monotonic() < end:
        took, status = one(request)
        times.append(took)
        if status >= 400:
            bad += 1
    out.put((times, bad))


def load(request: dict, clients: int, seconds: float) -> dict:
    queue = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=client, args=(request, seconds, queue))
               for _ in range(clients)]
    for w in workers:
        w.start()
    results = [queue.get() for _ in workers]
    for w in workers:
        w.join()
    times = sorted(t for r in results for t in r[0])
    bad = sum(r[1] for r in results)
    n = len(times)
    return {"rate": n / seconds, "p50": times[n // 2] * 1000,
            "p99": times[min(n - 1, int(n * 0.99))] * 1000, "n": n, "bad": bad}


def setup_database(args) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="linge-api-bench-"))
    env = {"LINGE_VAR_DIR": str(tmp), "LINGE_LOG_LEVEL": "WARNING",
           "DJANGO_SETTINGS_MODULE": "linge.settings"}
    if args.postgres:
        import psycopg

        base = args.postgres.rsplit("/", 1)[0]
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS lingeapibench")
            conn.execute("CREATE DATABASE lingeapibench")
        env["LINGE_DATABASE_URL"] = f"{base}/lingeapibench"
    else:
        env["LINGE_DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return env


PER_DAY = 1000  # reports a day in the reference deployment (docs/design.md)
RECENT_DAYS = 21


def fill(city, upto: int, start: int) -> None:
    """Add cases numbered start..upto-1, each older than the one before, in bulk."""
    from django.utils import timezone

    from linge.areas.models import Area
    from linge.cases.models import Case, State
    from linge.people.models import Unit, UnitKind

    grids = list(Area.objects.filter(level="grid"))
    teams = {u.area_id: u.pk for u in Unit.objects.filter(kind=UnitKind.GRID_TEAM)}
    parents = {a.pk: a.parent_id for a in Area.objects.all()}
    rng = random.Random(start)
    now = timezone.now()
    states = [State.CLOSED] * 6 + [State.ACCEPTED, State.SUBMITTED, State.ESCALATED,
                                   State.DISPATCHED]
    batch = []
    t0 = time.perf_counter()
    for i in range(start, upto):
        grid = rng.choice(grids)
        created = now - timedelta(days=(i + rng.random()) / PER_DAY)
        recent = now - created < timedelta(days=RECENT_DAYS)
        state = rng.choice(states) if recent else State.CLOSED
        batch.append(Case(
            number=f"B{i:015d}", source="open311", category=city.plain,
            description=f"合成案件{i}", grid_id=grid.pk, village_id=parents[grid.pk],
            town_id=parents[parents[grid.pk]], owner_unit_id=teams[grid.pk],
            state=state, created_at=created, updated_at=created, **_deadlines(state, created)))
        if len(batch) == 5000:
            Case.objects.bulk_create(batch)
            batch = []
    Case.objects.bulk_create(batch)
    from django.db import connection

    with connection.cursor() as cursor:  # planner statistics, as autovacuum would
        cursor.execute("ANALYZE")
    print(f"  cases {start:,} → {upto:,} inserted in {time.perf_counter() - t0:.0f} s",
          flush=True)


def _deadlines(state: str, created) -> dict:
    """An open case's deadline and budget, as the category gives them (2 working hours
    to accept, 3 working days to resolve), so that the inbox's lights have work to do."""
    from linge.cases.models import State

    if state == State.SUBMITTED:
        return {"accept_due": created + timedelta(hours=2), "accept_budget": 2 * 3600}
    if state in (State.ACCEPTED, State.ESCALATED, State.DISPATCHED):
        return {"resolve_due": created + timedelta(days=3), "resolve_budget": 3 * 8 * 3600}
    return {}


def check_signed_in(request: dict) -> None:
    """A staff page must answer as itself, not as the login page it would redirect to."""
    answer = urllib.request.urlopen(urllib.request.Request(
        request["url"], headers=request.get("headers", {})), timeout=30)
    if answer.geturl() != request["url"] or answer.status != 200:
        raise SystemExit(f"{request['url']} answered {answer.status} at {answer.geturl()}")


def staff_cookie(user) -> str:
    """The session cookie a staff login leaves (its backend named as the login names it)."""
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "linge.people.auth.LockingBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    return f"sessionid={session.session_key}"


def real_case(city) -> str:
    """A case reported through the intake path (an event, a sealed chain), in the grid
    worker's grid, accepted: the case page the bench opens."""
    from linge.cases import workflow

    case = workflow.submit(city["resident"], category=city.plain,
                           description="路边堆放建筑垃圾", grid=city.grid).case
    return workflow.accept(case, city["full_time"]).number


def report(label: str, result: dict, bare: dict | None) -> None:
    ratio = f"  {result['rate'] / bare['rate']:.0%} of bare" if bare else ""
    bad = f"  FAILED {result['bad']}" if result["bad"] else ""
    print(f"  {label:<38} {result['rate']:7.1f} req/s  p50 {result['p50']:6.1f} ms  "
          f"p99 {result['p99']:6.1f} ms{ratio}{bad}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--also", type=int, default=0, help="grow to this many and re-measure")
    parser.add_argument("--postgres", default="")
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    env = setup_database(args)
    from tests.conftest import build_city

    from linge.clients import keys
    from linge.clients.models import Channel

    city = build_city()
    case_number = real_case(city)
    key = keys.create("bench", channels=[Channel.OPEN311, Channel.API],
                      rate_per_minute=10_000_000, user=city["leader"]).key
    fill(city, args.cases, 0)

    tmp = Path(env["LINGE_VAR_DIR"])
    (tmp / "bare_app.py").write_text(BARE_APP)
    child_env = {**os.environ, **env, "PYTHONPATH": str(tmp)}
    app_port, bare_port = free_port(), free_port()
    app = serve(["linge.wsgi:application"], child_env, app_port, tmp / "app.log")
    bare = serve(["bare_app:application"], child_env, bare_port, tmp / "bare.log")
    base, bare_url = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{bare_port}/"
    lists = {
        "Open311 GET list (page_size 100)": {
            "url": f"{base}/open311/v2/requests.json?page_size=100", "method": "GET"},
        "Open311 GET list (default: 1,000)": {
            "url": f"{base}/open311/v2/requests.json", "method": "GET"},
        "/api/v1/cases (leader, 50)": {
            "url": f"{base}/api/v1/cases?tab=done&limit=50", "method": "GET",
            "headers": {"Authorization": f"Bearer {key}"}},
        "/api/v1/cases page 2 (leader, 50)": None,
        "inbox as it opens (grid worker)": {
            "url": f"{base}/work/", "method": "GET",
            "headers": {"Cookie": staff_cookie(city["full_time"])}},
        "inbox, done tab (town dispatcher)": {
            "url": f"{base}/work/?tab=done", "method": "GET",
            "headers": {"Cookie": staff_cookie(city["dispatcher"])}},
        "case page (grid worker)": {
            "url": f"{base}/work/case/{case_number}/", "method": "GET",
            "headers": {"Cookie": staff_cookie(city["full_time"])}},
    }
    first = json.loads(urllib.request.urlopen(urllib.request.Request(
        lists["/api/v1/cases (leader, 50)"]["url"],
        headers={"Authorization": f"Bearer {key}"})).read())
    lists["/api/v1/cases page 2 (leader, 50)"] = {
        "url": f"{base}/api/v1/cases?tab=done&limit=50&cursor={first['next']}",
        "method": "GET", "headers": {"Authorization": f"Bearer {key}"}}
    for request in lists.values():
        if "Cookie" in request.get("headers", {}):
            check_signed_in(request)
    failed = 0
    vendor = "PostgreSQL" if args.postgres else "SQLite"
    latency: dict[tuple[str, int], float] = {}
    try:
        for clients in (1, 8):
            print(f"{vendor}, {args.cases:,} cases, {clients} client(s), "
                  f"{args.seconds:g} s each:", flush=True)
            baseline = load({"url": bare_url, "method": "GET"}, clients, args.seconds)
            report("bare WSGI app", baseline, None)
            for label, request in lists.items():
                result = load(request, clients, args.seconds)
                report(label, result, baseline)
                failed += result["bad"]
                latency[(label, clients)] = result["p50"]
        if args.also:
            from linge.cases.models import Case

            fill(city, args.also, Case.objects.count())
            for clients in (1, 8):
                print(f"{vendor}, {args.also:,} cases, {clients} client(s):", flush=True)
                for label, request in lists.items():
                    result = load(request, clients, args.seconds)
                    report(label, result, None)
                    print(f"    p50 {result['p50'] / latency[(label, clients)]:.2f}× "
                          f"its p50 at {args.cases:,}", flush=True)
                    failed += result["bad"]
    finally:
        for process in (app, bare):
            process.terminate()
            process.wait(timeout=15)
        from django.db import connection

        connection.close()
        if args.postgres:
            import psycopg

            base_url = args.postgres.rsplit("/", 1)[0]
            with psycopg.connect(f"{base_url}/postgres", autocommit=True) as conn:
                conn.execute("DROP DATABASE IF EXISTS lingeapibench")
        shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
