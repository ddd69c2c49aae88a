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
