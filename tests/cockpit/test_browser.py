"""Chromium loads every cockpit screen in both layouts; the numbers shown are the API's.

Screenshots go to var/test/screenshots/ (`make screenshots` copies them to docs/).
"""

from __future__ import annotations

import pytest

from tests.browser import SCREENSHOTS, chromium_available  # noqa: F401 (the browser fixture skips)
from tests.conftest import PASSWORD, City

pytestmark = pytest.mark.browser
SHOTS = SCREENSHOTS
LAYOUTS = {"big": {"width": 1920, "height": 1080}, "laptop": {"width": 1366, "height": 768}}


def leader_page(browser, live_server, username: str, viewport: dict):
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(live_server.url + "/work/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/cockpit/")
    return context, page


def api(page, path: str) -> dict:
    """The API's answer, fetched with the page's own session (not through its script)."""
    response = page.request.get(page.url.split("/cockpit")[0] + path)
    assert response.ok, response.text()
    return response.json()


def dig(data, key: str):
    for part in key.split("."):
        data = data[part]
    return data


def shown(page) -> dict[str, str]:
    return page.eval_on_selector_all(
        "[data-key]", "els => Object.fromEntries(els.map(e => [e.dataset.key, e.dataset.value]))")


def same(value_shown: str, value_api) -> bool:
    if value_api is None:
        return value_shown == "null"
    if isinstance(value_api, (int, float)) and not isinstance(value_api, bool):
        return float(value_shown) == pytest.approx(float(value_api))
    return value_shown == str(value_api)


