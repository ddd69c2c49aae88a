"""Upload attacks against a real gunicorn (`linge serve`, two workers) started by the
test on loopback, bounded in count and time.

The decode-time bomb: a 6300 × 6300 grey PNG is 38 KB and 39.7 MP, under every per-file
limit. Two anonymous /report posts of nine of them at once used to hold both workers
past their timeout. Now each request may decode LINGE_PHOTO_REQUEST_PIXELS in all, one
photo at a time per process, in worker threads: /healthz answers in under a second all
along. A body announced as 200 MB is refused by its Content-Length before it is sent."""

from __future__ import annotations

import http.client
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
LINGE = ROOT / ".venv" / "bin" / "linge"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bomb() -> bytes:
    out = io.BytesIO()
    Image.new("L", (6300, 6300), 0).save(out, "PNG", optimize=True)
    return out.getvalue()


@pytest.fixture(scope="module")
def server():
    from django.conf import settings

    folder = Path(settings.VAR_DIR) / f"live-{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINGE_")}
    env.update({
        "LINGE_VAR_DIR": str(folder), "LINGE_DATABASE_URL": f"sqlite:///{folder / 'live.sqlite3'}",
        "LINGE_BIND": f"127.0.0.1:{port}", "LINGE_WORKERS": "2", "LINGE_THREADS": "4",
        "LINGE_LOG_LEVEL": "WARNING", "DJANGO_SETTINGS_MODULE": "linge.settings",
    })
    subprocess.run([str(LINGE), "migrate", "--no-input", "-v", "0"], env=env, check=True,
                   cwd=ROOT, timeout=300)
    log = open(folder / "gunicorn.log", "wb")
    proc = subprocess.Popen([str(LINGE), "serve", "--no-worker"], env=env, cwd=ROOT,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if get(port, "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("gunicorn did not start: " + (folder / "gunicorn.log").read_text())
            time.sleep(0.3)
        # Warm both workers up (each imports the URL configuration and views on its
        # first requests): the probes below time the site, not a cold start.
        warm = [threading.Thread(target=get, args=(port, path))
                for path in ["/report", "/healthz", "/", "/track"] * 4]
        for thread in warm:
            thread.start()
        for thread in warm:
            thread.join()
        yield port
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
        shutil.rmtree(folder, ignore_errors=True)


def get(port: int, path: str, headers: dict | None = None) -> tuple[int, bytes, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        headers: dict[str, str] = {}
        for name, value in response.getheaders():  # the form sets two cookies
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        return response.status, response.read(), headers
    finally:
        conn.close()


def post_bombs(port: int, count: int, results: list) -> None:
    status, page, headers = get(port, "/report")
    cookie = re.search(r"csrftoken=([^;]+)", headers.get("Set-Cookie", "")).group(1)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
             .encode() for name, value in [("csrfmiddlewaretoken", token),
                                          ("submit_key", uuid.uuid4().hex),
                                          ("description", "测试"), ("category", "1")]]
    image = bomb()
    for i in range(count):
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; '
                     f'filename="b{i}.png"\r\nContent-Type: image/png\r\n\r\n'.encode()
                     + image + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    started = time.monotonic()
    conn.request("POST", "/report", body=body, headers={
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Cookie": f"csrftoken={cookie}", "Accept": "application/json"})
    response = conn.getresponse()
    results.append((response.status, response.read().decode(), time.monotonic() - started))
    conn.close()


@pytest.mark.database("sqlite")  # the server runs on its own SQLite file either way
@pytest.mark.slow
def test_two_bomb_uploads_at_once_leave_healthz_answering(server: int) -> None:
    results: list = []
    uploads = [threading.Thread(target=post_bombs, args=(server, 9, results)) for _ in range(2)]
    for thread in uploads:
        thread.start()
    probes = []
    while any(thread.is_alive() for thread in uploads):
        started = time.monotonic()
        status, body, _ = get(server, "/healthz")
        probes.append(time.monotonic() - started)
        assert status == 200 and body == b"ok"
        time.sleep(0.1)
    for thread in uploads:
        thread.join()
    assert len(probes) >= 3, probes  # the uploads took long enough to be probed
    assert max(probes) < 1.0, probes
    assert len(results) == 2
    for status, body, seconds in results:
        # Three bombs fit the 120 MP budget of a request; the fourth is refused unread.
        assert status == 400 and "总像素过多" in json.loads(body)["error"], body
        assert seconds < 25


@pytest.mark.database("sqlite")
@pytest.mark.slow
def test_a_200_mb_body_is_refused_before_it_is_sent(server: int) -> None:
    with socket.create_connection(("127.0.0.1", server), timeout=10) as sock:
        sock.sendall(
            b"POST /report HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n"
            b"Content-Type: multipart/form-data; boundary=x\r\n"
            + f"Content-Length: {200 * 1024 * 1024}\r\n\r\n".encode() + b"x" * 1024)
        # The answer comes while 200 MB minus 1 KB are still unsent: the body was
        # judged by its Content-Length, not read. Headers and body may come apart.
        answer = b""
        while b"0\r\n\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    text = answer.decode("utf-8", "replace")
    assert text.startswith("HTTP/1.1 413"), text
    assert "提交的内容过大" in text
