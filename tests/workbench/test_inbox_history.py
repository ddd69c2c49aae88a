"""/work/?tab=done over years of history: the done tab counts up to 1,000 (shown as
"1000+") and lists its newest 1,000; older cases are found by search or date. A count
past that would scan the whole history on every inbox (issue #13: flat to a million)."""

from __future__ import annotations

import re
from datetime import timedelta

from django.test import Client
from django.utils import timezone

from linge.cases.models import Case, State
from tests.conftest import City
from tests.workbench.conftest import login


def _closed(city: City, how_many: int) -> list[str]:
    """`how_many` closed cases in the grid worker's grid, one a day, newest first:
    their numbers in that order."""
    now = timezone.now()
    cases = [Case(number=f"19{i:08d}", source="open311", category=city.plain,
                  description=f"历史案件{i}", grid=city.grid, village=city.village,
                  town=city.town, owner_unit=city["full_time"].memberships.first().unit,
                  state=State.CLOSED, created_at=now - timedelta(days=i + 1),
                  updated_at=now - timedelta(days=i + 1))
             for i in range(how_many)]
    Case.objects.bulk_create(cases)
    return [c.number for c in cases]


def _tab(page: str, key: str) -> str:
    return re.search(rf'data-tab="{key}">(.*?)</a>', page).group(1)


def _numbers(page: str) -> list[str]:
    return re.findall(r'<li data-number="([^"]+)">', page)


def test_past_a_thousand_the_done_tab_says_so_and_lists_the_newest(
        client: Client, city: City) -> None:
    numbers = _closed(city, 1002)
    login(client, city["full_time"])
    first = client.get("/work/?tab=done").content.decode()
    assert _tab(first, "done") == '已办结<span class="n">1000+</span>'
    assert "超过 1000 件，列出最近的 1000 件 · 第 1/34 页" in first
    assert "更早办结的案件请搜索编号、描述或地址，或按上报日期筛选。" in first
    assert "符合条件的案件超过 1000 件，最多导出" in first
    assert _numbers(first) == numbers[:30]
    last = client.get("/work/?tab=done&page=34").content.decode()
    assert "第 34/34 页" in last
    assert _numbers(last) == numbers[990:1000]  # the 1,001st and 1,002nd are not listed
    beyond = client.get("/work/?tab=done&page=35").content.decode()
    assert _numbers(beyond) == numbers[990:1000]  # past the end: the last page
    # The other tabs show their count whatever the done tab's.
    assert _tab(first, "submitted") == '待受理<span class="n">0</span>'


def test_the_oldest_case_is_found_by_its_number(client: Client, city: City) -> None:
    numbers = _closed(city, 1002)
    login(client, city["full_time"])
    found = client.get(f"/work/?tab=done&q={numbers[-1]}").content.decode()
    assert _numbers(found) == [numbers[-1]]
    assert "共 1 件 · 第 1/1 页" in found and 'id="older"' not in found


def test_a_filtered_done_tab_is_capped_the_same_way(client: Client, city: City) -> None:
    numbers = _closed(city, 1001)
    login(client, city["full_time"])
    page = client.get(f"/work/?tab=done&category={city.plain.pk}").content.decode()
    assert _tab(page, "done") == '已办结<span class="n">1000+</span>'
    assert "超过 1000 件，列出最近的 1000 件 · 第 1/34 页" in page
    assert _numbers(page) == numbers[:30]


def test_a_thousand_exactly_is_counted_in_full(client: Client, city: City) -> None:
    _closed(city, 1000)
    login(client, city["full_time"])
    page = client.get("/work/?tab=done").content.decode()
    assert _tab(page, "done") == '已办结<span class="n">1000</span>'
    assert "共 1000 件 · 第 1/34 页" in page and 'id="older"' not in page
    assert "符合条件的案件共 1000 件" in page
