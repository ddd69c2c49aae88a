"""bench/bench_floor.py: the statements of a real report, replayed, make real new cases.

The floor is the baseline the speed targets are judged against, so a replay that
quietly wrote less than a report (or failed on a unique key) would flatter or break
every figure built on it.
"""

from __future__ import annotations

import itertools
import sys
import uuid
from pathlib import Path

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.urls import reverse

from linge.cases import workflow
from linge.cases.models import Case, CaseEvent, ChainHead
from linge.clients.models import Hit
from linge.notify.models import Outbox

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import bench_floor  # noqa: E402

pytestmark = pytest.mark.django_db(transaction=True)


def _sender(city):
    addresses = itertools.count(1)

    def send() -> str:
        # Each from a fresh browser and another address, as the bench's clients.
        address = f"10.1.2.{next(addresses)}"
        answer = Client(HTTP_ACCEPT="application/json", REMOTE_ADDR=address).post(
            reverse("resident:report"),
            {"submit_key": uuid.uuid4().hex, "category": city.category.pk,
             "description": "村口垃圾桶满了，好几天没人清运", "grid": city.grid.code})
        assert answer.status_code == 200, answer.content
        return answer.json()["number"]
    return send


def test_a_replayed_report_writes_a_new_case_with_its_event_outbox_and_session(city) -> None:
    script = bench_floor.record("POST", "/report", "report", _sender(city))
    assert script.tokens  # the submit key, the tracking-code hash, the session key…
    # The look-ups before the transaction are left out (a process could cache them); the
    # chain head, read under its lock inside the transaction, stays.
    reads = [(sql.split(" FROM ")[1].split()[0], inside) for sql, _, inside in script.steps
             if sql.startswith("SELECT")]
    assert reads == [('"cases_chainhead"', True)]
    recorded = Case.objects.get(number=script.number)
    # A move between recording and replaying: the chain runs one ahead of the case ids.
    workflow.accept(recorded, city["full_time"])
    head = ChainHead.objects.get().seq
    before = {"cases": Case.objects.count(), "events": CaseEvent.objects.count(),
              "outbox": Outbox.objects.count(), "sessions": Session.objects.count(),
              "hits": Hit.objects.count()}

    numbers = [bench_floor.replay(script) for _ in range(3)]

    # Five reports were made by recording (three to warm up, two recorded): the day's
    # counter hands out the next three numbers.
    day, serial = script.number.split("-")
    assert numbers == [f"{day}-{int(serial) + n:06d}" for n in (2, 3, 4)]
    made = list(Case.objects.filter(number__in=numbers).order_by("number"))
    assert [c.number for c in made] == numbers
    assert len({c.submit_key for c in made} | {recorded.submit_key}) == 4
    assert len({c.tracking_code_hash for c in made} | {recorded.tracking_code_hash}) == 4
    assert all(c.grid_id == city.grid.pk and c.description == recorded.description
               for c in made)
    assert Case.objects.count() == before["cases"] + 3
    assert CaseEvent.objects.count() == before["events"] + 3
    assert {e.case_id for e in CaseEvent.objects.filter(case__in=made)} == {c.pk for c in made}
    seqs = sorted(CaseEvent.objects.filter(case__in=made).values_list("seq", flat=True))
    assert seqs == [head + 1, head + 2, head + 3]
    assert ChainHead.objects.get().seq == head + 3
    told = Outbox.objects.filter(subject__in=numbers)
    assert told.count() == Outbox.objects.count() - before["outbox"] > 0
    assert Session.objects.count() == before["sessions"] + 3
    # Each replay counts a new address in both of its windows (10 minutes and a day).
    assert Hit.objects.count() == before["hits"] + 6


def test_values_that_do_not_vary_are_kept(city) -> None:
    script = bench_floor.record("POST", "/report", "report", _sender(city))
    # The category and the grid are the same in every report: never drawn anew.
    assert str(city.grid.code) not in script.tokens
    assert "村口垃圾桶满了，好几天没人清运" not in script.tokens


def test_a_page_is_replayed_as_linge_ran_it_prepared_on_postgresql(city) -> None:
    case = workflow.submit(city["resident"], category=city.plain, description="楼道堆物",
                           grid=city.grid).case
    staff = Client()
    staff.force_login(city["full_time"])

    def send() -> str:
        assert staff.get(f"/work/case/{case.number}/").status_code == 200
        return ""

    script = bench_floor.record("GET", f"/work/case/{case.number}/", "page", send)
    hot = {i for i, (sql, _, _) in enumerate(script.steps)
           if '"django_session"."session_key" = %s' in sql
           or '"cases_case"."number" = %s' in sql or 'FROM "cases_caseevent"' in sql}
    if connection.vendor == "postgresql":
        # The session, the case and its events: compiled once by Linge and prepared on
        # the server; the floor prepares the same ones, and no other.
        assert len(hot) == 3 and hot <= script.prepared
        assert len(script.prepared) < len(script.steps)
    else:
        assert script.prepared == set()
    assert bench_floor.replay(script) == ""
