"""The pages over HTTP: gunicorn on SQLite and on PostgreSQL against a bare WSGI app.

    python bench/bench_http.py [--long] [--cases 20000] [--postgres URL] [--fresh]
                               [--before REV] [--only NAMES]

Builds (once; kept under var/bench/ and in the PostgreSQL database named by
--postgres) the demo city with --cases cases of history, plus a grid of 10,000 cases
made through the workflow. Then starts three servers on loopback, each gunicorn with
2 sync processes: Linge on SQLite, Linge on PostgreSQL, and a bare WSGI app that
answers without doing anything (the baseline of what gunicorn and this client can do
on this machine, in this run). Each endpoint below is loaded with 1 and with 8
clients (separate processes, one request at a time each, a new connection per request
as gunicorn's sync workers close it), interleaved: every repetition runs every
endpoint on every server in turn, so noise from the other users of the machine falls
on all alike. Prints req/s, p50 and p99 and the ratio of req/s to the bare app's
(GET to its GET, POST to its POST), the CPU milliseconds a request cost the server
("srv CPU": gunicorn's processes, plus every PostgreSQL process for a server on
PostgreSQL, from /proc; "db CPU": PostgreSQL's part of it) and the client ("cli CPU"), then the targets of issue #13 met
or missed. The CPU columns do not depend on the client; the share of the bare app
does (on 2 cores the bare app's rate is mostly the client's work).

Exits non-zero only on a wrong answer: a response other than 2xx/3xx, a report whose
JSON is not ok, or a reported case that is not in the database afterwards. A missed
target is printed, not an error (timing depends on the machine).

Beside each database it also serves the floor (bench_floor.py, "sqlite@floor",
"postgres@floor"; --no-floor skips it): a WSGI app that replays the SQL statements
Linge ran for one real request of the report, the Open311 POST, the grid pages, the
inbox and the case page, in the same transactions and through the same database
connection, and does nothing else. Its share of the bare app is the most any code
doing the same database work could reach here; the run prints it for each target
("FLOOR:"), with Linge's rate as a share of the floor's.

--before REV serves the code of a git revision too (`git archive` into var/bench/),
on the same databases and in the same interleaved run, for a fair before/after; its
rows are marked "@REV" and no target is checked on them.

--threads N serves Linge with gthread workers of N threads, as `linge serve` does
(LINGE_THREADS); --sync-too adds the same code on sync workers to the run ("@sync",
no target checked). Without --threads, sync workers, as issue #13 measured.

The default run takes one to two minutes after the first build; --long runs three
repetitions of 5 s per measurement. To add an endpoint, add one line to ENDPOINTS.
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import pickle
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
VAR = ROOT / "var" / "bench"
PYTHON = sys.executable
GUNICORN = str(Path(sys.executable).parent / "gunicorn")
BIG_GRID_CASES = 10_000
CLIENTS = (1, 8)


# What is loaded. `path` and `body` get the prepared facts of the server's database
# (grid codes, a case number, the staff session); `session` sends the staff cookie.

@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str  # formatted with the facts: {small_grid}, {case}…
    # A fresh submission each time: "report"/"report_photo" (the resident page, anonymous)
    # or "open311"/"open311_photo" (GeoReport v2, form-encoded or multipart with media).
    body: str = ""
    session: bool = False  # send the staff member's session cookie
    target: str = ""  # the target, see TARGETS


ENDPOINTS = [
    Endpoint("report", "POST", "/report", body="report", target="report"),
    Endpoint("report+photo", "POST", "/report", body="report_photo", target="report"),
    Endpoint("grid 17", "GET", "{small_grid_path}", target="grid"),
    Endpoint("grid 10k", "GET", "{big_grid_path}", target="grid"),
    Endpoint("inbox", "GET", "/work/", session=True, target="staff"),
    # A full page of the inbox: the grid worker's 已办结 tab, 30 rows.
    Endpoint("inbox 30 rows", "GET", "/work/?tab=done", session=True, target="staff"),
    Endpoint("case page", "GET", "/work/case/{case}/", session=True, target="staff"),
    Endpoint("open311 POST", "POST", "/open311/v2/requests.json", body="open311",
             target="open311"),
    Endpoint("open311+media", "POST", "/open311/v2/requests.json", body="open311_photo"),
    Endpoint("open311 list", "GET", "/open311/v2/requests.json?page_size=100"),
    Endpoint("api cases", "GET", "/api/v1/cases?tab=done&limit=50", session=True),
    # Django's floor: the whole middleware stack and a two-byte answer, no query. No
    # page of ours can run faster than this; it says how much of a target is left to us.
    Endpoint("healthz", "GET", "/healthz"),
]
# (minimum share of the bare app's rate at 8 clients, p99 limit in ms or None)
TARGETS = {"report": (0.20, 100.0), "grid": (0.15, None), "staff": (0.10, None),
           "open311": (0.20, 100.0)}


# The bare app: what a request costs with no framework at all.

BARE_PAGE = b"<!doctype html><title>bare</title>" + b"<p>" * 500


def bare_app(environ, start_response):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if length:
        environ["wsgi.input"].read(length)
    if environ["REQUEST_METHOD"] == "POST":
        body = b'{"ok": true, "number": "bare"}'
        start_response("200 OK", [("Content-Type", "application/json"),
                                  ("Content-Length", str(len(body)))])
    else:
        body = BARE_PAGE
        start_response("200 OK", [("Content-Type", "text/html"),
                                  ("Content-Length", str(len(body)))])
    return [body]


# Preparing a database (runs in a child process with the server's environment).

def prepare(cases: int) -> dict:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.contrib.sessions.backends.db import SessionStore
    from django.db.models import Count

    from linge.areas.models import Area, Level
    from linge.cases.models import Case
    from linge.people.models import User
    from linge.resident.qr import grid_qr_path

    if not Case.objects.exists():
        call_command("demo", cases=cases, verbosity=0)
    grids = Area.objects.filter(level=Level.GRID).annotate(n=Count("cases"))
    big = grids.filter(n__gte=BIG_GRID_CASES).first()
    if big is None:
        big = grids.order_by("-code").first()
        _fill_grid(big, BIG_GRID_CASES - big.n)
    small = min(grids.exclude(pk=big.pk).filter(n__gte=1).order_by("code")[:400],
                key=lambda g: abs(g.n - 17))
    staff = User.objects.get(username="wangge")
    session = SessionStore()
    session["_auth_user_id"] = str(staff.pk)
    session["_auth_user_backend"] = "linge.people.auth.LockingBackend"  # as a staff login
    session["_auth_user_hash"] = staff.get_session_auth_hash()
    session.create()
    from django.db import connection

    from linge.cases import policy

    with connection.cursor() as cursor:  # planner statistics, as autovacuum would keep
        cursor.execute("ANALYZE")
    case = policy.visible_cases(staff).order_by("-created_at").first()
    return {**_open311_facts(small),
        "small_grid_path": grid_qr_path(small.code), "small_grid_cases": small.n,
        "big_grid_path": grid_qr_path(big.code),
        "big_grid_cases": Case.objects.filter(grid=big).count(),
        "case": case.number, "session": session.session_key,
        "cases": Case.objects.count(), "category": _leaf_category(),
        "report_grid": small.code,
    }


def _open311_facts(grid) -> dict:
    """An API key for the run (its own rate far above what the run sends) and a point
    inside the grid the reports go to."""
    from shapely.geometry import shape

    from linge.cases.models import Category
    from linge.clients import keys
    from linge.clients.models import Channel

    key = keys.create(f"bench_http {uuid.uuid4().hex[:8]}", channels=[Channel.OPEN311, Channel.API],
                      rate_per_minute=10_000_000).key
    point = shape(grid.boundary).representative_point()
    code = Category.objects.get(pk=_leaf_category()).code
    return {"open311_key": key, "service_code": code, "lat": f"{point.y:.6f}",
            "long": f"{point.x:.6f}"}


def _leaf_category() -> int:
    from linge.cases.models import Category

    return Category.objects.filter(parent__isnull=False, active=True).order_by("code")[0].pk


def _fill_grid(grid, count: int) -> None:
    """`count` reports in one grid through the workflow, written in bulk (BatchStore)."""
    import random
    from datetime import timedelta

    from django.utils import timezone

    from linge.cases import workflow
    from linge.cases.batch import BatchStore
    from linge.cases.models import Source

    rng = random.Random(13)
    store = BatchStore(rng)
    category = _leaf_category()
    start = timezone.now() - timedelta(days=365)
    for i in range(count):
        workflow.submit(None, category=category, description=f"路灯不亮 {i}", grid=grid,
                        source=Source.QR, anonymous=True, store=store,
                        now=start + timedelta(seconds=3000 * i))
        store.maybe_flush()
    store.finish()


def verify(numbers: list[str]) -> int:
    """How many of these case numbers are missing from the database; a number marked
    with a trailing "+" was sent with a photo and counts as missing without one."""
    import django

    django.setup()
    from linge.cases.models import Case

    with_photo = {n[:-1] for n in numbers if n.endswith("+")}
    plain = {n for n in numbers if not n.endswith("+")}
    found = 0
    for chosen, cases in ((plain, Case.objects.all()),
                          (with_photo, Case.objects.filter(attachments__isnull=False))):
        chosen = sorted(chosen)
        for start in range(0, len(chosen), 500):
            found += cases.filter(number__in=chosen[start:start + 500]).distinct().count()
    return len(plain) + len(with_photo) - found


# Servers.

@dataclass
class Server:
    name: str
    env: dict
    port: int = 0
    facts: dict = field(default_factory=dict)
    process: subprocess.Popen | None = None
    threads: int = 0  # 0: sync workers; else gthread with this many threads a process
    serves: tuple[str, ...] = ()  # the endpoints it answers; empty: all

    def answers(self, endpoint: Endpoint) -> bool:
        return not self.serves or endpoint.name in self.serves

    def start(self, app: str) -> None:
        self.port = _free_port()
        workers = (["--worker-class", "gthread", "--threads", str(self.threads)] if self.threads
                   else ["--worker-class", "sync"])
        self.process = subprocess.Popen(
            [GUNICORN, "--workers", "2", *workers, "--bind",
             f"127.0.0.1:{self.port}", "--log-level", "warning", "--chdir",
             str(ROOT / "bench"), app],
            env=self.env, start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise SystemExit(f"{self.name}: gunicorn did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(database_url: str, var_dir: Path) -> dict:
    env = dict(os.environ)
    env.update(LINGE_DATABASE_URL=database_url, LINGE_VAR_DIR=str(var_dir),
               LINGE_LOG_LEVEL="WARNING", DJANGO_SETTINGS_MODULE="linge.settings",
               LINGE_TRUSTED_PROXIES="127.0.0.1/32",
               PYTHONPATH=str(ROOT / "src"))
    return env


def _child(env: dict, *args: str) -> dict:
    out = subprocess.run([PYTHON, __file__, *args], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# The client.

_PHOTO: bytes = b""


def _photo() -> bytes:
    global _PHOTO
    if not _PHOTO:
        from PIL import Image

        image = Image.new("RGB", (1600, 1200), "orange")
        image.paste("navy", (0, 0, 400, 300))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=85)
        _PHOTO = out.getvalue()
    return _PHOTO


def _multipart(fields: dict, photo: bytes | None, name: str) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for field_name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; '
                     f'name="{field_name}"\r\n\r\n{value}\r\n'.encode())
    if photo is not None:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                     f'filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'.encode()
                     + photo + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


CSRF = "b" * 32  # the client's CSRF cookie; the form sends the same token


def _compose(endpoint: Endpoint, facts: dict) -> tuple[str, dict, bytes | None]:
    """(path, headers, body) of one request to this endpoint."""
    headers = {"Host": "127.0.0.1"}
    body = None
    cookies = []
    if endpoint.session:
        cookies.append(f"sessionid={facts['session']}")
    if endpoint.body:
        # Residents come from many addresses behind the site's proxy (trusted by the
        # servers here): the per-address limits count them, and none is reached.
        headers["X-Forwarded-For"] = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
        photo = _photo() if endpoint.body.endswith("_photo") else None
    if endpoint.body.startswith("report"):
        fields = {"csrfmiddlewaretoken": CSRF, "submit_key": uuid.uuid4().hex,
                  "category": facts["category"], "grid": facts["report_grid"],
                  "description": "村口垃圾桶满了，好几天没人清运"}
        body, headers["Content-Type"] = _multipart(fields, photo, "photos")
        cookies.append(f"csrftoken={CSRF}")
        headers["Accept"] = "application/json"
        headers["Referer"] = "http://127.0.0.1/report"
    elif endpoint.body.startswith("open311"):
        fields = {"api_key": facts["open311_key"], "service_code": facts["service_code"],
                  "lat": facts["lat"], "long": facts["long"], "description": "楼道里堆满杂物"}
        if photo is None:
            body = urlencode(fields).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            body, headers["Content-Type"] = _multipart(fields, photo, "media")
    if cookies:
        headers["Cookie"] = "; ".join(cookies)
    return endpoint.path.format(**facts), headers, body


def _made(endpoint: Endpoint, data: bytes) -> tuple[str | None, str]:
    """(error or None, the number of the case a submission made)."""
    answer = json.loads(data)
    if endpoint.body.startswith("open311"):
        if not (isinstance(answer, list) and answer[0].get("service_request_id")):
            return f"request refused {answer}", ""
        number = answer[0]["service_request_id"]
    elif not answer.get("ok"):
        return f"report refused {answer}", ""
    else:
        number = answer["number"]
    if endpoint.body.endswith("_photo"):
        number += "+"  # verify() checks that its photo was kept
    return None, number


def _request(port: int, endpoint: Endpoint, facts: dict) -> tuple[float, str | None, str]:
    """(seconds, error or None, case number made by a report or '')."""
    path, headers, body = _compose(endpoint, facts)
    start = time.perf_counter()
    connection = HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(endpoint.method, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
    except OSError as error:
        return time.perf_counter() - start, f"{path}: {error}", ""
    finally:
        connection.close()
    elapsed = time.perf_counter() - start
    if not 200 <= response.status < 400:
        return elapsed, f"{endpoint.method} {path}: HTTP {response.status} {data[:200]!r}", ""
    if not endpoint.body or not facts.get("check_reports", True):
        return elapsed, None, ""
    error, number = _made(endpoint, data)
    return elapsed, (f"{path}: {error}" if error else None), number


# The floor (bench_floor.py): the statements of one real submission, recorded in
# process through Linge's WSGI app, replayed by a server that does nothing else.

FLOOR_ENDPOINTS = ("report", "open311 POST", "grid 17", "grid 10k", "inbox", "inbox 30 rows",
                   "case page")


def record_floor(facts: dict) -> dict:
    import django

    import bench_floor

    django.setup()
    from linge.wsgi import application

    folder = Path(os.environ["LINGE_VAR_DIR"])
    for old in folder.glob("floor-*.pickle"):
        old.unlink()
    for endpoint in [e for e in ENDPOINTS if e.name in FLOOR_ENDPOINTS]:
        kind = endpoint.body.removesuffix("_photo") or "page"
        path = endpoint.path.format(**facts)
        script = bench_floor.record(endpoint.method, path, kind,
                                    lambda e=endpoint: _in_process(application, e, facts))
        slug = "".join(c if c.isalnum() else "-" for c in endpoint.name)
        (folder / f"floor-{slug}.pickle").write_bytes(pickle.dumps(script))
    return {"recorded": list(FLOOR_ENDPOINTS)}


def _in_process(application, endpoint: Endpoint, facts: dict) -> str:
    path, headers, body = _compose(endpoint, facts)
    body = body or b""
    path, _, query = path.partition("?")
    environ = {"REQUEST_METHOD": endpoint.method, "PATH_INFO": path, "QUERY_STRING": query,
               "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
               "REMOTE_ADDR": "127.0.0.1", "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr,
               "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body)),
               "CONTENT_TYPE": headers.pop("Content-Type", "")}
    environ.update({f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()})
    status: list[str] = []
    answer = application(environ, lambda s, h, *a: status.append(s))
    data = b"".join(answer)
    if not status[0].startswith("2"):
        raise SystemExit(f"floor: recording {endpoint.name}: {status[0]} {data[:300]!r}")
    if not endpoint.body:
        return ""
    error, number = _made(endpoint, data)
    if error:
        raise SystemExit(f"floor: recording {endpoint.name}: {error}")
    return number


def _client(args: tuple) -> tuple[list[float], list[str], list[str]]:
    port, endpoint, facts, seconds = args
    times, errors, numbers = [], [], []
    stop = time.monotonic() + seconds
    while time.monotonic() < stop and len(errors) < 5:
        elapsed, error, number = _request(port, endpoint, facts)
        times.append(elapsed)
        if error:
            errors.append(error)
        if number:
            numbers.append(number)
    return times, errors, numbers


@dataclass
class Figures:
    requests: int = 0
    seconds: float = 0.0
    times: list[float] = field(default_factory=list)
    server_cpu: float = 0.0  # seconds of CPU: gunicorn's processes, and PostgreSQL's
    database_cpu: float = 0.0  # of which PostgreSQL's
    client_cpu: float = 0.0  # seconds of CPU: the client processes

    def cpu_ms(self, seconds: float) -> float:
        return seconds / self.requests * 1000 if self.requests else 0.0

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def quantile(self, q: float) -> float:
        if len(self.times) < 2:
            return self.times[0] * 1000 if self.times else 0.0
        return statistics.quantiles(self.times, n=100, method="inclusive")[int(q) - 1] * 1000


# CPU time, read from /proc: what a request costs the server whoever the client is.
# The share of the bare app's rate depends on the client too (on 2 cores the bare app
# is mostly client: a lighter client raises the bare rate and lowers every share).

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: str | int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (field 3 first)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _cpu_seconds(pids: list[int]) -> float:
    """Their CPU time, with that of their children that ended (PostgreSQL's backends
    come and go as connections reach their age)."""
    ticks = 0
    for pid in pids:
        fields = _stat(pid)
        if fields:
            ticks += sum(int(n) for n in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / CLOCK_TICKS


def _server_pids(server: Server) -> tuple[list[int], list[int]]:
    """(gunicorn's master and workers (its own session), and for a server on PostgreSQL
    every process of the PostgreSQL server on this machine: backends, WAL writer…)."""
    pids, database = [], []
    postgres = server.name.startswith("postgres")  # "postgres", "postgres@…"
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat(entry.name)
        if fields is None:
            continue
        if int(fields[3]) == server.process.pid:
            pids.append(int(entry.name))
        elif postgres:
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    database.append(int(entry.name))
            except OSError:
                pass
    return pids, database


def load(pool, server: Server, endpoint: Endpoint, clients: int, seconds: float,
         figures: Figures, errors: list[str], numbers: list[str]) -> None:
    app_pids, database_pids = _server_pids(server)
    client_pids = [p.pid for p in multiprocessing.active_children()]
    app_cpu, database_cpu = _cpu_seconds(app_pids), _cpu_seconds(database_pids)
    client_cpu = _cpu_seconds(client_pids)
    start = time.perf_counter()
    results = pool.map(_client, [(server.port, endpoint, server.facts, seconds)] * clients)
    figures.seconds += time.perf_counter() - start
    # Counted again over the processes there now: a backend that started during the
    # load counts whole, one that ended is in its parent's count of ended children.
    app_pids, database_pids = _server_pids(server)
    database_cpu = _cpu_seconds(database_pids) - database_cpu
    figures.server_cpu += _cpu_seconds(app_pids) - app_cpu + database_cpu
    figures.database_cpu += database_cpu
    figures.client_cpu += _cpu_seconds(client_pids) - client_cpu
    for times, errs, made in results:
        figures.requests += len(times)
        figures.times.extend(times)
        errors.extend(f"{server.name} {endpoint.name}: {e}" for e in errs)
        numbers.extend(made)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--long", action="store_true", help="3 repetitions of 5 s each")
    parser.add_argument("--seconds", type=float, help="seconds per measurement")
    parser.add_argument("--repeat", type=int, help="repetitions")
    parser.add_argument("--cases", type=int, default=20_000, help="demo history (default 20,000)")
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432/linge_bench",
                        help="PostgreSQL database for the run (created if missing); 'none' skips")
    parser.add_argument("--fresh", action="store_true", help="rebuild the databases")
    parser.add_argument("--only", help="comma-separated endpoint names")
    parser.add_argument("--before", help="also serve this git revision's code, for comparison")
    parser.add_argument("--threads", type=int, default=0,
                        help="serve Linge with gthread workers of this many threads, as "
                             "`linge serve` does (LINGE_THREADS, 4); default 0: sync workers")
    parser.add_argument("--sync-too", action="store_true",
                        help="with --threads, also serve each database with sync workers")
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--verify", help=argparse.SUPPRESS)
    parser.add_argument("--record-floor", help=argparse.SUPPRESS)
    parser.add_argument("--no-floor", action="store_true",
                        help="do not serve the floor (bench_floor.py) beside each database")
    args = parser.parse_args()
    if args.prepare:
        print(json.dumps(prepare(args.cases)))
        return 0
    if args.record_floor:
        print(json.dumps(record_floor(json.loads(args.record_floor))))
        return 0
    if args.verify:
        print(json.dumps({"missing": verify(json.loads(Path(args.verify).read_text()))}))
        return 0
    seconds = args.seconds or (5.0 if args.long else 2.0)
    repeat = args.repeat or (3 if args.long else 1)
    endpoints = [e for e in ENDPOINTS if not args.only or e.name in args.only.split(",")]

    servers = _servers(args)
    bare = Server("bare", dict(os.environ, PYTHONPATH=str(ROOT / "bench")))
    try:
        for server in servers:
            print(f"{server.name}: preparing ({args.cases} cases + a grid of "
                  f"{BIG_GRID_CASES})…", flush=True)
            server.facts = _child(server.env, "--prepare", "--cases", str(args.cases))
            print(f"  {server.facts['cases']} cases; grid page: {server.facts['small_grid_cases']}"
                  f" and {server.facts['big_grid_cases']} cases", flush=True)
            server.threads = args.threads
            server.start("linge.wsgi:application")
        floors = [] if args.no_floor else _floors(servers, endpoints)
        twins = _sync_twins(servers) if args.sync_too and args.threads else []
        if args.before:
            twins += _before(args.before, servers + twins)
        servers += twins + floors
        bare.start("bench_http:bare_app")
        bare.facts = {**servers[0].facts, "check_reports": False} if servers else {}
        return _run(servers, bare, endpoints, seconds, repeat)
    finally:
        for server in [*servers, bare]:
            server.stop()


def _servers(args) -> list[Server]:
    sqlite_dir = VAR / "sqlite"
    if args.fresh and sqlite_dir.exists():
        for path in sqlite_dir.glob("linge.sqlite3*"):
            path.unlink()
    sqlite_dir.mkdir(parents=True, exist_ok=True)
    servers = [Server("sqlite", _env(f"sqlite:///{sqlite_dir / 'linge.sqlite3'}", sqlite_dir))]
    if args.postgres != "none":
        if subprocess.run([PYTHON, str(ROOT / "scripts" / "pg_ready.py"), args.postgres]
                          ).returncode != 0:
            print(f"SKIPPED: PostgreSQL does not answer at {args.postgres}")
            return servers
        import psycopg

        base, name = args.postgres.rsplit("/", 1)
        with psycopg.connect(f"{base}/postgres".replace("postgres://", "postgresql://", 1),
                             autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                  [name]).fetchone()
            if exists and args.fresh:
                conn.execute(f'DROP DATABASE "{name}"')
                exists = None
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
        pg_dir = VAR / "postgres"
        pg_dir.mkdir(parents=True, exist_ok=True)
        servers.append(Server("postgres", _env(args.postgres, pg_dir)))
    return servers


def _floors(servers: list[Server], endpoints: list[Endpoint]) -> list[Server]:
    """For each database, the floor under its submissions (bench_floor.py), recorded
    from two real ones made in a child process."""
    if not any(e.name in FLOOR_ENDPOINTS for e in endpoints):
        return []
    floors = []
    for server in servers:
        _child(server.env, "--record-floor", json.dumps(server.facts))
        floor = Server(f"{server.name}@floor", server.env, facts=dict(server.facts),
                       serves=tuple(FLOOR_ENDPOINTS), threads=server.threads)
        floor.start("bench_floor:application")
        floors.append(floor)
    return floors


def _sync_twins(servers: list[Server]) -> list[Server]:
    """The same code and databases on sync workers (one request at a time a process)."""
    twins = []
    for server in servers:
        twin = Server(f"{server.name}@sync", server.env, facts=dict(server.facts))
        twin.start("linge.wsgi:application")
        twins.append(twin)
    return twins


def _before(rev: str, servers: list[Server]) -> list[Server]:
    """The same databases served by the code of another revision (PYTHONPATH first)."""
    src = VAR / f"before-{rev}"
    if not (src / "src").is_dir():
        src.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "src"],
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(src)], input=archive, check=True)
    before = []
    for server in servers:
        env = dict(server.env, PYTHONPATH=str(src / "src"))
        twin = Server(f"{server.name}@{rev[:7]}", env, facts=dict(server.facts),
                      threads=server.threads)
        twin.start("linge.wsgi:application")
        before.append(twin)
    return before


def _run(servers: list[Server], bare: Server, endpoints: list[Endpoint], seconds: float,
         repeat: int) -> int:
    figures: dict[tuple[str, str, int], Figures] = {}
    errors: list[str] = []
    numbers: dict[str, list[str]] = {s.name: [] for s in servers}
    bare_kinds = {"GET": Endpoint("bare GET", "GET", "/"),
                  "POST": Endpoint("bare POST", "POST", "/report", body="report")}
    with multiprocessing.get_context("fork").Pool(max(CLIENTS)) as pool:
        for rep in range(repeat):
            print(f"repetition {rep + 1}/{repeat}…", flush=True)
            for clients in CLIENTS:
                for method, endpoint in bare_kinds.items():
                    key = ("bare", method, clients)
                    load(pool, bare, endpoint, clients, seconds,
                         figures.setdefault(key, Figures()), errors, [])
                for endpoint in endpoints:
                    for server in [s for s in servers if s.answers(endpoint)]:
                        key = (server.name, endpoint.name, clients)
                        load(pool, server, endpoint, clients, seconds,
                             figures.setdefault(key, Figures()), errors, numbers[server.name])
    missing = {}
    for server in servers:
        listing = VAR / f"{server.name}-reported.json"
        listing.write_text(json.dumps(numbers[server.name]))
        missing[server.name] = _child(server.env, "--verify", str(listing))["missing"]
    return _report(servers, endpoints, figures, errors, missing, numbers)


def _floor_lines(servers, endpoints, figures) -> list[str]:
    """At the most clients: where the floor stands against the target, and how much of
    the floor's rate Linge keeps."""
    lines = []
    clients = max(CLIENTS)
    for endpoint in [e for e in endpoints if e.name in FLOOR_ENDPOINTS]:
        share = TARGETS[endpoint.target][0] if endpoint.target else None
        base = figures[("bare", endpoint.method, clients)].rate
        for floor in [s for s in servers if s.name.endswith("@floor")]:
            linge = figures.get((floor.name.removesuffix("@floor"), endpoint.name, clients))
            low = figures[(floor.name, endpoint.name, clients)]
            if not (base and low.rate and linge):
                continue
            target = f", target {share:.0%}" if share else ""
            lines.append(
                f"FLOOR: {floor.name} {endpoint.name}: the statements alone run at "
                f"{low.rate / base:.1%} of the bare app's rate{target} "
                f"({low.cpu_ms(low.server_cpu):.2f} ms of server CPU a request); Linge runs "
                f"at {linge.rate / low.rate:.0%} of the floor's rate")
    return lines


