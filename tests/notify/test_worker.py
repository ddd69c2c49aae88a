"""linge worker: outbox delivery with retries, deadline sweep, auto-close, and kills."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings

from linge.cases import jobs, workflow
from linge.cases.models import Case, CaseEvent, Rating, State
from linge.notify import worker
from linge.notify.models import Channel, Delivery, Outbox, Status, WorkerRun
from linge.notify.senders import SendFailed
from tests.conftest import City, at

ROOT = Path(__file__).resolve().parents[2]
LINGE = ROOT / ".venv" / "bin" / "linge"
T0 = at("2026-11-02 09:00")  # a Monday


def report(city: City, category=None, now=T0) -> Case:
    return workflow.submit(city["resident"], category=category or city.plain,
                           description="楼道里堆满杂物", grid=city.grid, now=now).case


def test_sends_inbox_and_sms_once(city: City) -> None:
    report(city)
    assert Outbox.objects.filter(status=Status.PENDING).exists()
    run = worker.run_once(now=T0)
    assert run.sent == Outbox.objects.count() and run.finished_at is not None
    assert not Outbox.objects.exclude(status=Status.SENT).exists()
    sms = Outbox.objects.filter(channel=Channel.SMS)
    assert sms.exists()
    assert set(Delivery.objects.values_list("key", flat=True)) == set(
        sms.values_list("key", flat=True))
    # A second pass sends nothing.
    assert worker.run_once(now=T0).sent == 0
    assert Delivery.objects.count() == sms.count()


def test_failed_sms_is_retried_with_backoff(city: City, monkeypatch) -> None:
    report(city)

    class Down:
        name = "down"

        def send(self, phone: str, text: str, key: str) -> bool:
            raise SendFailed("网关不可用")

    monkeypatch.setattr(worker, "get_sender", lambda: Down())
    tally = worker.Tally()
    worker.send_outbox(tally)
    sms = Outbox.objects.get(channel=Channel.SMS)
    assert sms.status == Status.PENDING and sms.attempts == 1 and sms.last_error
    assert sms.next_attempt_at > T0 and tally.retried == 1
    assert worker.backoff(2) == 2 * worker.backoff(1)
    # Not due yet: a second pass leaves it alone.
    worker.send_outbox(tally)
    assert Outbox.objects.get(pk=sms.pk).attempts == 1
    # After the maximum number of attempts it is given up and marked failed.
    Outbox.objects.filter(pk=sms.pk).update(attempts=worker.MAX_ATTEMPTS - 1,
                                            next_attempt_at=T0)
    worker.send_outbox(tally)
    assert Outbox.objects.get(pk=sms.pk).status == Status.FAILED and tally.failed == 1


def test_a_claimed_row_is_not_claimed_twice_until_its_lease_ends(city: City) -> None:
    report(city)
    now = T0
    token, rows = worker.claim(now=now)
    assert rows
    _token2, again = worker.claim(now=now)
    assert again == []
    later = now + timedelta(seconds=worker.lease_seconds() + 1)
    _token3, taken_over = worker.claim(now=later)
    assert {r.pk for r in taken_over} == {r.pk for r in rows}
    # The first worker, back from the dead, can no longer write the outcome.
    assert not worker._finish(rows[0], token, status=Status.SENT)


def test_sweep_warns_yellow_then_red_and_flags_overdue(city: City) -> None:
    case = report(city, city.plain)
    workflow.accept(case, city["full_time"], now=T0)
    case.refresh_from_db()
    due = case.resolve_due
    yellow_at = due - timedelta(minutes=30)
    tally = worker.Tally()
    jobs.sweep_deadlines(tally, now=yellow_at)
    warned = Outbox.objects.filter(key__startswith=f"due:{case.pk}:resolve:")
    assert tally.warned == 1 and warned.filter(key__contains=":yellow:").exists()
    recipients = set(warned.values_list("recipient_id", flat=True))
    assert city["full_time"].pk in recipients  # the handler
    assert city["village_staff"].pk in recipients  # and who supervises the grid
    jobs.sweep_deadlines(tally, now=yellow_at)
    assert tally.warned == 1, "a second sweep adds nothing"
    jobs.sweep_deadlines(tally, now=due + timedelta(minutes=1))
    case.refresh_from_db()
    assert case.overdue and case.state == State.ACCEPTED  # plain does not escalate by itself
    assert CaseEvent.objects.filter(case=case, action="flag_overdue").count() == 1
    assert warned.filter(key__contains=":red:").exists()
    assert "超过办结期限" in warned.filter(key__contains=":red:").first().text


def test_overdue_urgent_case_escalates_by_itself(city: City) -> None:
    case = report(city, city.urgent)
    workflow.accept(case, city["full_time"], now=T0)
    run = worker.run_once(now=T0 + timedelta(hours=5))
    case.refresh_from_db()
    assert case.state == State.ESCALATED and case.overdue
    assert run.flagged == 1 and run.escalated == 1
    event = CaseEvent.objects.filter(case=case, action="escalate").get()
    assert event.actor is None and event.actor_label == "系统"
    # The dispatchers are told.
    assert Outbox.objects.filter(key__startswith=f"{event.seq}:", kind="escalate",
                                 recipient=city["dispatcher"]).exists()


def test_unrated_resolved_case_closes_as_unrated(city: City) -> None:
    case = report(city, city.plain)
    workflow.accept(case, city["full_time"], now=T0)
    workflow.resolve(case, city["full_time"], note="已清理", now=T0)
    run = worker.run_once(now=T0 + timedelta(days=3))
    assert run.closed == 0
    with override_settings(LINGE_AUTO_CLOSE_DAYS=7):
        run = worker.run_once(now=T0 + timedelta(days=8))
    case.refresh_from_db()
    assert run.closed == 1 and case.state == State.CLOSED
    assert case.rating == "" and case.rating != Rating.SATISFIED
    assert WorkerRun.objects.count() == 2


def test_worker_command_once(city: City, capsys) -> None:
    report(city)
    call_command("worker", "--once")
    assert "sent" in capsys.readouterr().out
    assert not Outbox.objects.filter(status=Status.PENDING).exists()


# The kill test: a real process on a real SQLite file, SIGKILLed at random moments.

SEED = """
import django
django.setup()
from linge.cases import jobs, workflow
from tests.conftest import build_city
city = build_city()
for i in range({n}):
    workflow.submit(city["resident"], category=city.plain, description=f"楼道堆物 {{i}}",
                    grid=city.grid)
