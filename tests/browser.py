"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live server.

Use the `page` fixture (and `live_server`). Without /usr/bin/chromium the tests are
skipped with a plain message — except under CI, where a missing browser fails.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("LINGE_CHROMIUM", "") or shutil.which("chromium") or "/usr/bin/chromium"
# Tests write only under build folders: `make screenshots` copies these into docs/screenshots/
# for the user guides.
SCREENSHOTS = Path(__file__).resolve().parents[1] / "var" / "test" / "screenshots"


def chromium_available() -> bool:
    return Path(CHROMIUM).exists()


@pytest.fixture(scope="session")
def browser() -> Iterator:
    if not chromium_available():
        if os.environ.get("CI"):
            pytest.fail(f"Chromium not found at {CHROMIUM} and CI is set")
        pytest.skip(f"SKIPPED browser tests: no Chromium at {CHROMIUM} (apt-get install chromium)")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser) -> Iterator:
    """A phone-sized page (360 × 740), Chinese first."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN",
                                  device_scale_factor=2)
    tab = context.new_page()
    tab.set_default_timeout(15000)
    yield tab
    context.close()


def screenshot(page, name: str) -> Path:
    """Save a screenshot for the user guides under var/test/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def wait_until(page, expression: str, timeout: float = 15.0) -> None:
    """Wait until `expression` is true in the page. Playwright's wait_for_function
    evaluates its predicate with eval(), which the site's Content-Security-Policy forbids;
    page.evaluate goes through the DevTools protocol and is not subject to it."""
    import time

    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {expression}")
        time.sleep(0.05)
