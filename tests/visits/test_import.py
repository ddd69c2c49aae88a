"""Household register CSV import: refused whole, with line numbers."""

from __future__ import annotations

import pytest

from linge.visits import households
from linge.visits.models import Household
from tests.conftest import City

GOOD = "地址,户主,人数,标签\n上墩村1号,王大伯,1,独居老人\n上墩村2号,李阿姨,4,低保、出租房\n"


def test_import_creates_then_updates(city: City) -> None:
    assert households.import_csv(city.grid, GOOD.encode()) == (2, 0)
    one = Household.objects.get(address="上墩村2号")
    assert one.tags == ["低保", "出租房"] and one.people == 4
    again = "address,head,people,tags\n上墩村2号,李阿姨,5,低保\n上墩村3号,赵叔,2,\n"
    assert households.import_csv(city.grid, again.encode("gb18030")) == (1, 1)
    assert Household.objects.get(address="上墩村2号").people == 5


def test_bad_rows_refuse_the_whole_file(city: City) -> None:
    bad = ("地址,户主,人数,标签\n上墩村1号,王大伯,1,独居老人\n,无地址,2,\n"
           "上墩村1号,重复,1,\n上墩村4号,钱,abc,\n上墩村5号,孙,2,外星人\n上墩村6号,周,²,\n")
    with pytest.raises(households.ImportRefused) as refused:
        households.import_csv(city.grid, bad.encode())
    problems = refused.value.problems
    assert problems[0].startswith("第 3 行") and "地址不能为空" in problems[0]
    assert any(p.startswith("第 4 行") and "第 2 行重复" in p for p in problems)
    assert any(p.startswith("第 5 行") and "人数" in p for p in problems)
    assert any(p.startswith("第 6 行") and "外星人" in p for p in problems)
    assert any(p.startswith("第 7 行") and "人数" in p for p in problems)
    assert not Household.objects.exists()


def test_missing_columns_and_empty_files(city: City) -> None:
    with pytest.raises(households.ImportRefused, match="缺少列"):
        households.import_csv(city.grid, "名字,电话\n张三,1\n".encode())
    with pytest.raises(households.ImportRefused, match="文件为空"):
        households.import_csv(city.grid, b"")
    with pytest.raises(households.ImportRefused, match="只能导入到网格"):
        households.import_csv(city.village, GOOD.encode())
