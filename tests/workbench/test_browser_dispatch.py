"""The town dispatcher at 1366 px: the dispatch form offers the units of the category's
lane first, the town's own office ready to send; another lane's case suggests its
own lane's unit."""

from __future__ import annotations

import pytest

from linge.cases import workflow
from linge.cases.models import Category, State, TimeUnit
from tests.conftest import PASSWORD, City

pytestmark = pytest.mark.browser
CHOSEN = "s => s.options[s.selectedIndex].text"


def _escalated(city: City, category) -> object:
    case = workflow.submit(city["resident"], category=category, grid=city.grid,
                           description="店门口占道经营，货物摆到了人行道上").case
    workflow.accept(case, city["full_time"])
    workflow.escalate(case, city["full_time"], reason="网格劝导无效")
    return case


def test_dispatch_suggests_the_lane_unit(live_server, browser, city: City) -> None:
    market = Category.objects.create(
        code="0502", name="店外经营", parent=city.category.parent, lane=city.lanes["shichang"],
        accept_within=2, accept_unit=TimeUnit.WORK_HOURS, resolve_within=4,
        resolve_unit=TimeUnit.WORK_HOURS)
    litter = _escalated(city, city.plain)  # 综合执法
    shop = _escalated(city, market)  # 市场监管
    context = browser.new_context(viewport={"width": 1366, "height": 800}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(live_server.url + "/work/login/")
    page.fill("#id_username", "dispatcher")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/work/")

    page.goto(f"{live_server.url}/work/case/{litter.number}/")
    box = page.locator("details[data-action=dispatch]")
    if box.get_attribute("open") is None:
        box.locator("summary").click()
    options = box.locator("select[name=unit] option").all_inner_texts()
    assert options[1:3] == ["温峤镇综合执法队（综合执法）", "市综合行政执法局（综合执法）"]
    assert box.locator("select[name=unit]").evaluate(CHOSEN) == "温峤镇综合执法队（综合执法）"
    box.locator("button[type=submit]").click()
    page.wait_for_load_state()
    litter.refresh_from_db()
    assert litter.state == State.DISPATCHED and litter.dispatched_unit == city.office

    page.goto(f"{live_server.url}/work/case/{shop.number}/")
    box = page.locator("details[data-action=dispatch]")
    assert box.locator("select[name=unit]").evaluate(CHOSEN) == "市市场监督管理局（市场监管）"
    context.close()
