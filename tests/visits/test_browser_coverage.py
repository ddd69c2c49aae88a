"""A city leader at 1366 px walks the visit coverage down: the towns with their sums,
a town's villages, a village's grids, then the grid's register."""

from __future__ import annotations

import pytest

from linge.areas.models import Area, Level
from linge.demo.register import build_register
from tests.conftest import PASSWORD, City

pytestmark = pytest.mark.browser


def test_leader_drills_down_the_coverage(live_server, browser, city: City) -> None:
    build_register(Area.objects.filter(level=Level.GRID).select_related("parent"), seed=3)
    context = browser.new_context(viewport={"width": 1366, "height": 800}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(live_server.url + "/work/login/")
    page.fill("#id_username", "leader")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/cockpit/")  # a leader lands on the cockpit
    page.goto(live_server.url + "/work/visits/")
    assert "4 个网格 · 名册 1150 户 · 已走访 0 户 · 走访 0 次" in page.inner_text("#total")
    town = page.locator(f"#coverage li[data-code='{city.town.code}']")
    assert "3 个网格 · 名册 750 户" in town.inner_text()
    town.locator("a").click()
    page.wait_for_url(f"**area={city.town.code}**")
    assert page.inner_text("#trail").endswith("温峤镇")
    page.locator(f"#coverage li[data-code='{city.village.code}'] a").click()
    page.wait_for_url(f"**area={city.village.code}**")
    assert "上墩村第1网格" in page.inner_text("#coverage")
    assert "名册 300 户" in page.inner_text(f"#coverage li[data-code='{city.grid.code}']")
    page.locator(f"#coverage li[data-code='{city.grid.code}'] a").click()
    page.wait_for_url(f"**/work/visits/grid/{city.grid.pk}/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    context.close()
