"""The cockpit's pages: who lands where, who may see them, and the Excel exports."""

from __future__ import annotations

from io import BytesIO

from django.test import Client
from openpyxl import load_workbook

from linge.insights import figures
from tests.conftest import PASSWORD, City
from tests.conftest import logged_in as login


def test_leaders_land_on_the_cockpit(city: City) -> None:
    for name, where in (("leader", "/cockpit/"), ("town_leader", "/cockpit/"),
                        ("full_time", "/work/"), ("dispatcher", "/work/")):
        response = Client().post("/work/login/", {"username": name, "password": PASSWORD})
        assert response.status_code == 302 and response["Location"] == where, name


def test_the_home_page_says_what_each_number_counts(recent: City) -> None:
    page = login("leader").get("/cockpit/").content.decode()
    for words in ("受理批次", "今日新上报（含不予受理、合并）", "当前在办案件（未办结）",
                  "当前超期在办案件", 'href="/work/"'):
        assert words in page


def test_who_may_see_the_screens(recent: City) -> None:
    for path in ("/cockpit/", "/cockpit/disposal/", "/cockpit/analysis/", "/cockpit/board/",
                 "/cockpit/record/"):
        assert Client().get(path).status_code == 302
        assert login("leader").get(path).status_code == 200
        assert login("town_leader").get(path + "?layout=big").status_code == 200
        resident = Client()
        resident.force_login(recent["resident"])
        assert resident.get(path).status_code == 403
    public = Client().get("/cockpit/board/public/").content.decode()
    assert "公开版" in public and 'data-level="worker"' not in public


def test_board_prints_the_formula_in_force(recent: City, settings) -> None:
    settings.LINGE_RANK_WEIGHTS = {"on_time": 2.0, "satisfaction": 1.0}
    page = login("leader").get("/cockpit/board/").content.decode()
    assert "2×on_time + 1×satisfaction" in page


def test_exports_hold_the_api_numbers(recent: City) -> None:
    client = login("leader")
    api = client.get("/api/v1/insights/record?area=331081").json()
    response = client.get("/cockpit/export.xlsx?table=record&area=331081")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 1 + len(api["rows"])
    received = 2 + figures.FIGURES.index("received")
    assert [r[received] for r in rows[1:]] == [r["figures"]["received"] for r in api["rows"]]
    for table in ("rankings", "overdue", "categories", "trend", "hotspots", "repeated",
                  "sources"):
        got = client.get(f"/cockpit/export.xlsx?table={table}&level=grid")
        assert got.status_code == 200, table
        load_workbook(BytesIO(got.content))
    # Outside the town leader's reach: as if it did not exist.
    assert login("town_leader").get(
        "/cockpit/export.xlsx?table=record&area=331081001").status_code == 404


def test_keywords_leave_out_the_words_every_report_has(recent: City) -> None:
    data = login("leader").get("/api/v1/insights/analysis?area=331081").json()
    words = [k["word"] for k in data["keywords"]]
    assert "垃圾桶" in words
    assert not {"几天", "满了", "反映", "好几天"} & set(words)
    hot = data["hot"]
    assert hot and hot[0]["deliberation"]["outcome"] == "增设两个垃圾桶"
