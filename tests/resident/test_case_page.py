"""GET /c/<number> and POST /c/<number>/rate: timeline in plain words, photos, rating."""

from __future__ import annotations

import pytest

from linge.cases import workflow
from linge.cases.models import Rating, State
from tests.resident.conftest import resolved_case

pytestmark = pytest.mark.django_db
XSS = "<script>alert(1)</script>"


def test_timeline_in_plain_words_with_masked_names(client, city) -> None:
    case = resolved_case(city).case
    client.force_login(city["resident"])
    page = client.get(f"/c/{case.number}").content.decode()
    assert "专职网格员 李** 已受理" in page and "专职网格员 李** 已办结：已清运" in page
    assert "李专职" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and XSS not in page
    assert page.count("/p/") == 4  # two thumbnails, each linking to the full photo
    assert 'name="rating"' in page


def test_other_residents_do_not_see_the_case(client, city) -> None:
    case = resolved_case(city).case
    client.force_login(city["other_resident"])
    assert client.get(f"/c/{case.number}").status_code == 404
    assert client.post(f"/c/{case.number}/rate", {"rating": "satisfied"}).status_code == 404


def test_unsatisfied_reopens(client, city) -> None:
    case = resolved_case(city).case
    client.force_login(city["resident"])
    response = client.post(f"/c/{case.number}/rate", {"rating": "unsatisfied",
                                                      "comment": f"没清干净 {XSS}"})
    assert response.status_code == 302 and response["Location"].endswith("?reopened=1")
    case.refresh_from_db()
    assert case.state == State.ACCEPTED and case.rework_count == 1
    page = client.get(response["Location"]).content.decode()
    assert "已退回重新办理" in page and "&lt;script&gt;" in page and XSS not in page
    assert 'name="rating"' not in page


def test_satisfied_closes(client, city) -> None:
    case = resolved_case(city).case
    client.force_login(city["resident"])
    client.post(f"/c/{case.number}/rate", {"rating": "satisfied"})
    case.refresh_from_db()
    assert case.state == State.CLOSED and case.rating == Rating.SATISFIED
    assert client.post(f"/c/{case.number}/rate", {"rating": "basic"}).status_code == 400


def test_a_suspended_case_shows_no_stale_deadline(client, city) -> None:
    case = workflow.submit(city["resident"], category=city.plain, grid=city.grid,
                           description="路灯不亮").case
    client.force_login(city["resident"])
    assert "办理期限" in client.get(f"/c/{case.number}").content.decode()
    workflow.accept(case, city["full_time"])
    workflow.suspend(case, city["grid_leader"], reason="等待供电公司排期")
    assert "办理期限" not in client.get(f"/c/{case.number}").content.decode()


def test_the_reply_and_after_photos_come_before_the_rating(client, city) -> None:
    """The resident reads what was done (the reply, not the internal note) before rating."""
    case = resolved_case(city).case
    CaseEvent = case.events.model
    event = CaseEvent.objects.filter(case=case, action="resolve").get()
    assert event.data["note"] == "已派车清运" and event.data["reply"] == "已清运"
    client.force_login(city["resident"])
    page = client.get(f"/c/{case.number}").content.decode()
    assert "已派车清运" not in page  # the internal note stays with the staff
    assert page.index('id="reply"') < page.index('name="rating"')
    assert page.index("处置后的照片") < page.index('name="rating"')
