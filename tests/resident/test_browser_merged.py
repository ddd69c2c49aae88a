"""In Chromium at 360 px: an anonymous reporter whose case was merged opens it by the
tracking code, follows the link to the case it was merged into, and sees it through
to the end with plain-word states; the rating stays with the target's reporter."""

from __future__ import annotations

import pytest

from linge.cases import workflow

pytestmark = pytest.mark.browser


def test_anonymous_reporter_follows_the_merged_case(live_server, page, city) -> None:
    base = live_server.url
    target = workflow.submit(city["other_resident"], category=city.plain, grid=city.grid,
                             description="村口堆满建筑垃圾", address="上墩村村口").case
    done = workflow.submit(city["resident"], anonymous=True, category=city.plain,
                           grid=city.grid, description="村口有一大堆砖头")
    workflow.accept(target, city["full_time"])
    workflow.merge(done.case, city["full_time"], into=target)

    page.goto(f"{base}/track")
    page.fill("#tc", done.tracking_code)
    page.click("main form button")
    page.wait_for_url(f"{base}/c/{done.case.number}")
    assert page.inner_text("#state") == "已合并办理"
    page.click(f"#merged-into a[href='/c/{target.number}']")
    page.wait_for_url(f"{base}/c/{target.number}")
    assert page.inner_text("#state") == "网格办理中"
    assert done.case.number in page.inner_text("#merged-from")
    assert "村口堆满建筑垃圾" not in page.inner_text("main")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    workflow.escalate(target, city["full_time"], reason="需执法队清运")
    page.reload()
    assert page.inner_text("#state") == "已上报镇街"

    workflow.dispatch(target, city["dispatcher"], unit=city.office)
    workflow.resolve(target, city["office_handler"], note="已清运", reply="建筑垃圾已清运")
    page.reload()
    assert page.inner_text("#state") == "镇街核查中"
    workflow.verify(target, city["dispatcher"])
    page.reload()
    assert page.inner_text("#state") == "已办好，待评价"
    assert "建筑垃圾已清运" in page.inner_text("#reply")
    assert page.locator("#rf").count() == 0  # the target's reporter rates, not this visitor
    assert "办理期限" not in page.inner_text("main")  # no deadline once it waits for rating

    page.goto(f"{base}/mine")
    assert target.number in page.inner_text("main") and done.case.number in page.inner_text("main")
