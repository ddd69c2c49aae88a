"""The import contract (pyproject.toml, [tool.importlinter]) holds, and catches a
wrong-way import: run on a copy of the code with one import added against the layers."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT = Path(sys.executable).parent / "lint-imports"


def _lint(src: Path, config_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT), "--no-cache"], cwd=config_dir, capture_output=True, text=True,
        env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin"}, timeout=120,
    )


def test_the_code_keeps_the_layers(tmp_path: Path) -> None:
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    result = _lint(ROOT / "src", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def _broken_by(tmp_path: Path, module: str, line: str) -> subprocess.CompletedProcess:
    src = tmp_path / "src"
    shutil.copytree(ROOT / "src" / "linge", src / "linge",
                    ignore=shutil.ignore_patterns("__pycache__", "locale", "static"))
    with open(src / "linge" / module, "a", encoding="utf-8") as file:
        file.write(f"\n{line}\n")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return _lint(src, tmp_path)


def test_a_case_rule_reaching_up_into_a_screen_breaks_it(tmp_path: Path) -> None:
    result = _broken_by(tmp_path, "cases/limits.py",
                        "from linge.workbench import queries  # noqa: E402,F401")
    assert result.returncode != 0
    assert "BROKEN" in result.stdout and "linge.cases.limits -> linge.workbench.queries" in (
        result.stdout)


def test_a_feature_importing_a_front_end_breaks_it(tmp_path: Path) -> None:
    # Inside a function too: a late import is still an import.
    result = _broken_by(tmp_path, "visits/households.py",
                        "def _late():\n    from linge.workbench.views import inbox  # noqa")
    assert result.returncode != 0 and "BROKEN" in result.stdout
