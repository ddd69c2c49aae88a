"""The grid team and the category tree are cached, and a change shows at once in the
process that made it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from linge.cases.models import Category
from linge.people.models import Duty, Membership, Unit, UnitKind
from linge.resident.qr import grid_qr_path
from tests.conftest import _person

pytestmark = pytest.mark.django_db


def test_the_grid_team_is_read_once_and_a_new_member_shows_at_once(client, city) -> None:
    client.get(grid_qr_path(city.grid.code))
    with CaptureQueriesContext(connection) as queries:
        assert client.get(grid_qr_path(city.grid.code)).status_code == 200
    assert not [q for q in queries.captured_queries if "people_membership" in q["sql"]]
    newcomer = _person("newcomer", "刘新来", phone="13800009999")
    team = Unit.objects.get(area=city.grid, kind=UnitKind.GRID_TEAM)
    Membership.objects.create(user=newcomer, unit=team, duty=Duty.PART_TIME)
    assert "刘新来" in client.get(grid_qr_path(city.grid.code)).content.decode()
    Membership.objects.filter(user=newcomer).get().delete()
    assert "刘新来" not in client.get(grid_qr_path(city.grid.code)).content.decode()


def test_the_category_tree_is_read_once_and_a_renamed_category_shows(client, city) -> None:
    client.get(reverse("resident:report"))
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("resident:report"))
    assert not [q for q in queries.captured_queries if "cases_category" in q["sql"]]
    leaf = Category.objects.get(pk=city.plain.pk)
    leaf.name = "乱堆乱放杂物"
    leaf.save()
    tree = client.get(reverse("resident:report")).context["categories"]
    assert [leaf.pk, "乱堆乱放杂物"] in tree[0]["c"]


def test_the_agenda_is_read_once_and_a_new_item_shows_at_once(client, city) -> None:
    from datetime import date

    from django.utils import timezone

    from linge.insights.models import Deliberation

    client.get(grid_qr_path(city.grid.code))
    with CaptureQueriesContext(connection) as queries:
        assert client.get(grid_qr_path(city.grid.code)).status_code == 200
    assert not [q for q in queries.captured_queries if "insights_deliberation" in q["sql"]]
    now = timezone.now()
    item = Deliberation.objects.create(
        village=city.village, title="村口停车难", meeting_on=date(2026, 11, 20),
        outcome="划定临时停车位", created_by=city["grid_leader"], created_at=now, updated_at=now)
    assert "村口停车难" in client.get(grid_qr_path(city.grid.code)).content.decode()
    item.delete()
    assert "村口停车难" not in client.get(grid_qr_path(city.grid.code)).content.decode()


def test_the_grid_page_reads_its_grid_once_and_a_renamed_grid_shows(client, city) -> None:
    client.get(grid_qr_path(city.grid.code))
    with CaptureQueriesContext(connection) as queries:
        assert client.get(grid_qr_path(city.grid.code)).status_code == 200
    assert not [q for q in queries.captured_queries if "areas_area" in q["sql"]]
    city.grid.name = "上墩村第一网格"
    city.grid.save()
    village = city.grid.parent
    village.name = "上墩社区"
    village.save()
    page = client.get(grid_qr_path(city.grid.code)).content.decode()
    assert "上墩村第一网格" in page and "上墩社区" in page
