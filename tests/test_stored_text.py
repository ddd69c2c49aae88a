"""Stored script and formulas, through every text field a resident or staff member fills
in, on every page and export that shows it: pages escape it (and the
Content-Security-Policy would not run it anyway), spreadsheets keep it as text."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client
from openpyxl import load_workbook

from linge.cases import workflow
from tests.conftest import City

SCRIPT = '<script>alert("x")</script><img src=x onerror=alert(1)>'
RAW = ("<script>alert", "<img src=x onerror")
ESCAPED = "&lt;script&gt;alert"
FORMULA = '=HYPERLINK("http://evil.example","点我")'


@pytest.fixture
def stories(city: City) -> dict:
    done = workflow.submit(city["resident"], category=city.plain, description=SCRIPT,
                           grid=city.grid, address=SCRIPT[:60]).case
    workflow.accept(done, city["full_time"], note=SCRIPT)
    workflow.resolve(done, city["full_time"], note=SCRIPT, reply=SCRIPT)
    workflow.rate(done, city["resident"], rating="basic", comment=SCRIPT)
    rejected = workflow.submit(city["resident"], category=city.plain, description="路灯不亮",
                               grid=city.grid).case
    workflow.reject(rejected, city["full_time"], reason=SCRIPT)
    return {"done": done, "rejected": rejected}


def pages(stories) -> list[tuple[str, str]]:
    done, rejected = stories["done"].number, stories["rejected"].number
    return [
        ("full_time", f"/work/case/{done}/"), ("full_time", f"/work/case/{rejected}/"),
        ("full_time", "/work/?tab=done"), ("full_time", "/work/?q=alert"),
        ("full_time", "/work/messages/"), ("leader", f"/work/case/{done}/"),
        ("resident", f"/c/{done}"), ("resident", f"/c/{rejected}"), ("resident", "/mine"),
        ("resident", "/inbox"), ("anonymous", "/"), ("leader", "/cockpit/analysis/"),
    ]


def test_pages_escape_stored_script(city: City, stories) -> None:
    escaped_on = 0
    for who, path in pages(stories):
        client = Client()
        if who != "anonymous":
            client.force_login(city[who])
        response = client.get(path)
        assert response.status_code == 200, (who, path)
        body = response.content.decode()
        for raw in RAW:
            assert raw not in body, (who, path)
        escaped_on += ESCAPED in body
    assert escaped_on >= 6  # the text is shown (escaped), not dropped


def test_the_api_carries_text_as_json(city: City, stories) -> None:
    client = Client()
    client.force_login(city["leader"])
    response = client.get("/api/v1/insights/analysis")
    assert response.status_code == 200 and "<script>" not in response.content.decode()


def test_workbench_exports_keep_formulas_as_text(city: City) -> None:
    workflow.submit(city["resident"], category=city.plain, description=FORMULA, grid=city.grid,
                    address=FORMULA)
    client = Client()
    client.force_login(city["full_time"])
    response = client.get("/work/export.csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    cells = [cell for row in rows[1:] for cell in row]
    assert f"'{FORMULA}" in cells and FORMULA not in cells
    response = client.get("/work/export.xlsx")
    data = (b"".join(response.streaming_content) if response.streaming else response.content)
    book = load_workbook(io.BytesIO(data))
    values = [c for row in book.active.iter_rows(min_row=2) for c in row]
    assert all(c.data_type != "f" for c in values)
    assert f"'{FORMULA}" in [c.value for c in values]


def test_cockpit_exports_keep_formulas_as_text(city: City) -> None:
    """A resident's address reaches the leaders' 'repeated' table (3 reports, one place)."""
    for _ in range(3):
        workflow.submit(city["resident"], category=city.plain, description="占道经营",
                        grid=city.grid, address=FORMULA)
    client = Client()
    client.force_login(city["leader"])
    response = client.get("/cockpit/export.xlsx?table=repeated&area=331081")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    cells = [c for row in book.active.iter_rows(min_row=2) for c in row]
    assert cells, "the repeated table is empty"
    assert all(c.data_type != "f" for c in cells)
    assert f"'{FORMULA}" in [c.value for c in cells]
