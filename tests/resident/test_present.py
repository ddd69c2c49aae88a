"""resident.present: the public timeline in plain words, masked names, grid outlines."""

from __future__ import annotations

import pytest

from linge.cases import workflow
from linge.resident.present import mask_name, outline, timeline

pytestmark = pytest.mark.django_db


def test_mask_name() -> None:
    assert mask_name("王网格长") == "王**"
    assert mask_name("") == "**"


def test_escalated_case_timeline(city) -> None:
    case = workflow.submit(city["resident"], category=city.plain, grid=city.grid,
                           description="乱堆").case
    workflow.accept(case, city["full_time"])
    workflow.escalate(case, city["full_time"], reason="需要执法队处理")
    workflow.dispatch(case, city["dispatcher"], unit=city.office)
    workflow.resolve(case, city["office_handler"], note="已清理")
    texts = [s.text for s in timeline(case)]
    # The department's feedback waits for the town's check: not shown yet.
    assert texts == ["问题已登记上报", "专职网格员 李** 已受理", "已上报镇街四平台",
                     "已派至温峤镇综合执法队办理"]
    workflow.verify(case, city["dispatcher"])
    workflow.rate(case, city["resident"], rating="basic")
    texts = [s.text for s in timeline(case)]
    assert texts[-2:] == ["镇街四平台核查通过，已办结", "群众评价：基本满意"]
    assert all("冯派遣员" not in t and "卫执法队员" not in t for t in texts)


def test_suspended_and_rejected(city) -> None:
    case = workflow.submit(None, category=city.plain, grid=city.grid, description="乱堆").case
    workflow.reject(case, city["full_time"], reason="不属于网格事项")
    assert timeline(case)[-1].text == "不予受理，原因：不属于网格事项"


def test_outline_fits_the_box(city) -> None:
    shapes, view_box = outline([city.grid, city.neighbour_grid])
    assert [s.code for s in shapes] == [city.grid.code, city.neighbour_grid.code]
    assert view_box == "0 0 300 155"
    assert shapes[0].path.startswith("M5.0,150.0") and shapes[0].path.endswith("Z")
    assert outline([]) == ([], "0 0 300 300")
