"""The language switch in Chromium: Chinese first, English on request, at 360 px."""

from __future__ import annotations

import pytest

from linge.resident.qr import grid_qr_path
from tests.browser import screenshot

pytestmark = pytest.mark.browser


def test_switch_to_english_and_back(live_server, page, city) -> None:
    page.goto(live_server.url + grid_qr_path(city.grid.code))
    assert page.locator("#report").inner_text() == "我要反映问题"
    page.click("button[value=en]")
    page.wait_for_selector("html[lang=en]")
    assert page.locator("#report").inner_text() == "Report a problem"
    page.click("#report")
    page.wait_for_selector("html[data-ready]")
    assert "Use my location" in page.inner_text("main")
    # Nothing wider than the phone's screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "resident-report-en")
    page.click("button[value=zh-hans]")
    page.wait_for_selector("html[lang=zh-hans]")
    assert "使用我的位置" in page.inner_text("main")
