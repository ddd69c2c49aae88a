"""linge.sessions: one statement per write, none when nothing changed, and a session
written inside a transaction that rolled back is written again.

Run outside a test transaction (transaction=True): what is checked is what a commit
and a rollback do, which a test wrapped in its own transaction never sees.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.models import Session
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from linge.sessions import SessionStore

pytestmark = pytest.mark.django_db(transaction=True)


def _writes(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if "django_session" in q["sql"]]


def _stored(key: str) -> dict:
    return SessionStore(key).load()


class Rollback(Exception):
    pass


def test_a_new_session_is_one_insert() -> None:
    session = SessionStore()
    session["tracked"] = [7]
    with CaptureQueriesContext(connection) as queries:
        session.save()
    assert [s.split()[0] for s in _writes(queries)] == ["INSERT"]
    assert len(queries.captured_queries) == 1  # no look-up of the key, no BEGIN/COMMIT
    assert _stored(session.session_key) == {"tracked": [7]}


def test_saving_what_was_just_saved_writes_nothing() -> None:
    session = SessionStore()
    session["tracked"] = [7]
    session.save()
    with CaptureQueriesContext(connection) as queries:
        session["tracked"] = [7]  # set again, the same
        session.save()
    assert _writes(queries) == []
    session["tracked"] = [7, 8]
    with CaptureQueriesContext(connection) as queries:
        session.save()
    assert [s.split()[0] for s in _writes(queries)] == ["UPDATE"]
    assert _stored(session.session_key) == {"tracked": [7, 8]}


def test_a_change_inside_a_saved_list_is_written() -> None:
    """The data remembered as written is a copy: changing a list in place is a change."""
    session = SessionStore()
    session["tracked"] = [7]
    session.save()
    session["tracked"].append(8)
    session.save()
    assert _stored(session.session_key) == {"tracked": [7, 8]}


def test_a_session_written_in_a_committed_transaction_is_not_written_again() -> None:
    session = SessionStore()
    session["tracked"] = [7]
    with transaction.atomic():
        session.save()
    with CaptureQueriesContext(connection) as queries:
        session.save()
    assert _writes(queries) == []
    assert _stored(session.session_key) == {"tracked": [7]}


def test_a_session_written_in_a_rolled_back_transaction_is_written_again() -> None:
    session = SessionStore()
    session["tracked"] = [7]
    with pytest.raises(Rollback), transaction.atomic():
        session.save()
        raise Rollback
    key = session.session_key
    assert not Session.objects.filter(session_key=key).exists()
    session.save()  # as the session middleware does at the end of the request
    assert session.session_key == key
    assert _stored(key) == {"tracked": [7]}


def test_an_existing_session_rolled_back_keeps_its_row_and_gets_the_new_data() -> None:
    session = SessionStore()
    session["tracked"] = [7]
    session.save()
    session["tracked"] = [7, 8]
    with pytest.raises(Rollback), transaction.atomic():
        session.save()
        raise Rollback
    assert _stored(session.session_key) == {"tracked": [7]}
    session.save()
    assert _stored(session.session_key) == {"tracked": [7, 8]}


def test_a_taken_key_is_drawn_again_without_breaking_the_callers_transaction() -> None:
    first = SessionStore()
    first["who"] = "first"
    first.save()
    second = SessionStore()
    second["who"] = "second"
    drawn = iter([first.session_key, "k" * 32])
    second._get_new_session_key = lambda: next(drawn)
    with transaction.atomic():
        second.save()
        # PostgreSQL refuses every statement of a transaction after a failed one.
        assert Session.objects.count() == 2
    assert second.session_key == "k" * 32
    assert _stored(first.session_key) == {"who": "first"}
    assert _stored("k" * 32) == {"who": "second"}


def test_updating_a_session_whose_row_is_gone_fails_as_djangos_does() -> None:
    session = SessionStore()
    session["tracked"] = [7]
    session.save()
    Session.objects.filter(session_key=session.session_key).delete()
    session["tracked"] = [8]
    with pytest.raises(UpdateError):
        session.save()


def test_two_saves_in_one_transaction_remember_the_second() -> None:
    session = SessionStore()
    session["tracked"] = [7]
    with transaction.atomic():
        session.save()
        session["tracked"] = [7, 8]
        session.save()
    session["tracked"] = [7]  # back to the first: the row holds [7, 8], so write it
    session.save()
    assert _stored(session.session_key) == {"tracked": [7]}


def test_a_save_in_a_savepoint_rolled_back_inside_a_committed_transaction() -> None:
    session = SessionStore()
    session["tracked"] = [7]
    with transaction.atomic():
        with pytest.raises(Rollback), transaction.atomic():
            session.save()
            raise Rollback
    assert not Session.objects.filter(session_key=session.session_key).exists()
    session.save()
    assert _stored(session.session_key) == {"tracked": [7]}


def test_true_is_not_one() -> None:
    """Equal in Python, different once stored: the change is written."""
    session = SessionStore()
    session["flag"] = 1
    session.save()
    session["flag"] = True
    session.save()
    assert _stored(session.session_key)["flag"] is True


def test_reload_reads_what_another_request_wrote() -> None:
    mine = SessionStore()
    mine["tracked"] = [7]
    mine.save()
    other = SessionStore(mine.session_key)
    other["tracked"] = [7, 8]
    other.save()
    mine.reload()
    assert mine["tracked"] == [7, 8]
    with CaptureQueriesContext(connection) as queries:
        mine.save()  # what it read is what is stored: nothing to write back
    assert _writes(queries) == []


def test_an_expired_session_is_not_read() -> None:
    store = SessionStore()
    store["tracked"] = [7]
    store.create()
    assert _stored(store.session_key) == {"tracked": [7]}
    Session.objects.filter(session_key=store.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1))
    again = SessionStore(store.session_key)
    assert again.load() == {} and again.session_key is None
