"""POST /track: a tracking code opens an anonymous report in this session."""

from __future__ import annotations

import pytest

from linge.cases.models import State
from tests.resident.conftest import resolved_case

pytestmark = pytest.mark.django_db
XSS = "<script>alert(1)</script>"


def test_rating_by_tracking_code(client, city) -> None:
    done = resolved_case(city, anonymous=True)
    response = client.post("/track", {"code": done.tracking_code.lower()})
    assert response["Location"] == f"/c/{done.case.number}"
    page = client.get(response["Location"]).content.decode()
    assert 'name="rating"' in page
    client.post(f"/c/{done.case.number}/rate", {"rating": "unsatisfied", "comment": "还是脏"})
    done.case.refresh_from_db()
    assert done.case.state == State.ACCEPTED


def test_wrong_tracking_code(client, city) -> None:
    response = client.post("/track", {"code": "ABCDEFGHJK"})
    assert response.status_code == 400 and "查询码不正确" in response.content.decode()


def test_the_code_is_stored_as_a_keyed_digest(client, city, settings) -> None:
    import hashlib
    import hmac

    done = resolved_case(city, anonymous=True)
    code = done.tracking_code
    key = hashlib.sha256(f"{settings.SECRET_KEY}:linge.tracking".encode()).digest()
    stored = done.case.tracking_code_hash
    assert stored == hmac.new(key, code.encode(), hashlib.sha256).hexdigest()
    # A copy of the database cannot test guesses: the bare SHA-256 is not what is kept.
    assert stored != hashlib.sha256(code.encode()).hexdigest()
    # Under another secret the same code opens nothing.
    settings.SECRET_KEY = "another secret key of a different deployment " * 2
    assert client.post("/track", {"code": code}).status_code == 400


def test_a_case_from_before_keeps_its_code_and_is_rehashed(client, city) -> None:
    import hashlib

    from linge.cases.models import Case
    from linge.cases.workflow import hash_tracking_code

    done = resolved_case(city, anonymous=True)
    code = done.tracking_code
    # As a case made before this change was stored: the bare SHA-256 of the code.
    Case.objects.filter(pk=done.case.pk).update(
        tracking_code_hash=hashlib.sha256(code.encode()).hexdigest())
    response = client.post("/track", {"code": code})
    assert response["Location"] == f"/c/{done.case.number}"
    done.case.refresh_from_db()
    assert done.case.tracking_code_hash == hash_tracking_code(code)
    # And the old code keeps working after the rehash.
    assert fresh_visitor_tracks(code)["Location"] == f"/c/{done.case.number}"


def fresh_visitor_tracks(code: str):
    from django.test import Client

    return Client().post("/track", {"code": code})
