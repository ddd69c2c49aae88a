"""Picking the grid on the 12345 and 上级交办 forms: GET /work/new/<source>/grids searches
the grids that form may file into by town, village, an address naming them, a grid
code or a position; in Chromium the dispatcher types and the list narrows."""

from __future__ import annotations

import pytest
from django.test import Client

from linge.cases.models import Case, Source
from tests.browser import wait_until
from tests.conftest import PASSWORD, City
from tests.workbench.conftest import login


def names(client: Client, source: str = "hotline", **params) -> list[str]:
    response = client.get(f"/work/new/{source}/grids", params)
    assert response.status_code == 200
    return [g["name"] for g in response.json()["grids"]]


@pytest.mark.django_db
def test_search_by_village_address_code_and_position(client: Client, city: City) -> None:
    login(client, city["dispatcher"])  # 温峤镇: three grids in two villages
    assert names(client, q="上墩村") == ["温峤镇 上墩村 上墩村第1网格", "温峤镇 上墩村 上墩村第2网格"]
    # An address as the caller says it: the village named in it finds its grids.
    assert names(client, q="温峤镇下墩村菜场门口") == ["温峤镇 下墩村 下墩村第1网格"]
    assert names(client, q="331081107001002") == ["温峤镇 上墩村 上墩村第2网格"]
    assert names(client, q="121.315,28.305") == ["温峤镇 上墩村 上墩村第2网格"]
    assert names(client, q="28.305, 121.325") == ["温峤镇 下墩村 下墩村第1网格"]
    assert names(client, lon="121.305", lat="28.305") == ["温峤镇 上墩村 上墩村第1网格"]
    # Only what this dispatcher may file into: not another town's grids.
    assert names(client, q="东门社区") == []
    assert names(client, q="121.355,28.355") == []
    assert names(client, q="") == [] and names(client, q="<script>") == []
    # A NUL is refused before any view sees it (linge.guard).
    assert client.get("/work/new/hotline/grids", {"q": "\x00"}).status_code == 400


@pytest.mark.django_db
def test_search_is_for_those_who_may_file(client: Client, city: City) -> None:
    login(client, city["part_time"])
    assert client.get("/work/new/hotline/grids", {"q": "上墩村"}).status_code == 403
    assert client.get("/work/new/nonsense/grids", {"q": "上墩村"}).status_code == 404
    client.logout()
    assert client.get("/work/new/hotline/grids", {"q": "上墩村"}).status_code == 302
    login(client, city["leader"])  # the whole city, 上级交办
    assert len(names(client, "higher", q="网格")) == 4
    assert names(client, "higher", q="东门社区") == ["太平街道 东门社区 东门社区第1网格"]


@pytest.mark.browser
def test_dispatcher_finds_the_grid_by_what_the_caller_says(live_server, browser,
                                                            city: City) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 800}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(live_server.url + "/work/login/")
    page.fill("#id_username", "dispatcher")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/work/")
    page.goto(live_server.url + "/work/new/hotline/")
    assert page.locator("#id_grid option").count() == 4  # ---- and three grids
    page.fill("#grid-search", "下墩村菜场门口")
    wait_until(page, "document.querySelectorAll('#id_grid option').length === 1")
    assert page.inner_text("#grid-found") == "找到 1 个网格，已列在下面"
    assert "下墩村第1网格" in page.locator("#id_grid option:checked").inner_text()
    page.select_option("#id_category", label="市容环境 / 乱堆物堆料")
    page.fill("#id_description", "菜场门口堆满纸箱")
    page.fill("#id_caller_phone", "13911112222")
    page.click("form.card button[type=submit]")
    page.wait_for_selector("#readback")
    case = Case.objects.get()
    assert case.source == Source.HOTLINE and case.grid == city.other_village_grid
    # An emptied box brings the whole list back.
    page.fill("#grid-search", "东门")
    page.wait_for_selector("#grid-found:has-text('没有找到')")
    page.fill("#grid-search", "")
    wait_until(page, "document.querySelectorAll('#id_grid option').length === 4")
    context.close()
