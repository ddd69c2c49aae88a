"""`make test` stops at once, with the install command, when a machine tool is missing;
`make run` installs no test tools; `linge help` lists `serve`."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "check_test_tools.py"


def _check(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True,
                          env=env, timeout=30)


def test_missing_chromium_stops_with_the_install_command(tmp_path) -> None:
    done = _check({"PATH": str(tmp_path), "LINGE_CHROMIUM": str(tmp_path / "chromium")})
    assert done.returncode == 1
    assert "Chromium" in done.stderr and "poppler-utils" in done.stderr
    assert "sudo apt-get install chromium" in done.stderr


def test_this_machine_has_the_tools() -> None:
    spec = importlib.util.spec_from_file_location("check_test_tools", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.missing() == []


def test_make_run_installs_no_test_tools() -> None:
    plan = subprocess.run(["make", "-n", "-B", "setup-run"], cwd=ROOT, capture_output=True,
                          text=True, timeout=30).stdout
    assert "pip install --quiet -e ." in plan and "[test]" not in plan
    run_plan = subprocess.run(["make", "-n", "run"], cwd=ROOT, capture_output=True, text=True,
                              timeout=30).stdout
    assert "[test]" not in run_plan
    test_plan = subprocess.run(["make", "-n", "test"], cwd=ROOT, capture_output=True,
                               text=True, timeout=30).stdout
    assert test_plan.index("check_test_tools.py") < test_plan.index("pytest")


def test_linge_help_lists_serve(capsys) -> None:
    from linge.cli import main

    main(["help"])
    out = capsys.readouterr().out
    assert "[linge]" in out and "    serve" in out and "migrate" in out
