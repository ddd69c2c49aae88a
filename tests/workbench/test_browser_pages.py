"""Chromium on the register, hot issues and a desktop-sized inbox: screenshots for the guides."""

from __future__ import annotations

import pytest

from linge.visits import households
from linge.visits.models import Household, Visit
from tests.browser import screenshot, wait_until
from tests.conftest import City
from tests.visits.test_import import GOOD
from tests.workbench.test_browser_chains import staff_page
from tests.workbench.test_hot import make_hotspot

pytestmark = pytest.mark.browser


def test_visit_that_finds_a_case(live_server, browser, city: City) -> None:
    households.import_csv(city.grid, GOOD.encode())
    house = Household.objects.get(address="上墩村1号")
    ctx, page = staff_page(browser, live_server, "part_time")
    page.goto(f"{live_server.url}/work/visits/grid/{city.grid.pk}/")
    assert "上墩村2号" in page.inner_text("main")
    screenshot(page, "workbench-visits-grid")
    page.goto(f"{live_server.url}/work/visits/household/{house.pk}/")
    page.fill("#id_note", "老人独居，屋顶漏雨")
    page.check("#id_found_problem")
    page.select_option("#id_category", label="市容环境 / 乱堆物堆料")
    page.fill("#id_problem", "院内杂物堆积，存在火灾隐患")
    page.click("form.card button[type=submit]")
    page.wait_for_load_state()
    assert "发现的问题编号" in page.inner_text(".msg.success")
    screenshot(page, "workbench-visit-logged")
    assert Visit.objects.get().case is not None
    ctx.close()


def test_hot_issues_and_desktop_inbox(live_server, browser, city: City) -> None:
    make_hotspot(city)
    ctx, page = staff_page(browser, live_server, "village_staff")
    page.goto(f"{live_server.url}/work/hot/")
    assert "露天焚烧" in page.inner_text("#clusters")
    screenshot(page, "workbench-hot")
    ctx.close()
    ctx, page = staff_page(browser, live_server, "leader")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/work/?tab=overdue")
    assert page.locator("ul.cases li").count() >= 1
    screenshot(page, "workbench-inbox-leader-desktop")
    ctx.close()


def test_the_open_tab_stays_in_sight_on_a_phone(live_server, browser, city: City) -> None:
    ctx, page = staff_page(browser, live_server, "full_time")  # 360 px wide
    page.goto(f"{live_server.url}/work/?tab=done")
    wait_until(page, "document.querySelector('.tabs').scrollLeft > 0")
    box = page.locator(".tabs a.on").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360
    ctx.close()


def test_a_patrol_report_from_the_phone(live_server, browser, city: City, media,
                                        tmp_path) -> None:
    from linge.cases.models import Case
    from tests.resident.conftest import write_jpeg

    ctx, page = staff_page(browser, live_server, "full_time")
    ctx.grant_permissions(["geolocation"], origin=live_server.url)
    ctx.set_geolocation({"longitude": 121.3052, "latitude": 28.3057})
    page.goto(f"{live_server.url}/work/new/patrol/")
    page.select_option("#id_grid", str(city.grid.pk))
    page.select_option("#id_category", str(city.plain.pk))
    page.fill("#id_description", "巡查发现路边堆放建筑垃圾")
    page.set_input_files("#photos", str(write_jpeg(tmp_path / "scene.jpg")))
    page.click("#locate")
    wait_until(page, "document.getElementById('id_lon').value !== ''")
    assert "已记录当前位置" in page.inner_text("#located")
    screenshot(page, "workbench-patrol")
    page.click("form.card button[type=submit]")
    page.wait_for_url(f"{live_server.url}/work/case/**")
    case = Case.objects.get()
    assert (case.lon, case.lat) == (121.3052, 28.3057)
    assert case.attachments.count() == 1 and case.source == "patrol"
    ctx.close()
