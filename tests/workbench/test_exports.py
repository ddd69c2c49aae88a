"""/work/export.csv and /work/export.xlsx: the list with its filters, phones masked."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client
from openpyxl import load_workbook

from linge.cases.models import Case
from tests.conftest import PASSWORD, City
from tests.workbench.conftest import login, report


def test_csv_export_with_filters_masks_phones(client: Client, city: City) -> None:
    a = report(city, text="垃圾桶满溢")
    report(city, text="楼道堆物")
    report(city, grid=city.other_town_grid, text="垃圾 别处")
    login(client, city["full_time"])
    response = client.get("/work/export.csv?tab=submitted&q=垃圾")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "编号" and len(rows) == 2 and rows[1][0] == a.number
    assert "13900000001" not in text and "139****0001" in text


def test_xlsx_export(client: Client, city: City) -> None:
    report(city)
    login(client, city["village_staff"])
    response = client.get("/work/export.xlsx?tab=submitted")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = list(sheet.values)
    assert values[0][0] == "编号" and len(values) == 2
    assert "139****0001" in values[1]


def test_export_needs_login(client: Client, city: City) -> None:
    assert client.get("/work/export.csv").status_code == 302


FORMULA = '=HYPERLINK("http://x")'


def test_exports_keep_resident_text_from_being_a_formula(client: Client, city: City) -> None:
    case = report(city, text=FORMULA)
    Case.objects.filter(pk=case.pk).update(address="@SUM(1+1)")
    login(client, city["full_time"])
    text = b"".join(client.get("/work/export.csv").streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1][9] == "'" + FORMULA and rows[1][8] == "'@SUM(1+1)"
    book = load_workbook(io.BytesIO(b"".join(client.get("/work/export.xlsx").streaming_content)))
    row = list(book.active.values)[1]
    assert row[9] == "'" + FORMULA and row[8] == "'@SUM(1+1)"
    assert not any(isinstance(v, str) and v.startswith(("=", "@")) for v in row)


def test_control_characters_neither_break_nor_reach_the_files(client: Client, city: City) -> None:
    clean = report(city, text="路灯坏了\x0b从昨天\x00开始")
    assert clean.description == "路灯坏了从昨天开始"
    # A case stored before text was cleaned still exports.
    Case.objects.filter(pk=clean.pk).update(description="旧数据\x0b\x1f")
    login(client, city["village_staff"])
    response = client.get("/work/export.xlsx?tab=submitted")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert [row[9] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["旧数据"]


def test_export_inbox_and_case_page_agree_on_overdue_without_the_worker(
        client: Client, city: City) -> None:
    """A deadline that passed while no worker ran: the overdue tab lists the case, the
    export says 超期=是, the case page shows it red — and the fresh case says 否."""
    from datetime import timedelta

    from django.utils import timezone

    from linge.cases import workflow

    long_ago = timezone.now() - timedelta(days=40)
    late = workflow.submit(city["resident"], category=city.plain, grid=city.grid,
                           description="路灯不亮", now=long_ago).case
    workflow.accept(late, city["full_time"], now=long_ago)
    fresh = report(city, text="井盖松动")
    late.refresh_from_db()
    assert late.overdue is False  # nobody flagged it: the worker never ran
    login(client, city["full_time"])
    overdue_tab = client.get("/work/?tab=overdue")
    assert [row["case"].number for row in overdue_tab.context["rows"]] == [late.number]
    text = b"".join(client.get("/work/export.csv?tab=doing").streaming_content).decode(
        "utf-8-sig")
    rows = {row[0]: row for row in csv.reader(io.StringIO(text))}
    header = rows.pop("编号")
    overdue_column = header.index("超期")
    assert rows[late.number][overdue_column] == "是"
    text = b"".join(client.get("/work/export.csv?tab=submitted").streaming_content).decode(
        "utf-8-sig")
    fresh_row = next(r for r in csv.reader(io.StringIO(text)) if r[0] == fresh.number)
    assert fresh_row[overdue_column] == "否"
    page = client.get(f"/work/case/{late.number}/").content.decode()
    assert 'id="overdue"' in page and 'class="light red"' in page


def test_xlsx_is_sent_from_a_file_and_says_when_it_starts(client: Client, city: City) -> None:
    report(city)
    login(client, city["village_staff"])
    response = client.get("/work/export.xlsx?tab=submitted&token=abc123def456")
    assert response.streaming and response["Content-Type"].startswith(
        "application/vnd.openxmlformats")
    assert 'filename="cases-' in response["Content-Disposition"]
    assert response.cookies["linge_export"].value == "abc123def456"
    assert response.cookies["linge_export"]["path"] == "/work/"
    assert b"".join(response.streaming_content).startswith(b"PK")  # a zip: the xlsx
    # A token that is not a plain word sets nothing.
    bad = client.get("/work/export.csv?token=%3Cscript%3E")
    assert "linge_export" not in bad.cookies


@pytest.mark.browser
def test_inbox_says_the_export_is_being_prepared(live_server, browser, city: City) -> None:
    """At 1366 px a town dispatcher exports: the page says at once that the file is
    being prepared and how many cases it holds, then that the download started."""
    for i in range(3):
        report(city, text=f"第{i}处垃圾")
    context = browser.new_context(viewport={"width": 1366, "height": 800}, locale="zh-CN",
                                  accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(live_server.url + "/work/login/")
    page.fill("#id_username", "dispatcher")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/work/")
    page.goto(live_server.url + "/work/?tab=submitted")
    with page.expect_download() as download:
        page.click("a[data-export][href*='xlsx']")
        status = page.locator("#export-status")
        assert "符合条件的案件共 3 件" in status.inner_text()
    assert download.value.suggested_filename.endswith(".xlsx")
    page.wait_for_selector("#export-status:has-text('已开始下载')")
    context.close()
