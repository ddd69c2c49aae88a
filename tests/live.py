"""A live gunicorn (2 processes) over the test database, for tests that speak HTTP to
the real server: the Open311 conformance tests and the documentation's examples.

`live_server_with_city` builds the test city once per module, committed (gunicorn's
processes read it through their own connections), starts `linge serve --no-worker`
on a free loopback port and, at the end, stops it and flushes the database so the
next module starts from nothing. Its files go under var/test/.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

BUILD = Path(__file__).resolve().parents[1] / "var" / "test"


@dataclass
class Live:
    url: str
    city: object
    key: str  # an Open311 and API key of the client "conformance"
    api_key: str  # a key on /api/v1 acting as the dispatcher
    media: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url() -> str:
    from django.db import connection

    d = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(d['NAME']).resolve()}"
    user = d.get("USER") or "postgres"
    auth = f"{user}:{d['PASSWORD']}" if d.get("PASSWORD") else user
    return f"postgres://{auth}@{d.get('HOST') or '127.0.0.1'}:{d.get('PORT') or 5432}/{d['NAME']}"


def start_gunicorn(env_extra: dict[str, str] | None = None, workers: int = 2
                   ) -> tuple[subprocess.Popen, str, Path]:
    from django.conf import settings

    port = _free_port()
    media = BUILD / f"live-media-{os.getpid()}-{port}"
    media.mkdir(parents=True, exist_ok=True)
    log = open(BUILD / f"live-gunicorn-{port}.log", "wb")  # noqa: SIM115 - kept for the process
    env = {**os.environ, "LINGE_DATABASE_URL": database_url(), "LINGE_VAR_DIR": str(BUILD),
           "LINGE_MEDIA_ROOT": str(media), "LINGE_SECRET_KEY": settings.SECRET_KEY,
           "LINGE_BIND": f"127.0.0.1:{port}", "LINGE_WORKERS": str(workers),
           "LINGE_LOG_LEVEL": "WARNING", **(env_extra or {})}
    process = subprocess.Popen(
        [sys.executable, "-m", "linge.cli", "serve", "--no-worker", "--access-logfile", "-"],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited: see {log.name}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return process, url, media
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError(f"gunicorn did not answer within 30 s: see {log.name}")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


@pytest.fixture(scope="session")
def live_database(django_db_setup, django_db_blocker):
    """The test database. pytest-django creates it only when a collected test asks for
    `db`; a session of live tests alone asks for none, so it is created here then."""
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    with django_db_blocker.unblock():
        created = None
        if connection.settings_dict["NAME"] != connection.creation._get_test_db_name():
            created = setup_databases(verbosity=0, interactive=False, aliases={"default"})
        yield
        if created is not None:
            teardown_databases(created, verbosity=0)


@pytest.fixture(scope="module")
def live_city(live_database, django_db_blocker):
    from django.core.management import call_command

    from linge.clients import keys
    from linge.clients.models import Channel
    from tests.conftest import build_city

    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)
        city = build_city()
        key = keys.create("conformance", channels=[Channel.OPEN311, Channel.API],
                          rate_per_minute=100_000).key
        api_key = keys.create("dispatcher app", channels=[Channel.API],
                              rate_per_minute=100_000, user=city["dispatcher"]).key
    process, url, media = start_gunicorn()
    try:
        yield Live(url, city, key, api_key, media)
    finally:
        stop(process)
        with django_db_blocker.unblock():
            call_command("flush", interactive=False, verbosity=0)


@dataclass
class Answer:
    status: int
    headers: dict
    body: bytes

    @property
    def json(self):
        import json

        return json.loads(self.body)

    @property
    def xml(self):
        from xml.etree import ElementTree

        return ElementTree.fromstring(self.body)


def _multipart(fields: list[tuple[str, str]], files: list[tuple[str, str, bytes, str]]
               ) -> tuple[bytes, str]:
    boundary = "linge-test-boundary-7d1f"
    parts = []
    for name, value in fields:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                     f"{value}\r\n".encode())
    for name, filename, content, content_type in files:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                     f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
                     + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def call(url: str, method: str = "GET", *, params: dict | list | None = None,
         data: dict | list | None = None, files: list | None = None,
         headers: dict | None = None, json_body=None) -> Answer:
    """One HTTP request to the live server; never raises on an error status."""
    import json
    from urllib.parse import urlencode

    if params:
        url += ("&" if "?" in url else "?") + urlencode(params)
    body = None
    headers = dict(headers or {})
    if files is not None:
        fields = list(data.items()) if isinstance(data, dict) else list(data or [])
        body, headers["Content-Type"] = _multipart(fields, files)
    elif json_body is not None:
        body = json.dumps(json_body).encode()
        headers["Content-Type"] = "application/json"
    elif data is not None:
        body = urlencode(data).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return Answer(answer.status, dict(answer.headers), answer.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, dict(error.headers), error.read())
