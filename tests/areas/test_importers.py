"""import_areas(): GeoJSON and CSV, upserts, and all-or-nothing refusal of broken files."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import Point, shape

from linge.areas.importers import AreaImportError, import_areas
from linge.areas.models import Area, Level
from tests.areas.conftest import (
    CITY,
    GRID_A,
    GRID_B,
    TOWN,
    VILLAGE,
    box,
    feature,
    make_area,
    tree_features,
    write_csv,
    write_geojson,
)

HEADER = ["code", "name", "level", "parent", "kind", "households", "geometry"]
WKT_A = "POLYGON ((121.3 28.3, 121.31 28.3, 121.31 28.31, 121.3 28.31, 121.3 28.3))"


def csv_rows() -> list[list[Any]]:
    """The same tree as tree_features(), children first; one WKT and one GeoJSON cell."""
    return [
        HEADER,
        [GRID_B, "上墩村第2网格", "grid", VILLAGE, "", "200", json.dumps(box(1, 0))],
        [GRID_A, "上墩村第1网格", "网格", VILLAGE, "", "300", WKT_A],
        [VILLAGE, "上墩村", "村社", TOWN, "村", "", json.dumps(box(0, 0, 0.02))],
        [TOWN, "温峤镇", "town", CITY, "镇", "", ""],
        [CITY, "温岭市", "县级市", "", "", "", ""],
    ]


def assert_tree_imported() -> None:
    areas = {area.code: area for area in Area.objects.all()}
    assert set(areas) == {CITY, TOWN, VILLAGE, GRID_A, GRID_B}
    assert areas[CITY].parent is None
    assert areas[TOWN].parent == areas[CITY] and areas[TOWN].kind == "镇"
    assert areas[VILLAGE].parent == areas[TOWN] and areas[VILLAGE].level == Level.VILLAGE
    grid_a, grid_b = areas[GRID_A], areas[GRID_B]
    assert grid_a.parent == grid_b.parent == areas[VILLAGE]
    assert (grid_a.level, grid_a.households, grid_b.households) == (Level.GRID, 300, 200)
    assert shape(grid_a.boundary).equals(shape(box(0, 0)))
    for area in (grid_a, grid_b, areas[VILLAGE]):
        assert shape(area.boundary).contains(Point(area.center_lon, area.center_lat))
    assert areas[TOWN].boundary is None and areas[TOWN].center_lon is None


@pytest.mark.django_db
def test_geojson_children_before_parents(tmp_path):
    report = import_areas(write_geojson(tmp_path / "tree.geojson", tree_features()))
    assert (report.created, report.updated, report.unchanged) == (5, 0, 0)
    assert report.summary() == "新增 5，更新 0"
    assert_tree_imported()


@pytest.mark.django_db
def test_csv_children_before_parents(tmp_path):
    report = import_areas(write_csv(tmp_path / "tree.csv", csv_rows()))
    assert (report.created, report.updated) == (5, 0)
    assert_tree_imported()


@pytest.mark.django_db
def test_csv_chinese_headers_gbk_from_open_file_without_extension(tmp_path):
    rows = csv_rows()
    rows[0] = ["编码", "名称", "层级", "上级编码", "类型", "户数", "边界"]
    path = write_csv(tmp_path / "export", rows, encoding="gb18030")
    with path.open("rb") as handle:
        report = import_areas(handle, fmt="csv")
    assert report.created == 5
    assert_tree_imported()


@pytest.mark.django_db
def test_geojson_from_text_stream_format_sniffed():
    text = json.dumps({"type": "FeatureCollection", "features": tree_features()})
    assert import_areas(io.StringIO(text)).created == 5


@pytest.mark.django_db
def test_reimport_updates_by_code(tmp_path):
    path = write_geojson(tmp_path / "tree.geojson", tree_features())
    import_areas(path)
    ids = dict(Area.objects.values_list("code", "id"))
    assert import_areas(path).summary() == "新增 0，更新 0，未变 5"

    features = tree_features()
    features[0]["properties"].update(name="上墩村二网格", households=210)
    features[1]["geometry"] = box(0, 0, 0.005)
    report = import_areas(write_geojson(tmp_path / "v2.geojson", features))
    assert (report.created, report.updated, report.unchanged) == (0, 2, 3)
    assert dict(Area.objects.values_list("code", "id")) == ids
    b = Area.objects.get(code=GRID_B)
    assert (b.name, b.households) == ("上墩村二网格", 210)
    a = Area.objects.get(code=GRID_A)
    assert shape(a.boundary).area == pytest.approx(0.005**2)
    assert a.center_lon < 121.305 and a.center_lat < 28.305


@pytest.mark.django_db
def test_fields_left_out_keep_their_values(tmp_path):
    import_areas(write_geojson(tmp_path / "tree.geojson", tree_features()))
    rows = [["code", "name", "level", "parent"], [GRID_A, "改名网格", "grid", VILLAGE]]
    assert import_areas(write_csv(tmp_path / "rename.csv", rows)).updated == 1
    a = Area.objects.get(code=GRID_A)
    assert (a.name, a.households) == ("改名网格", 300)
    assert shape(a.boundary).equals(shape(box(0, 0)))


@pytest.mark.django_db
def test_parents_already_in_database(tree, tmp_path):
    path = write_geojson(tmp_path / "grids.geojson", [
        feature(GRID_A, "上墩村第1网格", "grid", VILLAGE, box(0, 0), households="12"),
    ])
    assert import_areas(path).created == 1
    grid = Area.objects.get(code=GRID_A)
    assert grid.parent == tree["village"] and grid.households == 12


@pytest.mark.django_db
def test_numeric_codes_and_multipolygon(tmp_path):
    features = tree_features()
    features[0]["properties"].update(code=int(GRID_B), parent=int(VILLAGE))
    features[0]["geometry"] = {"type": "MultiPolygon",
                               "coordinates": [box(1, 0)["coordinates"], box(3, 0)["coordinates"]]}
    assert import_areas(write_geojson(tmp_path / "t.geojson", features)).created == 5
    assert Area.objects.get(code=GRID_B).boundary["type"] == "MultiPolygon"


# Broken files: every problem reported with its place, and nothing written.

BOWTIE = {"type": "Polygon", "coordinates": [[[121.3, 28.3], [121.31, 28.31], [121.31, 28.3],
                                              [121.3, 28.31], [121.3, 28.3]]]}


def broken(index: int, **changes: Any) -> list[dict[str, Any]]:
    """tree_features() with feature `index` (0-based) changed."""
    features = tree_features()
    geometry = changes.pop("geometry", features[index]["geometry"])
    features[index]["geometry"] = geometry
    features[index]["properties"].update(changes)
    return features


GEOJSON_CASES = {
    "bad code": (broken(1, code="33108110700100"), "第 2 个要素", "网格编码应为 15 位数字"),
    "letters in code": (broken(3, code="33108110A"), "第 4 个要素", "镇街编码应为 9 位数字"),
    "not extending parent": (
        broken(0, code="331081107002002"), "第 1 个要素", "应以上级编码 331081107001 开头"),
    "missing parent": (
        broken(0, parent="331081107009"), "第 1 个要素", "上级区域 331081107009 不存在"),
    "wrong level chain": (broken(0, parent=TOWN), "第 1 个要素", "网格的上级应为村社"),
    "city with parent": (broken(4, parent=CITY), "第 5 个要素", "县级市不能有上级区域"),
    "unknown level": (broken(3, level="县"), "第 4 个要素", "未知层级"),
    "self-intersecting": (broken(1, geometry=BOWTIE), "第 2 个要素", "边界几何无效：自相交（位置"),
    "lat/lon swapped": (
        broken(1, geometry={"type": "Polygon", "coordinates": [
            [[y, x] for x, y in box(0, 0)["coordinates"][0]]]}),
        "第 2 个要素", "经纬度写反"),
    "point geometry": (
        broken(1, geometry={"type": "Point", "coordinates": [121.3, 28.3]}),
        "第 2 个要素", "边界应为 Polygon 或 MultiPolygon"),
    "unparsable geometry": (
        broken(1, geometry={"type": "Polygon", "coordinates": [[[121.3, 28.3], [121.31, 28.3]]]}),
        "第 2 个要素", "边界无法解析"),
    "grid without geometry": (broken(0, geometry=None), "第 1 个要素", "网格必须有边界"),
    "duplicate code": (broken(1, code=GRID_B), "第 2 个要素", "与第 1 个要素重复"),
    "negative households": (broken(0, households=-5), "第 1 个要素", "户数应为非负整数"),
    "fractional households": (broken(0, households=2.5), "第 1 个要素", "户数应为非负整数"),
    "text households": (broken(0, households="许多"), "第 1 个要素", "户数应为非负整数"),
    "missing name": (broken(2, name=""), "第 3 个要素", "缺少名称"),
    "kind too long": (broken(2, kind="行政村与自然村合并"), "第 3 个要素", "类型应为不超过"),
}


def snapshot() -> list[tuple]:
    return list(Area.objects.order_by("code").values_list("code", "name", "households", "boundary"))


@pytest.fixture
def existing_city(db) -> Area:
    """A city already in the database; every broken file below would rename it."""
    return make_area(CITY, "旧名称", Level.CITY)


def assert_refused(path_or_file: Any, place: str, reason: str, fmt: str | None = None) -> list[str]:
    before = snapshot()
    with pytest.raises(AreaImportError) as caught:
        import_areas(path_or_file, fmt)
    matching = [p for p in caught.value.problems if p.startswith(place) and reason in p]
    assert matching, caught.value.problems
    assert "未写入任何数据" in str(caught.value)
    assert snapshot() == before
    return caught.value.problems


@pytest.mark.django_db
@pytest.mark.parametrize("case", GEOJSON_CASES, ids=list(GEOJSON_CASES))
def test_broken_geojson_refused(existing_city, tmp_path, case):
    features, place, reason = GEOJSON_CASES[case]
    features[4]["properties"]["name"] = "新名称"  # the city, updated if anything were written
    assert_refused(write_geojson(tmp_path / "broken.geojson", features), place, reason)
    assert Area.objects.get(code=CITY).name == "旧名称"
    assert Area.objects.count() == 1


@pytest.mark.django_db
def test_every_problem_listed(existing_city, tmp_path):
    features = tree_features()
    features[0]["properties"]["households"] = -1
    features[1]["geometry"] = BOWTIE
    features[3]["properties"]["parent"] = "331082"
    problems = assert_refused(write_geojson(tmp_path / "b.geojson", features), "第 1 个要素", "户数")
    places = [p.split("（")[0] for p in problems]
    assert list(dict.fromkeys(places)) == ["第 1 个要素", "第 2 个要素", "第 4 个要素"]
    assert any("上级区域 331082 不存在" in p for p in problems)


@pytest.mark.django_db
def test_malformed_json_refused(existing_city, tmp_path):
    path = tmp_path / "broken.geojson"
    path.write_text('{"type": "FeatureCollection",\n "features": [\n  {"type": "Feature",,}\n]}')
    assert_refused(path, "JSON 格式错误（第 3 行", "")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("document", "reason"),
    [({"type": "Feature"}, "FeatureCollection"),
     ({"type": "FeatureCollection"}, "features"),
     ({"type": "FeatureCollection", "features": []}, "没有区域")],
)
def test_not_a_feature_collection_refused(existing_city, tmp_path, document, reason):
    path = tmp_path / "x.json"
    path.write_text(json.dumps(document))
    assert_refused(path, "", reason)


def csv_broken(line: int, column: str, value: str) -> list[list[Any]]:
    """csv_rows() with `column` of file line `line` (header = line 1) changed."""
    rows = csv_rows()
    rows[line - 1][HEADER.index(column)] = value
    return rows


CSV_CASES = {
    "bad code": (csv_broken(3, "code", "3310811070010"), "第 3 行", "网格编码应为 15 位数字"),
    "not extending parent": (
        csv_broken(4, "code", "331081108001"), "第 4 行", "应以上级编码 331081107 开头"),
    "missing parent": (csv_broken(5, "parent", "331099"), "第 5 行", "上级区域 331099 不存在"),
    "town without parent": (csv_broken(5, "parent", ""), "第 5 行", "镇街必须有上级区域"),
    "bad wkt": (csv_broken(3, "geometry", "POLYGON ((121.3 28.3, oops))"), "第 3 行", "边界无法解析"),
    "bad geojson text": (csv_broken(2, "geometry", '{"type": "Polygon"'), "第 2 行", "边界无法解析"),
    "self-intersecting wkt": (
        csv_broken(3, "geometry",
                   "POLYGON ((121.3 28.3, 121.31 28.31, 121.31 28.3, 121.3 28.31, 121.3 28.3))"),
        "第 3 行", "边界几何无效"),
    "lon out of range": (
        csv_broken(3, "geometry", "POLYGON ((181 28.3, 182 28.3, 182 29, 181 28.3))"),
        "第 3 行", "经度应在 -180 到 180 之间"),
    "duplicate code": (csv_broken(3, "code", GRID_B), "第 3 行", "与第 2 行重复"),
    "bad households": (csv_broken(2, "households", "-3"), "第 2 行", "户数应为非负整数"),
    "households too big": (csv_broken(2, "households", "99999999999"), "第 2 行", "户数应为非负整数"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", CSV_CASES, ids=list(CSV_CASES))
def test_broken_csv_refused(existing_city, tmp_path, case):
    rows, place, reason = CSV_CASES[case]
    rows[-1][1] = "新名称"  # the city, last line
    assert_refused(write_csv(tmp_path / "broken.csv", rows), place, reason)
    assert Area.objects.get(code=CITY).name == "旧名称"
    assert Area.objects.count() == 1


@pytest.mark.django_db
def test_csv_line_numbers_count_multiline_cells_and_blank_lines(existing_city, tmp_path):
    polygon = json.dumps(box(1, 0), indent=1).replace('"', '""')
    breaks = polygon.count("\n")
    text = "\r\n".join([
        "code,name,level,parent,households,geometry",       # line 1
        f"{CITY},新名称,city,,,",                             # line 2
        "",                                                  # line 3
        f'{GRID_B},上墩村第2网格,grid,{VILLAGE},x,"{polygon}"',  # lines 4 to 4 + breaks
        f'{GRID_A},上墩村第1网格,grid,{VILLAGE},-1,"{WKT_A}"',    # line 5 + breaks
    ])
    path = tmp_path / "multi.csv"
    path.write_text(text, encoding="utf-8", newline="")
    problems = assert_refused(path, f"第 {5 + breaks} 行", "户数应为非负整数，实际为 '-1'")
    assert problems[0].startswith("第 4 行") and "'x'" in problems[0]
    assert len(problems) == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("header", "reason"),
    [(["code", "name", "parent"], "缺少列 level"),
     (["code", "name", "level", "househlds"], "未知的列 'househlds'")],
)
def test_csv_bad_header_refused(existing_city, tmp_path, header, reason):
    rows = [header, [GRID_A, "x", "grid", VILLAGE][: len(header)]]
    assert_refused(write_csv(tmp_path / "h.csv", rows), "第 1 行", reason)


@pytest.mark.django_db
def test_csv_too_many_fields_refused(existing_city, tmp_path):
    rows = [["code", "name", "level", "parent"], [CITY, "新名称", "city", "", "extra"]]
    assert_refused(write_csv(tmp_path / "x.csv", rows), "第 2 行", "字段数 5 多于表头的 4 列")


@pytest.mark.django_db
def test_unreadable_file_refused(tmp_path):
    with pytest.raises(AreaImportError, match="无法读取文件"):
        import_areas(tmp_path / "missing.geojson")


def test_unknown_format_refused(tmp_path: Path):
    with pytest.raises(AreaImportError, match="不支持的格式"):
        import_areas(io.StringIO("{}"), fmt="shp")


@pytest.mark.django_db
def test_full_width_digits_normalised(tmp_path):
    rows = [["code", "name", "level", "parent", "households"],
            ["３３１０８１", "温岭市", "city", "", "１２"]]
    assert import_areas(write_csv(tmp_path / "fw.csv", rows)).created == 1
    assert Area.objects.get(code=CITY).households == 12


@pytest.mark.django_db
def test_excel_mangled_code_explained(existing_city, tmp_path):
    rows = csv_broken(3, "code", "3.31081E+14")
    assert_refused(write_csv(tmp_path / "excel.csv", rows), "第 3 行", "被 Excel 当成了数字")


@pytest.mark.django_db
def test_non_ascii_digits_refused(existing_city, tmp_path):
    rows = csv_broken(6, "code", "٣٣١٠٨١")  # Arabic-Indic digits pass str.isdigit()
    assert_refused(write_csv(tmp_path / "digits.csv", rows), "第 6 行", "编码只能包含数字 0-9")


@pytest.mark.django_db
def test_problems_listed_in_file_order(existing_city, tmp_path):
    rows = csv_rows()
    rows[1][HEADER.index("parent")] = "331081107009"  # line 2: missing parent (found late)
    rows[2][HEADER.index("households")] = "x"  # line 3: bad field (found early)
    rows[3][HEADER.index("code")] = GRID_B  # line 4: duplicate of line 2
    problems = assert_refused(write_csv(tmp_path / "order.csv", rows), "第 2 行", "不存在")
    assert [p.split("（")[0] for p in problems] == ["第 2 行", "第 2 行", "第 3 行", "第 4 行"]
    assert "与第 2 行重复" in problems[-1]
