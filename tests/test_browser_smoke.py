"""The browser harness itself: Chromium renders the home page from the live server."""

import pytest

pytestmark = pytest.mark.browser


def test_home_page_in_chromium(live_server, page) -> None:
    page.goto(live_server.url + "/")
    assert page.locator("h1").inner_text() == "岭格"
    assert page.evaluate("document.documentElement.lang") == "zh-hans"