"""


class Gateway(ThreadingHTTPServer):
    """An SMS gateway on loopback that records every call it receives, as the phone
    company would see them (the `http` sender posts {phone, text, key} as JSON)."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _GatewayHandler)
        self.calls: list[dict] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/sms"


class _GatewayHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        body["header_key"] = self.headers.get("Idempotency-Key")
        body["token"] = self.headers.get("Authorization")
        with self.server.lock:
            self.server.calls.append(body)
        # A real gateway takes a moment to answer; so do we, which leaves two copies that
        # hold the same row the time to both post it.
        time.sleep(0.01)
        try:
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the copy was killed while waiting: it will send this key again

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - quiet
        pass


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    server = Gateway()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _env(tmp_path: Path, gateway: Gateway | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("LINGE_DATABASE_URL", None)
    env.update({
        "LINGE_VAR_DIR": str(tmp_path),
        "LINGE_DATABASE_URL": f"sqlite:///{tmp_path / 'worker.sqlite3'}",
        "LINGE_WORKER_LEASE": "1",
        "DJANGO_SETTINGS_MODULE": "linge.settings",
        "LINGE_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    })
    if gateway is not None:
        env.update({"LINGE_SMS_BACKEND": "http", "LINGE_SMS_URL": gateway.url,
                    "LINGE_SMS_TOKEN": "kill-test"})
    return env


@pytest.mark.slow
def test_worker_killed_repeatedly_delivers_everything_exactly_once(
    tmp_path: Path, gateway: Gateway
) -> None:
    env = _env(tmp_path, gateway)
    subprocess.run([str(LINGE), "migrate", "--no-input", "-v", "0"], env=env, check=True,
                   cwd=ROOT)
    subprocess.run([sys.executable, "-c", SEED.format(n=250)], env=env, check=True, cwd=ROOT)
    db = sqlite3.connect(tmp_path / "worker.sqlite3")
    total = db.execute("select count(*) from notify_outbox").fetchone()[0]
    sms_total = db.execute("select count(*) from notify_outbox where channel='sms'").fetchone()[0]
    assert total > 1000 and sms_total >= 250
    rng = random.Random(4)
    kills = 0
    killed_sending = 0
    for _round in range(12):
        # Two copies at once, both killed at a random moment once they are sending (a
        # copy takes a second or more to start: a fixed delay would often kill it before
        # it sent anything, and leave the work to the last, lone copy).
        seen = len(gateway.calls)
        procs = [subprocess.Popen([str(LINGE), "worker", "--interval", "0.2"], env=env, cwd=ROOT,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for _copy in range(2)]
        deadline = time.monotonic() + 15
        while len(gateway.calls) == seen and time.monotonic() < deadline and db.execute(
                "select count(*) from notify_outbox where status != 'sent'").fetchone()[0]:
            time.sleep(0.02)
        killed_sending += len(gateway.calls) > seen
        time.sleep(rng.uniform(0.05, 0.6))
        for proc in procs:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills += 1
        pending = db.execute(
            "select count(*) from notify_outbox where status != 'sent'").fetchone()[0]
        if pending == 0 and _round >= 3:
            break
    time.sleep(1.2)  # let the last leases run out
    calls_before_last = len(gateway.calls)
    subprocess.run([str(LINGE), "worker", "--once"], env=env, check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)
    statuses = dict(db.execute("select status, count(*) from notify_outbox group by status"))
    assert statuses == {"sent": total}, statuses
    sms = {key: (phone, text) for key, phone, text in db.execute(
        "select key, phone, text from notify_outbox where channel='sms'")}
    calls = list(gateway.calls)
    # Every text message reached the gateway, as written, with its key in the header too.
    received = Counter(call["key"] for call in calls)
    assert set(received) == set(sms)
    for call in calls:
        assert (call["phone"], call["text"]) == sms[call["key"]]
        assert call["header_key"] == call["key"] and call["token"] == "Bearer kill-test"
    # A copy killed after the gateway took a message and before it wrote that down sends
    # it again after the lease, with the same key (the gateway drops the repeat): at most
    # one such repeat per kill, since a copy sends one message at a time. Copies that
    # claimed the same rows (no leases) would repeat hundreds.
    repeats = len(calls) - len(received)
    assert repeats <= kills, f"{repeats} repeated sends for {kills} kills: {received.most_common(3)}"
    assert kills >= 8 and killed_sending >= 3, (kills, killed_sending)
    assert calls_before_last > 0, "the killed copies sent nothing"
    runs = db.execute("select count(*) from notify_workerrun").fetchone()[0]
    assert runs >= 1
    db.close()


def test_delivered_inbox_rows_show_on_the_staff_messages_page(client, city: City) -> None:
    case = report(city, city.plain)
    workflow.accept(case, city["full_time"], now=T0)
    jobs.sweep_deadlines(worker.Tally(), now=case.resolve_due + timedelta(minutes=5))
    client.force_login(city["village_staff"])
    assert "messages-link" in client.get("/work/").content.decode()
    assert client.get("/work/messages/").context["page"].paginator.count == 0  # not sent yet
    worker.send_outbox(worker.Tally())
    page = client.get("/work/").content.decode()
    assert 'class="badge du">1<' in page
    body = client.get("/work/messages/").content.decode()
    assert "【督促】" in body and "超过办结期限" in body
    # Reading marks nothing (a prefetch or a reload is not a read); the button does.
    assert 'class="badge du">1<' in client.get("/work/").content.decode()
    assert client.post("/work/messages/").status_code == 302
    assert 'class="badge du">1<' not in client.get("/work/").content.decode()
