"""GET/POST /inbox: the resident's in-page notifications (Outbox rows, channel inbox)."""

from __future__ import annotations

import pytest

from linge.cases import workflow
from linge.notify.models import Channel, Outbox

pytestmark = pytest.mark.django_db


def test_inbox_lists_and_marks_read(client, city) -> None:
    case = workflow.submit(city["resident"], category=city.plain, grid=city.grid,
                           description="乱堆<b>x</b>").case
    workflow.accept(case, city["full_time"])
    rows = Outbox.objects.filter(recipient=city["resident"], channel=Channel.INBOX)
    assert rows.count() == 2
    assert client.get("/inbox")["Location"].startswith("/login")
    client.force_login(city["resident"])
    assert '<span class="badge">2</span>' in client.get("/mine").content.decode()
    page = client.get("/inbox").content.decode()
    assert "已受理" in page and page.count('class="unread"') == 2
    first = rows.order_by("created_at").first()
    client.post("/inbox", {"id": first.pk})
    assert rows.filter(read_at__isnull=True).count() == 1
    client.post("/inbox")
    assert rows.filter(read_at__isnull=True).count() == 0
    assert 'class="unread"' not in client.get("/inbox").content.decode()


def test_only_ones_own_messages(client, city) -> None:
    workflow.submit(city["resident"], category=city.plain, grid=city.grid, description="乱堆")
    client.force_login(city["other_resident"])
    assert "暂无消息" in client.get("/inbox").content.decode()
    client.post("/inbox")
    assert Outbox.objects.filter(recipient=city["resident"], read_at__isnull=False).count() == 0


def test_odd_ids_mark_nothing(client, city) -> None:
    workflow.submit(city["resident"], category=city.plain, grid=city.grid, description="乱堆")
    client.force_login(city["resident"])
    for odd in ("²", "9" * 30, "-1", "x"):
        assert client.post("/inbox", {"id": odd}).status_code == 302, odd
    assert Outbox.objects.filter(recipient=city["resident"], read_at__isnull=False).count() == 0
