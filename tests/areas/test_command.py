"""`linge import-areas`: summary on success, errors on stderr and status 1 on failure."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from linge.areas.models import Area
from tests.areas.conftest import CITY, tree_features, write_csv, write_geojson

LINGE = Path(sys.executable).with_name("linge")


@pytest.mark.django_db
def test_command_prints_summary(tmp_path):
    out = StringIO()
    call_command("import_areas", str(write_geojson(tmp_path / "t.geojson", tree_features())),
                 stdout=out)
    assert "新增 5，更新 0" in out.getvalue()
    call_command("import_areas", str(tmp_path / "t.geojson"), stdout=(out := StringIO()))
    assert "新增 0，更新 0，未变 5" in out.getvalue()


@pytest.mark.django_db
def test_command_format_option(tmp_path):
    path = tmp_path / "areas.txt"
    path.write_text("code,name,level,parent\n331081,温岭市,city,\n", encoding="utf-8")
    out = StringIO()
    call_command("import_areas", str(path), "--format", "csv", stdout=out)
    assert "新增 1" in out.getvalue()
    assert Area.objects.get(code=CITY).name == "温岭市"


@pytest.mark.django_db
def test_command_refuses_broken_file(tmp_path):
    features = tree_features()
    features[1]["properties"]["households"] = -1
    path = write_geojson(tmp_path / "t.geojson", features)
    with pytest.raises(CommandError) as caught:
        call_command("import_areas", str(path))
    message = str(caught.value)
    assert "导入失败，共 1 个问题，未写入任何数据" in message
    assert "第 2 个要素（331081107001001）：户数应为非负整数" in message
    assert Area.objects.count() == 0


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LINGE_VAR_DIR": str(tmp_path / "var"),
           "LINGE_DATABASE_URL": f"sqlite:///{tmp_path / 'linge.sqlite3'}"}
    return subprocess.run([str(LINGE), *args], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def test_cli_exit_status(tmp_path):
    # Its own SQLite database in tmp_path: the test database is not visible to a subprocess.
    assert _run(tmp_path, "migrate", "--verbosity", "0").returncode == 0
    good = write_csv(tmp_path / "city.csv", [["code", "name", "level", "parent"],
                                              [CITY, "温岭市", "city", ""]])
    done = _run(tmp_path, "import-areas", str(good))
    assert (done.returncode, done.stderr) == (0, "")
    assert "新增 1，更新 0" in done.stdout

    bad = tmp_path / "bad.geojson"
    bad.write_text(json.dumps({"type": "FeatureCollection", "features": []})[:-3])
    done = _run(tmp_path, "import-areas", str(bad), "--format", "geojson")
    assert done.returncode == 1
    assert "JSON 格式错误（第 1 行" in done.stderr
    assert done.stdout == ""

    done = _run(tmp_path, "import-areas", str(tmp_path / "missing.csv"))
    assert done.returncode == 1 and "无法读取文件" in done.stderr