def load(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("body.loaded")
    assert "failed" not in (page.get_attribute("body", "class") or ""), page.get_attribute(
        "body", "data-error")


@pytest.mark.parametrize("layout", ["big", "laptop"])
def test_every_screen_shows_the_api_numbers(live_server, browser, recent: City,
                                            layout: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    context, page = leader_page(browser, live_server, "leader", LAYOUTS[layout])
    base = live_server.url

    # Home: the tiles.
    load(page, f"{base}/cockpit/?layout={layout}")
    disposal = api(page, "/api/v1/insights/disposal")
    values = shown(page)
    for key in ("tiles.intake_today", "tiles.open_now", "tiles.overdue_now", "tiles.closed"):
        assert same(values[key], dig(disposal, key)), key
    assert disposal["tiles"]["intake_today"] > 0 and disposal["tiles"]["overdue_now"] > 0

    # 问题处置数据舱: tiles, rates and changes, where solved, the overdue list, the map.
    load(page, f"{base}/cockpit/disposal/?layout={layout}")
    page.wait_for_selector("#map .leaflet-interactive")
    disposal = api(page, "/api/v1/insights/disposal")
    values = shown(page)
    assert len(values) >= 20
    for key, value in values.items():
        assert same(value, dig(disposal, key)), key
    overdue = page.eval_on_selector_all("#overdue tbody tr td:first-child",
                                        "els => els.map(e => e.textContent)")
    assert overdue == [c["number"] for c in disposal["overdue"]] and overdue
    link = page.get_attribute("#overdue tbody tr td:last-child a", "href")
    assert link == f"/work/case/{overdue[0]}/"
    geo = api(page, "/api/v1/insights/map")
    assert page.get_attribute("#map", "data-grids") == str(len(geo["features"]))
    assert page.get_attribute("#map", "data-open") == str(
        sum(f["properties"]["open"] for f in geo["features"]))
    page.screenshot(path=str(SHOTS / f"cockpit-disposal-{layout}.png"))

    # 问题分析数据舱.
    load(page, f"{base}/cockpit/analysis/?layout={layout}")
    analysis = api(page, "/api/v1/insights/analysis?grain=day")
    assert page.get_attribute("#treemap", "data-total") == str(
        sum(c["received"] for c in analysis["categories"]))
    assert page.get_attribute("#trend", "data-total") == str(
        sum(t["received"] for t in analysis["trend"]))
    cells = page.eval_on_selector_all("#hotspots tbody tr", "rows => rows.map(r => "
                                      "[...r.children].map(c => c.textContent))")
    # The page writes numbers as JavaScript does: 5.0 per 1,000 households shows as "5".
    assert [row[:3] for row in cells] == [[h["name"], str(h["received"]), str(h["households"])]
                                          for h in analysis["hotspots"]]
    assert all((shown == "—") if h["per_1000_households"] is None
               else same(shown, h["per_1000_households"])
               for (*_, shown), h in zip(cells, analysis["hotspots"], strict=True))
    sources = page.eval_on_selector_all("#sources-table tbody tr td:last-child",
                                        "els => els.map(e => e.textContent)")
    assert sources == [str(s["cases"]) for s in analysis["sources"]]
    assert "垃圾桶" in page.inner_text("#keywords")
    assert "增设两个垃圾桶" in page.inner_text("#hot")
    page.select_option("#grain", "month")
    page.wait_for_selector("body.loaded")
    page.screenshot(path=str(SHOTS / f"cockpit-analysis-{layout}.png"))

    # 网格治理晾晒台, each level.
    load(page, f"{base}/cockpit/board/?layout={layout}")
    for level in ("town", "village", "grid", "worker"):
        page.click(f"#levels a[data-level={level}]")
        page.wait_for_selector(f"#board[data-level={level}]")
        board = api(page, f"/api/v1/insights/rankings?level={level}")
        assert page.locator("#board tbody tr").count() == len(board["rows"])
        scores = page.eval_on_selector_all("#board tbody tr td:last-child",
                                           "els => els.map(e => e.dataset.value)")
        assert [float(s) for s in scores] == [r["score"] for r in board["rows"]], level
        assert page.inner_text("#formula-text") == board["formula"]["text"]
    page.screenshot(path=str(SHOTS / f"cockpit-board-{layout}.png"))

    # 三级数据: the city and its towns, then a drill-down into a town.
    load(page, f"{base}/cockpit/record/?layout={layout}")
    record = api(page, "/api/v1/insights/record")
    received = page.eval_on_selector_all("#record tbody tr td:nth-child(2) a",
                                         "els => els.map(e => e.dataset.value)")
    assert received == [str(r["figures"]["received"]) for r in record["rows"]]
    page.click("#record tbody tr:nth-child(2) td:first-child a")
    page.wait_for_url("**area=331081*")
    page.wait_for_selector("body.loaded")
    town = page.url.split("area=")[1].split("&")[0]
    drilled = api(page, f"/api/v1/insights/record?area={town}")
    received = page.eval_on_selector_all("#record tbody tr td:nth-child(2) a",
                                         "els => els.map(e => e.dataset.value)")
    assert received == [str(r["figures"]["received"]) for r in drilled["rows"]]
    assert len(drilled["rows"]) > 1 and drilled["rows"][1]["level"] == "village"
    page.screenshot(path=str(SHOTS / f"cockpit-record-{layout}.png"))
    context.close()


def test_the_public_board_needs_no_login(live_server, browser, recent: City) -> None:
    context = browser.new_context(viewport=LAYOUTS["laptop"], locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server.url}/cockpit/board/public/")
    page.wait_for_selector("body.loaded")
    board = page.request.get(f"{live_server.url}/api/v1/public/rankings?level=town").json()
    scores = page.eval_on_selector_all("#board tbody tr td:last-child",
                                       "els => els.map(e => e.dataset.value)")
    assert [float(s) for s in scores] == [r["score"] for r in board["rows"]]
    assert page.locator("#levels a[data-level=worker]").count() == 0
    context.close()


def test_a_number_opens_the_cases_behind_it(live_server, browser, recent: City,
                                            tmp_path) -> None:
    from openpyxl import load_workbook

    context, page = leader_page(browser, live_server, "town_leader", LAYOUTS["laptop"])
    base = live_server.url
    load(page, f"{base}/cockpit/record/")
    # Town A's row, then its first village's: the 办结 number links to its cases.
    village = page.locator("#record tbody tr:nth-child(2)")
    closed_shown = village.locator("td:nth-child(3) a").get_attribute("data-value")
    village.locator("td:nth-child(3) a").click()
    page.wait_for_url("**/cockpit/cases/?figure=closed*")
    page.wait_for_selector("body.loaded")
    assert "failed" not in (page.get_attribute("body", "class") or "")
    assert page.get_attribute("#total", "data-value") == closed_shown
    query = page.url.split("?", 1)[1]
    listed = api(page, f"/api/v1/insights/cases?{query}")
    numbers = page.eval_on_selector_all("#cases tbody tr td:first-child a",
                                        "els => els.map(e => e.textContent)")
    assert numbers == [i["number"] for i in listed["items"]]
    assert len(numbers) == int(closed_shown) > 0  # fewer than a page: every one is here
    assert "计入「办结数」的每一件" in page.inner_text("#what")
    # Another period keeps the figure: the form carries it over.
    page.fill("#period input[name=since]", "2026-01-01")
    page.click("#period button[type=submit]")
    page.wait_for_url("**since=2026-01-01*")
    page.wait_for_selector("body.loaded")
    assert "figure=closed" in page.url and "failed" not in page.get_attribute("body", "class")
    # The longer period holds the shorter one's cases (on the first of a month, the
    # default period is that one day).
    numbers = page.eval_on_selector_all("#cases tbody tr td:first-child a",
                                        "els => els.map(e => e.textContent)")
    assert set(numbers) >= set(i["number"] for i in listed["items"])
    # The table exports to Excel with the same cases.
    href = page.get_attribute("a.export", "href")
    sheet = page.request.get(base + href)
    assert sheet.ok
    path = tmp_path / "cases.xlsx"
    path.write_bytes(sheet.body())
    rows = list(load_workbook(path).active.iter_rows(values_only=True))
    assert rows[0][:2] == ("编号", "受理日期")
    assert [r[0] for r in rows[1:]] == numbers
    # A case number opens its page.
    page.click("#cases tbody tr:first-child td:first-child a")
    page.wait_for_url(f"**/work/case/{numbers[0]}/")
    context.close()
