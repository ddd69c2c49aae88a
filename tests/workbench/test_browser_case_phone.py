"""The grid worker's phone (Chromium at 360 px): the case page's phone numbers call,
the map shows the grid with a pin big enough to see and a 导航 link to the phone's map
app; merging picks the original from a list of open cases of the same category
nearby; a reworked case carries 返工 in the inbox."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from linge.cases import workflow
from linge.cases.models import Case, State
from tests.conftest import City
from tests.workbench.test_browser_chains import act, open_case, staff_page

pytestmark = pytest.mark.browser


def _report(city: City, who: str, text: str, lon: float, lat: float, address: str) -> Case:
    return workflow.submit(city[who], category=city.plain, grid=city.grid, description=text,
                           lon=lon, lat=lat, address=address).case


def test_case_page_calls_and_navigates(live_server, browser, city: City) -> None:
    case = _report(city, "resident", "路口井盖松动", 121.3042, 28.3071, "上墩村中心路口")
    context, page = staff_page(browser, live_server, "full_time")
    open_case(page, live_server, case)
    assert page.get_attribute("#reporter-phone", "href") == "tel:13900000001"

    box = page.locator("svg.map").bounding_box()
    assert box["width"] >= 300  # the grid fills the phone's width, not a 240 px stamp
    pin = page.locator("#pin").bounding_box()
    assert pin["height"] >= 30  # a pin a thumb can see
    # The pin lies inside the drawn grid.
    grid = page.locator("svg.map polygon").bounding_box()
    assert grid["x"] <= pin["x"] + pin["width"] / 2 <= grid["x"] + grid["width"]

    amap = urlparse(page.get_attribute("#navigate", "href"))
    query = parse_qs(amap.query)
    assert amap.netloc == "uri.amap.com" and query["position"] == ["121.304200,28.307100"]
    assert query["coordinate"] == ["wgs84"] and query["name"] == ["上墩村中心路口"]
    assert page.get_attribute("#navigate-geo", "href").startswith("geo:28.307100,121.304200?q=")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    context.close()


def test_merge_from_a_list_and_rework_mark(live_server, browser, city: City) -> None:
    original = _report(city, "other_resident", "中心路口井盖松动，车过哐哐响", 121.3042, 28.3071,
                       "上墩村中心路口")
    far = _report(city, "other_resident", "村西井盖缺失", 121.3090, 28.3010, "上墩村西头")
    duplicate = _report(city, "resident", "路口井盖松动", 121.3043, 28.3071, "中心路口东侧")
    context, page = staff_page(browser, live_server, "full_time")
    open_case(page, live_server, duplicate)
    box = page.locator("details[data-action=merge]")
    box.locator("summary").click()
    options = box.locator("select[name=into] option").all_inner_texts()
    # Nearest first, with the distance and state to tell them apart.
    assert options[1].startswith(f"{original.number} · 上墩村中心路口 · 相距 10 米")
    assert options[2].startswith(f"{far.number} · 上墩村西头")
    box.locator("select[name=into]").select_option(original.number)
    box.locator("button[type=submit]").click()
    page.wait_for_load_state()
    duplicate.refresh_from_db()
    assert duplicate.state == State.MERGED and duplicate.merged_into == original
    assert original.number in page.inner_text("#merged-into")
    page.click("#merged-into a")
    page.wait_for_url(f"{live_server.url}/work/case/{original.number}/")
    assert duplicate.number in page.inner_text("#merged-cases")

    # Resolved, rated 不满意 by its reporter: back in the inbox marked 返工.
    act(page, "accept")
    act(page, "resolve", {"note": "已紧固", "reply": "井盖已紧固"})
    workflow.rate(original, city["other_resident"], rating="unsatisfied", comment="还在响")
    page.goto(live_server.url + "/work/?tab=doing")
    row = page.locator(f"li[data-number='{original.number}']")
    assert "返工" in row.inner_text()
    assert page.locator(f"li[data-number='{far.number}'] .rework").count() == 0
    context.close()
