"""Loading the category tree: the packaged file, reloads, and refused files."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from linge.cases import deadlines
from linge.cases.categories import (
    COLUMNS,
    DEFAULT_PATH,
    CategoryFileError,
    import_category_file,
    load_categories,
)
from linge.cases.models import Category, TimeUnit
from linge.cli import main as linge_main
from linge.people.models import Lane

pytestmark = pytest.mark.django_db

HEADER = ",".join(COLUMNS)


def write_csv(tmp_path: Path, *lines: str, name: str = "categories.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


def snapshot() -> list[tuple]:
    """Everything a load may write, to prove a refused file changed nothing."""
    categories = Category.objects.order_by("code").values_list(
        "code", "name", "parent__code", "lane__code", "accept_within", "accept_unit",
        "resolve_within", "resolve_unit", "photo_after_required", "auto_escalate", "keywords",
    )
    lanes = Lane.objects.order_by("code").values_list("code", "name", "position")
    return [*categories, *lanes]


def test_packaged_tree_loads_12_groups_and_58_leaves():
    created, updated = load_categories()
    assert (created, updated) == (70, 0)
    groups = Category.objects.filter(parent__isnull=True)
    leaves = Category.objects.filter(parent__isnull=False)
    assert groups.count() == 12
    assert leaves.count() == 58
    for leaf in leaves:
        assert leaf.parent.parent_id is None
        assert leaf.lane is not None
        assert leaf.accept_within is not None and leaf.accept_unit in TimeUnit.values
        assert leaf.resolve_within is not None and leaf.resolve_unit in TimeUnit.values


def test_lanes_get_their_codes_and_positions():
    load_categories()
    assert list(Lane.objects.values_list("code", "name", "position")) == [
        ("zongzhi", "综治工作", 1),
        ("shichang", "市场监管", 2),
        ("zhifa", "综合执法", 3),
        ("bianmin", "便民服务", 4),
    ]


def test_rows_are_read_as_written():
    load_categories()
    garbage = Category.objects.get(code="0101")
    assert garbage.name == "暴露垃圾"
    assert garbage.parent.code == "01"
    assert garbage.lane.code == "zhifa"
    assert (garbage.accept_within, garbage.accept_unit) == (2, TimeUnit.WORK_HOURS)
    assert (garbage.resolve_within, garbage.resolve_unit) == (4, TimeUnit.WORK_HOURS)
    assert garbage.photo_after_required is True
    assert garbage.keywords == "垃圾 垃圾桶 满了 乱扔 臭"
    building = Category.objects.get(code="0401")
    assert (building.resolve_within, building.resolve_unit) == (15, TimeUnit.WORK_DAYS)
    assert Category.objects.get(code="0404").photo_after_required is False
    assert Category.objects.get(code="0503").lane.code == "shichang"


def test_half_an_hour_is_kept():
    import_category_file()
    gas = Category.objects.get(code="0603")
    assert (gas.accept_within, gas.accept_unit) == (Decimal("0.5"), TimeUnit.CLOCK_HOURS)
    assert deadlines.budget(gas.accept_within, gas.accept_unit) == (1800, "wall")


def test_urgent_leaves_escalate_by_themselves():
    load_categories()
    leaves = Category.objects.filter(parent__isnull=False)
    urgent = {c.code for c in leaves if c.resolve_unit == TimeUnit.CLOCK_HOURS}
    assert {"0105", "0202", "0601", "0603", "1102"} <= urgent
    assert set(leaves.filter(auto_escalate=True).values_list("code", flat=True)) == urgent
    assert not Category.objects.filter(parent__isnull=True, auto_escalate=True).exists()


def test_reloading_updates_instead_of_duplicating(tmp_path):
    load_categories()
    ids = dict(Category.objects.values_list("code", "pk"))
    assert load_categories() == (0, 0)
    assert Category.objects.count() == 70
    assert Lane.objects.count() == 4

    text = DEFAULT_PATH.read_text(encoding="utf-8")
    text = text.replace("0101,01,暴露垃圾,综合执法,2,工作时,4,工作时", "0101,01,暴露垃圾（垃圾桶）,综合执法,1,工作时,3,紧急时")
    text += "0109,01,废弃车辆,综合执法,2,工作时,5,工作日,1,僵尸车 废弃 车辆\n"
    edited = tmp_path / "edited.csv"
    edited.write_text(text, encoding="utf-8")

    assert load_categories(edited) == (1, 1)
    assert Category.objects.count() == 71
    garbage = Category.objects.get(code="0101")
    assert garbage.pk == ids["0101"]
    assert garbage.name == "暴露垃圾（垃圾桶）"
    assert (garbage.accept_within, garbage.resolve_within) == (1, 3)
    assert garbage.resolve_unit == TimeUnit.CLOCK_HOURS
    assert garbage.auto_escalate is True
    assert Category.objects.get(code="0109").parent.code == "01"
    assert dict(Category.objects.exclude(code="0109").values_list("code", "pk")) == ids


def test_categories_missing_from_the_file_are_kept(tmp_path):
    load_categories()
    path = write_csv(tmp_path, "01,,市容环境,综合执法,,,,,,")
    assert load_categories(path) == (0, 0)
    assert Category.objects.count() == 70


def test_a_leaf_may_hang_under_a_group_already_in_the_database(tmp_path):
    load_categories()
    path = write_csv(tmp_path, "0306,03,窨井异味,,2,工作时,2,工作日,0,窨井 臭")
    assert load_categories(path) == (1, 0)
    leaf = Category.objects.get(code="0306")
    assert leaf.parent.code == "03"
    assert leaf.lane.code == "bianmin"  # inherited from its 大类


def test_an_unknown_lane_gets_a_code_and_goes_last(tmp_path):
    load_categories()
    path = write_csv(
        tmp_path,
        "13,,卫生健康,卫生健康,,,,,,",
        "1301,13,病媒生物,卫生健康,2,工作时,3,工作日,1,老鼠 蟑螂 蚊子",
        "1302,13,Dog bites,Health,2,工作时,3,工作日,0,",
    )
    load_categories(path)
    health = Lane.objects.get(name="卫生健康")
    assert health.code.startswith("lane-")
    assert health.position == 5
    assert Lane.objects.get(name="Health").code == "health"
    assert Lane.objects.get(name="Health").position == 6
    # Stable: loading again finds the same lanes.
    load_categories(path)
    assert Lane.objects.count() == 6


BROKEN = {
    "bad unit word": ("0110,01,乱贴广告,综合执法,2,小时,1,工作日,1,", "单位“小时”不认识"),
    "missing parent": ("9901,99,无主小类,综合执法,2,工作时,1,工作日,1,", "上级分类 99"),
    "negative number": ("0110,01,乱贴广告,综合执法,2,工作时,-1,工作日,1,", "不能为负数"),
    "not a number": ("0110,01,乱贴广告,综合执法,两,工作时,1,工作日,1,", "应为非负整数"),
    "leaf without deadline": ("0110,01,乱贴广告,综合执法,2,工作时,,,1,", "小类必须同时填写"),
    "number without unit": ("0110,01,乱贴广告,综合执法,2,,1,工作日,1,", "缺少单位"),
    "bad photo flag": ("0110,01,乱贴广告,综合执法,2,工作时,1,工作日,yes,", "photo_after"),
    "duplicate code": ("0101,01,又一个,综合执法,2,工作时,1,工作日,1,", "与第 3 行重复"),
    "leaf under a leaf": ("010101,0101,孙类,综合执法,2,工作时,1,工作日,1,", "只能挂在大类下"),
    "no name": ("0110,01,,综合执法,2,工作时,1,工作日,1,", "名称不能为空"),
}


@pytest.mark.parametrize("problem", sorted(BROKEN))
def test_a_broken_file_is_refused_with_its_line_and_changes_nothing(tmp_path, problem):
    line, message = BROKEN[problem]
    path = write_csv(
        tmp_path,
        "01,,市容环境,综合执法,,,,,,",
        "0101,01,暴露垃圾,综合执法,2,工作时,4,工作时,1,垃圾",
        line,
        "14,,新大类,新条线,,,,,,",
        "1401,14,新小类,新条线,1,工作时,1,工作日,0,",
    )
    with pytest.raises(CategoryFileError) as refused:
        load_categories(path)
    assert any(p.startswith("第 4 行：") and message in p for p in refused.value.problems), (
        refused.value.problems
    )
    assert Category.objects.count() == 0
    assert Lane.objects.count() == 0


def test_a_broken_file_leaves_a_loaded_tree_as_it_was(tmp_path):
    load_categories()
    before = snapshot()
    text = DEFAULT_PATH.read_text(encoding="utf-8").replace(
        "0101,01,暴露垃圾,综合执法,2,工作时,4,工作时", "0101,01,暴露垃圾,综合执法,9,工作时,9,工作时"
    )
    text += "0109,01,坏行,综合执法,2,工作时,5,星期,1,\n"
    path = tmp_path / "broken.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CategoryFileError, match="第 72 行"):
        load_categories(path)
    assert snapshot() == before


def test_all_problems_are_listed_by_line(tmp_path):
    path = write_csv(
        tmp_path,
        "01,,市容环境,综合执法,,,,,,",
        "0101,01,暴露垃圾,综合执法,2,小时,4,工作时,1,",
        "0102,01,积存垃圾,综合执法,2,工作时,-4,工作时,1,",
        "9901,99,无主,综合执法,2,工作时,4,工作时,1,",
    )
    with pytest.raises(CategoryFileError) as refused:
        load_categories(path)
    lines = [p.split("：")[0] for p in refused.value.problems]
    assert lines == ["第 3 行", "第 4 行", "第 5 行"]
    assert str(refused.value).startswith("分类文件有误，未导入任何数据")


def test_a_group_that_keeps_its_leaves_cannot_become_a_leaf(tmp_path):
    load_categories()
    path = write_csv(tmp_path, "05,01,市场秩序,市场监管,1,工作时,1,工作日,0,")
    with pytest.raises(CategoryFileError, match="05 在系统中有小类 0501"):
        load_categories(path)


def test_missing_columns_and_missing_file_are_refused(tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("code,name\n01,市容环境\n", encoding="utf-8")
    with pytest.raises(CategoryFileError, match="第 1 行：缺少列"):
        load_categories(path)
    with pytest.raises(CategoryFileError, match="找不到分类文件"):
        load_categories(tmp_path / "nowhere.csv")


def test_a_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_text(DEFAULT_PATH.read_text(encoding="utf-8"), encoding="utf-8-sig")
    assert load_categories(path) == (70, 0)


def test_command_prints_a_chinese_summary(capsys):
    call_command("import_categories")
    out = capsys.readouterr().out
    assert "大类 12 个，小类 58 个" in out
    assert "新增 70 个" in out
    call_command("import_categories")
    assert "新增 0 个，更新 0 个，未变 70 个" in capsys.readouterr().out


def test_command_fails_with_the_line_number(tmp_path):
    path = write_csv(tmp_path, "0101,99,暴露垃圾,综合执法,2,工作时,4,工作时,1,")
    with pytest.raises(CommandError, match="第 2 行"):
        call_command("import_categories", str(path))
    assert Category.objects.count() == 0


def test_linge_cli_alias(tmp_path, capsys):
    path = write_csv(
        tmp_path, "01,,市容环境,综合执法,,,,,,", "0101,01,暴露垃圾,综合执法,2,工作时,4,工作时,1,"
    )
    linge_main(["import-categories", str(path)])
    assert "新增 2 个" in capsys.readouterr().out


def test_packaged_tree_keeps_sensitive_categories_off_the_public_page() -> None:
    from importlib import import_module

    load_categories()
    hidden = set(Category.objects.filter(public=False).values_list("code", flat=True))
    assert hidden == {"08", "0801", "0802", "0803", "0804", "0805", "0901", "0902", "0903",
                      "1001", "1002", "1003"}
    # The migration hides the same ones in a database loaded before the flag existed.
    migration = import_module("linge.cases.migrations.0006_category_public_flag_off_for_sensitive")
    assert set(migration.NOT_PUBLIC) == hidden
    assert Category.objects.get(code="0101").public is True


def test_public_column_is_optional_and_inherited(tmp_path: Path) -> None:
    old = tmp_path / "old.csv"
    old.write_text(
        "code,parent,name,lane,accept_within,accept_unit,resolve_within,resolve_unit,"
        "photo_after,keywords\n01,,市容环境,综合执法,,,,,,\n"
        "0101,01,暴露垃圾,综合执法,2,工作时,4,工作时,1,垃圾\n", encoding="utf-8")
    load_categories(old)
    assert Category.objects.get(code="0101").public is True
    path = write_csv(tmp_path, "08,,矛盾纠纷,综治工作,,,,,,,0",
                     "0801,08,邻里纠纷,综治工作,2,工作时,5,工作日,0,邻居,",
                     "0802,08,调解结果公示,综治工作,2,工作时,5,工作日,0,调解,1")
    load_categories(path)
    public = dict(Category.objects.values_list("code", "public"))
    assert public["08"] is False and public["0801"] is False and public["0802"] is True


def test_bad_public_value_is_refused(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "01,,市容环境,综合执法,,,,,,,也许")
    with pytest.raises(CategoryFileError) as refused:
        load_categories(path)
    assert refused.value.problems == ["第 2 行：public 应为 1、0 或留空，实际为 '也许'"]
    assert not Category.objects.exists()
