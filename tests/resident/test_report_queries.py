"""How many SQL statements a report costs: an upper bound that fails when someone adds one.

Counted as in production: outside any test transaction (transaction=True), so the
case's own BEGIN/COMMIT are what is counted, not savepoints of the test's wrapper.
Each bound is the count measured when it was set; if a change needs one more
statement, raise the bound in the same commit and say why there.

The guarantees the statements pay for: one case per submit key (a unique index, no
look-up inside the transaction), the hash chain (the head row read under FOR UPDATE,
then written), the outbox in the same transaction as the case, and a session that
remembers the anonymous reporter's case.
"""

from __future__ import annotations

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from linge.cases import intake
from linge.cases.models import Case, CaseEvent, Source
from linge.notify.models import Outbox
from linge.resident.qr import grid_qr_path
from tests.resident.conftest import jpeg_bytes

pytestmark = pytest.mark.django_db(transaction=True)

# POST /report, anonymous, from a fresh browser (its session is created with the case):
#   SQLite: submit-key look-up, grid, the address's rate-limit windows (one upsert for
#   both), category, the grid's village/town/team, case number (one upsert), recipients,
#   BEGIN IMMEDIATE, case, chain head, event, head, outbox, session insert, COMMIT = 15.
#   PostgreSQL: the case number is drawn before BEGIN (a transaction of its own), the
#   chain head is read FOR UPDATE, and event, outbox and head are one statement = 12.
# Before issue #13 the same request took 24 statements on either database.
REPORT_BUDGET = {"sqlite": 15, "postgresql": 13}
PHOTO_EXTRA = 1  # the attachments' INSERT
# intake.submit alone: the view's look-up and grid and the session are not in it, the
# intake's own look-up of the key is.
INTAKE_BUDGET = {"sqlite": 12, "postgresql": 10}


def _form(city, **extra) -> dict:
    data = {"submit_key": uuid.uuid4().hex, "category": city.category.pk,
            "description": "村口垃圾桶满了，好几天没人清运", "grid": city.grid.code}
    data.update(extra)
    return data


def _warm(city) -> None:
    # The first report of the day creates the day's counter and the chain head; the
    # budget is for every report after it.
    Client().post(reverse("resident:report"), _form(city))


def test_an_anonymous_report_stays_within_its_statement_budget(city) -> None:
    _warm(city)
    browser = Client()
    with CaptureQueriesContext(connection) as queries:
        response = browser.post(reverse("resident:report"), _form(city))
    assert response.status_code == 302
    statements = [q["sql"] for q in queries.captured_queries]
    assert len(statements) <= REPORT_BUDGET[connection.vendor], "\n".join(statements)
    case = Case.objects.order_by("-pk").first()
    assert response["Location"] == f"/c/{case.number}"
    # What the statements bought: the event sealed on the chain, the team told.
    assert CaseEvent.objects.filter(case=case).count() == 1
    assert Outbox.objects.filter(subject=case.number).exists()


def test_a_report_with_a_photo_adds_only_the_attachment(city, media) -> None:
    _warm(city)
    browser = Client()
    photo = SimpleUploadedFile("a.jpg", jpeg_bytes(), "image/jpeg")
    with CaptureQueriesContext(connection) as queries:
        response = browser.post(reverse("resident:report"), _form(city, photos=[photo]))
    assert response.status_code == 302
    statements = [q["sql"] for q in queries.captured_queries]
    assert len(statements) <= REPORT_BUDGET[connection.vendor] + PHOTO_EXTRA, "\n".join(
        statements)
    assert Case.objects.order_by("-pk").first().attachments.count() == 1


