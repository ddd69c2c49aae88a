"""Chromium drives the workbench through the escalation chain and the return chain,
with one browser context (one login) per person. Screenshots feed the user guides."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from linge.cases import workflow
from linge.cases.models import Case, State
from linge.notify.models import Outbox
from tests.browser import screenshot
from tests.conftest import PASSWORD, City

pytestmark = pytest.mark.browser


def staff_page(browser, live_server, username: str, shot: str | None = None):
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN",
                                  device_scale_factor=2)
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(live_server.url + "/work/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    if shot:
        screenshot(page, shot)
    page.click("button[type=submit]")
    # Leaders land on their screens (/cockpit/), everyone else on the inbox.
    page.wait_for_url(re.compile(re.escape(live_server.url) + "/(work|cockpit)/$"))
    return context, page


def act(page, action: str, fields: dict[str, str] | None = None,
        selects: dict[str, str] | None = None) -> None:
    box = page.locator(f"details[data-action={action}]")
    if box.get_attribute("open") is None:
        box.locator("summary").click()
    for name, value in (fields or {}).items():
        box.locator(f"[name={name}]").fill(value)
    for name, label in (selects or {}).items():
        box.locator(f"select[name={name}]").select_option(label=label)
    box.locator("button[type=submit]").click()
    page.wait_for_load_state()


def state_of(case: Case) -> str:
    case.refresh_from_db()
    return case.state


def open_case(page, live_server, case: Case) -> None:
    page.goto(f"{live_server.url}/work/case/{case.number}/")


def test_escalation_chain(live_server, browser, city: City) -> None:
    case = workflow.submit(city["resident"], category=city.plain,
                           description="村口道路被大量建筑垃圾占用，车辆无法通行",
                           grid=city.grid, lon=121.304, lat=28.306, address="上墩村村口").case

    # 1. The full-time grid worker accepts, then escalates what the grid cannot solve.
    grid_ctx, grid = staff_page(browser, live_server, "full_time", shot="workbench-login")
    assert case.number in grid.locator("ul.cases").inner_text()
    screenshot(grid, "workbench-inbox-grid")
    open_case(grid, live_server, case)
    assert "13900000001" in grid.inner_text("#reporter")
    act(grid, "accept", {"note": "已到现场查看"})
    assert state_of(case) == State.ACCEPTED
    screenshot(grid, "workbench-case-grid")
    act(grid, "escalate", {"reason": "垃圾量大，需综合执法队协调清运"})
    assert state_of(case) == State.ESCALATED
    assert "待派遣" in grid.inner_text("#case-state")

    # 2. The town dispatcher finds it under 待派遣 and dispatches it to a department.
    town_ctx, town = staff_page(browser, live_server, "dispatcher")
    assert town.locator("nav.tabs a.on").inner_text().startswith("待派遣")
    assert case.number in town.locator("ul.cases").inner_text()
    screenshot(town, "workbench-inbox-dispatcher")
    open_case(town, live_server, case)
    act(town, "dispatch", {"note": "请三日内清运"},
        {"unit": "市综合行政执法局（综合执法）", "lane": "综合执法"})
    assert state_of(case) == State.DISPATCHED
    screenshot(town, "workbench-case-dispatched")

    # 3. The department handler feeds back.
    dept_ctx, dept = staff_page(browser, live_server, "department_handler")
    assert case.number in dept.locator("ul.cases").inner_text()
    open_case(dept, live_server, case)
    assert "139****0001" not in dept.inner_text("#reporter")  # the handler sees the phone
    screenshot(dept, "workbench-case-department")
    act(dept, "resolve", {"note": "已组织清运，道路恢复通行",
                          "reply": "路面垃圾已清运，道路已恢复通行"})
    assert state_of(case) == State.VERIFYING

    # 4. The town verifies the feedback.
    town.goto(live_server.url + "/work/?tab=verifying")
    assert case.number in town.locator("ul.cases").inner_text()
    open_case(town, live_server, case)
    act(town, "verify", {"note": "现场核查，已清理干净"})
    assert state_of(case) == State.RESOLVED
    screenshot(town, "workbench-case-verified")
    timeline = [e for e in town.locator("#timeline li").evaluate_all(
        "els => els.map(e => e.dataset.action)")]
    assert timeline == ["submit", "accept", "escalate", "dispatch", "resolve", "verify"]

    # 5. The resident is told it is resolved and asked to rate.
    told = Outbox.objects.filter(subject=case.number, recipient=city["resident"], channel="inbox")
    assert any("已办结：路面垃圾已清运，道路已恢复通行。请您评价" in o.text for o in told)
    resident_ctx = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
    django_client = Client()
    django_client.force_login(city["resident"])
    resident_ctx.add_cookies([{"name": "sessionid", "url": live_server.url,
                               "value": django_client.cookies["sessionid"].value}])
    resident = resident_ctx.new_page()
    response = resident.goto(f"{live_server.url}/c/{case.number}")
    assert response is not None and response.status == 200
    assert case.number in resident.content()
    # The reporter is asked to rate the case they see resolved.
    assert resident.locator(f"form#rf[action='/c/{case.number}/rate']").count() == 1
    screenshot(resident, "workbench-chain-resident-view")
    for ctx in (grid_ctx, town_ctx, dept_ctx, resident_ctx):
        ctx.close()


def test_return_chain(live_server, browser, city: City) -> None:
    case = workflow.submit(city["resident"], category=city.plain,
                           description="小区内有人私搭鸡棚", grid=city.grid).case
    workflow.accept(case, city["full_time"])
    workflow.escalate(case, city["full_time"], reason="需要执法")
    workflow.dispatch(case, city["dispatcher"], unit=city.other_department)

    # The wrong department returns it with a reason.
    dept_ctx, dept = staff_page(browser, live_server, "other_department_handler")
    open_case(dept, live_server, case)
    act(dept, "return", {"reason": "私搭乱建不属于市场监管职责，请改派综合执法"})
    assert state_of(case) == State.ESCALATED
    # The department is off the case: it lands on its inbox, told the case went back,
    # and can no longer open it.
    assert dept.url.endswith("/work/") and "已回退" in dept.content()
    assert case.number not in dept.content()
    assert dept.goto(f"{live_server.url}/work/case/{case.number}/").status == 404

    # The town sends it back to the grid, with a reason.
    town_ctx, town = staff_page(browser, live_server, "dispatcher")
    open_case(town, live_server, case)
    assert "不属于市场监管职责" in town.inner_text("#timeline")
    screenshot(town, "workbench-case-returned")
    act(town, "return", {"reason": "属网格可自行劝导拆除的问题，请网格处置"})
    assert state_of(case) == State.ACCEPTED

    grid_ctx, grid = staff_page(browser, live_server, "full_time")
    grid.goto(live_server.url + "/work/?tab=doing")
    assert case.number in grid.locator("ul.cases").inner_text()
    open_case(grid, live_server, case)
    assert "请网格处置" in grid.inner_text("#timeline")
    assert Outbox.objects.filter(subject=case.number, recipient=city["full_time"],
                                 text__contains="回退").exists()
    for ctx in (dept_ctx, town_ctx, grid_ctx):
        ctx.close()