def _report(servers, endpoints, figures, errors, missing, numbers) -> int:
    print(f"\n{'server':16} {'endpoint':13} {'clients':>7} {'req/s':>8} {'p50 ms':>8} "
          f"{'p99 ms':>8} {'of bare':>8} {'srv CPU':>8} {'db CPU':>8} {'cli CPU':>8}")
    for clients in CLIENTS:
        for method in ("GET", "POST"):
            f = figures[("bare", method, clients)]
            print(f"{'bare':16} {method:13} {clients:7} {f.rate:8.1f} {f.quantile(50):8.1f} "
                  f"{f.quantile(99):8.1f} {'':>8} {f.cpu_ms(f.server_cpu):8.2f} {'':>8} "
                  f"{f.cpu_ms(f.client_cpu):8.2f}")
    missed = []
    for endpoint in endpoints:
        for server in [s for s in servers if s.answers(endpoint)]:
            for clients in CLIENTS:
                f = figures[(server.name, endpoint.name, clients)]
                base = figures[("bare", endpoint.method, clients)].rate
                ratio = f.rate / base if base else 0.0
                print(f"{server.name:16} {endpoint.name:13} {clients:7} {f.rate:8.1f} "
                      f"{f.quantile(50):8.1f} {f.quantile(99):8.1f} {ratio:8.1%} "
                      f"{f.cpu_ms(f.server_cpu):8.2f} {f.cpu_ms(f.database_cpu):8.2f} "
                      f"{f.cpu_ms(f.client_cpu):8.2f}")
                if clients != max(CLIENTS) or not endpoint.target or "@" in server.name:
                    continue
                share, p99 = TARGETS[endpoint.target]
                if ratio < share:
                    missed.append(f"{server.name} {endpoint.name}: {ratio:.1%} of the bare app's "
                                  f"rate, target {share:.0%}")
                if p99 is not None and f.quantile(99) >= p99:
                    missed.append(f"{server.name} {endpoint.name}: p99 {f.quantile(99):.0f} ms, "
                                  f"target < {p99:.0f} ms")
    for server in [s for s in servers if "@" not in s.name]:
        small = figures.get((server.name, "grid 17", max(CLIENTS)))
        big = figures.get((server.name, "grid 10k", max(CLIENTS)))
        if small and big and big.rate and small.rate / big.rate > 1.2:
            missed.append(f"{server.name}: the 10,000-case grid page runs at "
                          f"{big.rate / small.rate:.0%} of the small one's rate, target ≥ 83%")
    print()
    for line in _floor_lines(servers, endpoints, figures):
        print(line)
    for line in missed:
        print(f"MISSED: {line}")
    if not missed:
        print("All targets met.")
    wrong = list(errors)
    for server in servers:
        if missing[server.name]:
            wrong.append(f"{server.name}: {missing[server.name]} of {len(numbers[server.name])} "
                         f"reported cases are not in the database")
    for line in wrong[:20]:
        print(f"WRONG: {line}")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
