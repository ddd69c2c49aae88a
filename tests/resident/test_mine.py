"""GET /mine: the cases the resident reported or supported."""

from __future__ import annotations

import pytest

from linge.cases import workflow
from tests.resident.conftest import resolved_case

pytestmark = pytest.mark.django_db
XSS = "<script>alert(1)</script>"


def test_my_cases_lists_reported_and_supported(client, city) -> None:
    mine = resolved_case(city).case
    theirs = workflow.submit(city["other_resident"], category=city.plain, grid=city.grid,
                             description="乱堆").case
    workflow.add_support(theirs, city["resident"])
    hidden = workflow.submit(city["other_resident"], category=city.plain, grid=city.grid,
                             description="别人的").case
    client.force_login(city["resident"])
    page = client.get("/mine").content.decode()
    assert mine.number in page and theirs.number in page and hidden.number not in page
    assert "&lt;script&gt;" in page and XSS not in page


def test_a_caller_follows_their_12345_case_after_logging_in(client, city) -> None:
    from linge.cases.models import Source
    from linge.people.roles import SYSTEM

    call = workflow.submit(SYSTEM, category=city.plain, grid=city.grid, description="来电反映路灯坏",
                           source=Source.HOTLINE, reporter_phone=city["resident"].phone).case
    other = workflow.submit(SYSTEM, category=city.plain, grid=city.grid, description="别人来电",
                            source=Source.HOTLINE, reporter_phone="13700000077").case
    client.force_login(city["resident"])  # logged in with the phone the caller used
    page = client.get("/mine").content.decode()
    assert call.number in page and other.number not in page
    assert client.get(f"/c/{call.number}").status_code == 200
    assert client.get(f"/c/{other.number}").status_code == 404
    workflow.accept(call, city["full_time"])
    workflow.resolve(call, city["full_time"], note="已修复")
    workflow.rate(call, city["resident"], rating="satisfied")
    call.refresh_from_db()
    assert call.rating == "satisfied"


def test_a_call_older_than_a_year_is_not_opened_by_the_phone(client, city) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from linge.cases.models import Source
    from linge.people.roles import SYSTEM

    old = workflow.submit(SYSTEM, category=city.plain, grid=city.grid, description="旧来电",
                          source=Source.HOTLINE, reporter_phone=city["resident"].phone,
                          now=timezone.now() - timedelta(days=400)).case
    client.force_login(city["resident"])
    assert old.number not in client.get("/mine").content.decode()
    assert client.get(f"/c/{old.number}").status_code == 404


def test_mine_shows_rework_and_plain_states(client, city) -> None:
    from linge.cases import workflow

    reworked = workflow.submit(city["resident"], category=city.plain, grid=city.grid,
                               description="路灯不亮").case
    waiting = workflow.submit(city["resident"], category=city.plain, grid=city.grid,
                              description="井盖松动").case
    workflow.accept(reworked, city["full_time"])
    workflow.resolve(reworked, city["full_time"], note="换灯泡", reply="已更换灯泡")
    workflow.rate(reworked, city["resident"], rating="unsatisfied", comment="还是不亮")
    workflow.accept(waiting, city["full_time"])
    workflow.escalate(waiting, city["full_time"], reason="需供电所处理")
    client.force_login(city["resident"])
    page = client.get("/mine").content.decode()
    rows = {c.number: next(li for li in page.split("<li>") if f"/c/{c.number}" in li)
            for c in (reworked, waiting)}
    assert "返工" in rows[reworked.number] and "网格办理中" in rows[reworked.number]
    assert "返工" not in rows[waiting.number] and "已上报镇街" in rows[waiting.number]
    assert "待派遣" not in page