def test_a_scan_writes_no_session_and_the_form_one_once(city) -> None:
    """The grid page keeps the QR grid in a signed cookie: looking at it writes nothing.
    The report form gives a new browser its session once (see views._open_session),
    and not again."""
    browser = Client()
    with CaptureQueriesContext(connection) as queries:
        browser.get(grid_qr_path(city.grid.code))
    assert not [q for q in queries.captured_queries if "django_session" in q["sql"]]
    with CaptureQueriesContext(connection) as queries:
        browser.get(reverse("resident:report"))
    assert len([q for q in queries.captured_queries if "django_session" in q["sql"]
                and not q["sql"].startswith("SELECT")]) == 1
    with CaptureQueriesContext(connection) as queries:
        browser.get(reverse("resident:report"))
    assert not [q for q in queries.captured_queries if "django_session" in q["sql"]
                and not q["sql"].startswith("SELECT")]


def test_intake_submit_stays_within_its_statement_budget(city) -> None:
    _warm(city)
    report = intake.Report(category=city.category, description="路灯不亮，晚上很黑",
                           grid=city.grid, anonymous=True)
    with CaptureQueriesContext(connection) as queries:
        done = intake.submit(None, Source.RESIDENT_PAGE, report, key=uuid.uuid4().hex)
    statements = [q["sql"] for q in queries.captured_queries]
    assert done.created
    assert len(statements) <= INTAKE_BUDGET[connection.vendor], "\n".join(statements)


def test_the_session_is_written_in_the_case_transaction(city) -> None:
    """One commit for the case and the session that follows it, not two."""
    _warm(city)
    with CaptureQueriesContext(connection) as queries:
        response = Client().post(reverse("resident:report"), _form(city))
    assert response.status_code == 302
    statements = [q["sql"].split()[0] for q in queries.captured_queries]
    session = next(i for i, q in enumerate(queries.captured_queries)
                   if "django_session" in q["sql"])
    begin, commit = statements.index("BEGIN"), statements.index("COMMIT")
    assert begin < session < commit
    assert statements.count("COMMIT") == 1
    assert len([q for q in queries.captured_queries if "django_session" in q["sql"]]) == 1


_REFUSE_SESSIONS = {
    "sqlite": ["CREATE TRIGGER refuse_sessions BEFORE INSERT ON django_session "
               "BEGIN SELECT RAISE(ABORT, 'no sessions today'); END"],
    "postgresql": [
        "CREATE FUNCTION refuse_sessions() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'no sessions today'; END $$",
        "CREATE TRIGGER refuse_sessions BEFORE INSERT ON django_session "
        "FOR EACH ROW EXECUTE FUNCTION refuse_sessions()"],
}
_ALLOW_SESSIONS = {
    "sqlite": ["DROP TRIGGER refuse_sessions"],
    "postgresql": ["DROP TRIGGER refuse_sessions ON django_session",
                   "DROP FUNCTION refuse_sessions()"],
}


def test_a_case_is_never_stored_without_the_session_that_shows_its_code(city) -> None:
    """The tracking code is shown once, from the session: if the session cannot be
    written, the case is not stored either, and the resident can send it again."""
    _warm(city)
    before = Case.objects.count()
    with connection.cursor() as cursor:
        for sql in _REFUSE_SESSIONS[connection.vendor]:
            cursor.execute(sql)
    try:
        response = Client(raise_request_exception=False).post(
            reverse("resident:report"), _form(city))
    finally:
        with connection.cursor() as cursor:
            for sql in _ALLOW_SESSIONS[connection.vendor]:
                cursor.execute(sql)
    assert response.status_code == 500
    assert Case.objects.count() == before


def test_a_signed_in_residents_report_writes_no_session(city) -> None:
    """Their cases follow them by account, not by session: nothing in it changes."""
    _warm(city)
    browser = Client()
    browser.force_login(city["resident"])
    with CaptureQueriesContext(connection) as queries:
        response = browser.post(reverse("resident:report"), _form(city))
    assert response.status_code == 302
    assert Case.objects.order_by("-pk").first().reporter == city["resident"]
    assert [q["sql"] for q in queries.captured_queries
            if "django_session" in q["sql"] and not q["sql"].startswith("SELECT")] == []
