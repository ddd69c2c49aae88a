"""/work/: each row as a dispatcher reads it (written by the `inbox_items` tag in one
pass), and the filter form's choices, kept in the process until an area or a category
changes."""

from __future__ import annotations

import re

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from linge.cases import workflow
from linge.cases.models import Case
from tests.conftest import City
from tests.workbench.conftest import login, report

LONG = ("村口那条主路上的路灯已经连续坏了一个多星期，晚上完全看不清路面，老人和小孩出门很危险，"
        "希望尽快派人来修理好，谢谢各位网格员的辛苦付出")  # 68 characters


def _row(page: str, number: str) -> str:
    found = re.search(rf'<li data-number="{number}">(.*?)</li>', page, re.S)
    assert found, f"no row for {number}"
    return found.group(1)


def _dispatched(city: City) -> Case:
    case = report(city, text=LONG)
    workflow.accept(case, city["full_time"])
    workflow.escalate(case, city["full_time"], reason="需执法")
    workflow.dispatch(case, city["dispatcher"], unit=city.office)
    workflow.supervise(case, city["leader"], note="请加快办理")
    Case.objects.filter(pk=case.pk).update(rework_count=2)  # two unsatisfied ratings
    return case


def test_a_row_shows_the_case_as_the_dispatcher_reads_it(client: Client, city: City) -> None:
    case = _dispatched(city)
    login(client, city["dispatcher"])
    row = _row(client.get("/work/?tab=doing").content.decode(), case.number)
    assert f'<a href="/work/case/{case.number}/">{case.number}</a>' in row
    assert '<span class="light green" title="处置期限 ' in row
    assert re.search(r'<span data-due="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+08:00">剩余 ', row)
    # 60 characters: 57 of the description and Django's Chinese ellipsis, three dots.
    assert f'<a class="desc block" href="/work/case/{case.number}/">{LONG[:57]}...</a>' in row
    assert "暴露垃圾" not in row and "乱堆物堆料 · 上墩村第1网格 · " in row
    assert '<span class="badge du">督办</span>' in row
    assert '<span class="badge du rework" title="返工 2 次">返工×2</span>' in row
    assert '<span class="badge">已派遣</span>' in row
    assert "· 温峤镇综合执法队" in row
    assert 'type="checkbox"' not in row  # no bulk move on this tab


def test_a_row_in_english_and_with_bulk_boxes(client: Client, city: City) -> None:
    case = report(city, text="<b>楼道</b>堆物")
    login(client, city["full_time"])
    client.post("/i18n/setlang/", {"language": "en", "next": "/work/"})  # the switch
    row = _row(client.get("/work/?tab=submitted").content.decode(), case.number)
    assert (f'<input type="checkbox" name="numbers" value="{case.number}" '
            f'aria-label="Select {case.number}">') in row
    assert "&lt;b&gt;楼道&lt;/b&gt;堆物" in row and "<b>" not in row
    assert '<span class="light green" title="Accept deadline ' in row
    assert re.search(r'<span data-due="[^"]+">[^<]+ left</span>', row), row


def _area_options(client: Client) -> list[str]:
    page = client.get("/work/").content.decode()
    select = re.search(r'<select id="f-area" name="area">(.*?)</select>', page, re.S).group(1)
    return re.findall(r"<option value=\"\d+\">([^<]+)</option>", select)


def _category_options(client: Client) -> list[str]:
    page = client.get("/work/").content.decode()
    select = re.search(r'<select id="f-category"[^>]*>(.*?)</select>', page, re.S).group(1)
    return re.findall(r"<option value=\"\d+\">([^<]+)</option>", select)


def test_the_filter_choices_follow_a_renamed_area_and_a_closed_category(
        client: Client, city: City) -> None:
    login(client, city["village_staff"])
    assert _area_options(client) == ["上墩村", "上墩村第1网格", "上墩村第2网格"]
    assert _category_options(client) == ["市容环境", "　暴露垃圾", "　乱堆物堆料", "　露天焚烧"]
    city.neighbour_grid.name = "上墩村南网格"
    city.neighbour_grid.save()
    assert _area_options(client) == ["上墩村", "上墩村第1网格", "上墩村南网格"]
    city.urgent.active = False
    city.urgent.save()
    assert _category_options(client) == ["市容环境", "　暴露垃圾", "　乱堆物堆料"]


def test_pages_of_an_unfiltered_tab_match_the_filtered_reading(client: Client, city: City) -> None:
    made = [report(city, text=f"第{i}件：楼道堆物") for i in range(35)]
    workflow.accept(made[3], city["full_time"])  # one leaves the tab
    waiting = [case.number for case in reversed(made) if case != made[3]]  # newest first
    login(client, city["full_time"])
    first = client.get("/work/?tab=submitted")
    assert [row["case"].number for row in first.context["rows"]] == waiting[:30]
    second = client.get("/work/?tab=submitted&page=2")
    assert [row["case"].number for row in second.context["rows"]] == waiting[30:]
    assert second.context["page"].paginator.count == 34
    # A filter that keeps them all reads them the other way: the same pages.
    filtered = client.get("/work/?tab=submitted&page=2&source=resident_page")
    assert [row["case"].number for row in filtered.context["rows"]] == waiting[30:]
    # The last page grows as a case comes in: the new one first on page 1.
    newest = report(city, text="又一件")
    assert [row["case"].number for row in client.get("/work/?tab=submitted").context["rows"]
            ] == [newest.number, *waiting[:29]]
    assert [row["case"].number for row in
            client.get("/work/?tab=submitted&page=2").context["rows"]] == waiting[29:]


def test_a_full_page_costs_no_more_queries_than_one_row(client: Client, city: City) -> None:
    first = _dispatched(city)
    login(client, city["dispatcher"])
    client.get("/work/?tab=doing")  # compiled and cached, as in a running process
    with CaptureQueriesContext(connection) as one:
        assert len(client.get("/work/?tab=doing").context["rows"]) == 1
    for i in range(29):
        case = report(city, text=f"第{i}件")
        workflow.accept(case, city["full_time"])
        workflow.escalate(case, city["full_time"], reason="需执法")
        workflow.dispatch(case, city["dispatcher"], unit=city.office)
    with CaptureQueriesContext(connection) as full:
        page = client.get("/work/?tab=doing")
    assert len(page.context["rows"]) == 30 and page.context["rows"][-1]["case"] == first
    assert len(full) == len(one)


def test_a_row_shows_its_report_time_and_an_older_years_date(client: Client, city: City) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    this_year = report(city, text="今年的")
    last_year = report(city, text="x" * 60)  # sixty characters: shown whole
    shanghai = ZoneInfo("Asia/Shanghai")
    now = datetime.now(shanghai)
    Case.objects.filter(pk=this_year.pk).update(
        created_at=datetime(now.year, 1, 2, 3, 4, tzinfo=shanghai))
    Case.objects.filter(pk=last_year.pk).update(
        created_at=datetime(now.year - 1, 12, 31, 23, 59, tzinfo=shanghai))
    login(client, city["full_time"])
    page = client.get("/work/?tab=submitted").content.decode()
    assert "· 01-02 03:04\n" in _row(page, this_year.number)
    row = _row(page, last_year.number)
    assert f"· {now.year - 1}-12-31\n" in row and f">{'x' * 60}</a>" in row


def test_a_description_one_past_sixty_is_cut(client: Client, city: City) -> None:
    case = report(city, text="y" * 61)
    login(client, city["full_time"])
    row = _row(client.get("/work/?tab=submitted").content.decode(), case.number)
    assert f">{'y' * 57}...</a>" in row
