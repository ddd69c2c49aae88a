"""Whoever followed a case that was merged follows the case it was merged into: the
anonymous reporter by tracking code, the 12345 caller by phone, the reporter and
supporters by account. Only the target's own reporter rates it."""

from __future__ import annotations

import pytest

from linge.cases import workflow
from linge.cases.models import Source, State
from linge.notify.models import Channel, Outbox
from tests.resident.conftest import last_code

pytestmark = pytest.mark.django_db


def _pair(city, **second):
    first = workflow.submit(city["other_resident"], category=city.plain, grid=city.grid,
                            description="上墩村12号门口堆满建筑垃圾", lon=121.305, lat=28.305,
                            address="上墩村12号").case
    kwargs = {"category": city.plain, "grid": city.grid, "description": "12号门口一堆砖头",
              "lon": 121.3051, "lat": 28.3051}
    kwargs.update(second)
    return first, kwargs


def _merge(city, duplicate, target):
    workflow.accept(target, city["full_time"])
    workflow.merge(duplicate, city["full_time"], into=target, note="同一堆垃圾")
    duplicate.refresh_from_db()
    target.refresh_from_db()


def test_tracking_code_holder_follows_the_target(client, city) -> None:
    target, kwargs = _pair(city)
    done = workflow.submit(city["resident"], anonymous=True, **kwargs)
    duplicate = done.case
    client.post("/track", {"code": done.tracking_code})
    _merge(city, duplicate, target)

    page = client.get(f"/c/{duplicate.number}").content.decode()
    assert "已合并办理" in page  # the plain state
    assert f'href="/c/{target.number}"' in page  # names and links its target

    response = client.get(f"/c/{target.number}")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="merged-from"' in page and duplicate.number in page
    # Not this case's reporter: no rating, and not the target reporter's own words.
    assert 'name="rating"' not in page
    assert "上墩村12号门口堆满建筑垃圾" not in page
    assert "网格办理中" in page

    # /mine lists both.
    mine = client.get("/mine").content.decode()
    assert target.number in mine and duplicate.number in mine

    # Once resolved, only the target's reporter may rate it.
    workflow.resolve(target, city["full_time"], note="已清运", reply="建筑垃圾已清运")
    page = client.get(f"/c/{target.number}").content.decode()
    assert "建筑垃圾已清运" in page and 'name="rating"' not in page
    refused = client.post(f"/c/{target.number}/rate", {"rating": "satisfied"})
    assert refused.status_code == 400
    target.refresh_from_db()
    assert target.state == State.RESOLVED


def test_a_stranger_still_gets_404(client, city) -> None:
    target, kwargs = _pair(city)
    duplicate = workflow.submit(city["resident"], anonymous=True, **kwargs).case
    _merge(city, duplicate, target)
    assert client.get(f"/c/{target.number}").status_code == 404
    assert client.get(f"/c/{duplicate.number}").status_code == 404


def test_caller_follows_the_target_and_hears_of_it(client, city) -> None:
    target, kwargs = _pair(city)
    call = workflow.submit(city["dispatcher"], source=Source.HOTLINE, reporter_phone="13911112222",
                           **kwargs).case
    _merge(city, call, target)
    sms = Outbox.objects.filter(phone="13911112222", channel=Channel.SMS).order_by("pk")
    assert "已合并办理" in sms.last().text and sms.last().link == f"/c/{call.number}"

    client.post("/login", {"phone": "13911112222", "action": "send"})
    client.post("/login", {"phone": "13911112222", "code": last_code("13911112222")})
    page = client.get(f"/c/{call.number}").content.decode()
    assert f'href="/c/{target.number}"' in page
    page = client.get(f"/c/{target.number}").content.decode()
    assert 'id="merged-from"' in page and 'name="rating"' not in page
    assert target.number in client.get("/mine").content.decode()

    # The target's progress reaches the caller by SMS too.
    workflow.resolve(target, city["full_time"], note="已清运", reply="建筑垃圾已清运")
    assert "建筑垃圾已清运" in sms.last().text and sms.last().link == f"/c/{target.number}"


def test_target_reporter_still_rates(client, city) -> None:
    target, kwargs = _pair(city)
    duplicate = workflow.submit(city["resident"], **kwargs).case
    _merge(city, duplicate, target)
    workflow.resolve(target, city["full_time"], note="已清运", reply="建筑垃圾已清运")
    client.force_login(city["other_resident"])
    page = client.get(f"/c/{target.number}").content.decode()
    assert 'name="rating"' in page and 'id="merged-from"' not in page
    # The duplicate's reporter became a supporter and follows the target, without rating.
    client.force_login(city["resident"])
    page = client.get(f"/c/{target.number}").content.decode()
    assert 'id="merged-from"' in page and 'name="rating"' not in page
