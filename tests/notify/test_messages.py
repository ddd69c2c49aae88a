"""notify/messages.py: who is told what, in the site's language."""

from __future__ import annotations

from django.utils import translation

from linge.cases import workflow
from linge.notify.models import Channel, Outbox
from tests.conftest import City


def test_messages_are_in_the_site_language_whatever_the_page(city: City) -> None:
    case = workflow.submit(city["resident"], category=city.plain, grid=city.grid,
                           description="路灯不亮").case
    with translation.override("en"):  # the grid worker reads the workbench in English
        workflow.accept(case, city["full_time"])
    told = Outbox.objects.get(recipient=city["resident"], channel=Channel.INBOX,
                              kind="accept")
    assert told.text.startswith("您反映的问题") and "已受理" in told.text
    staff = Outbox.objects.filter(channel=Channel.INBOX, kind="accept").exclude(
        recipient=city["resident"])
    assert all("案件" in row.text for row in staff)
