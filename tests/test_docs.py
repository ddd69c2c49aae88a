"""Documentation is tested: every setting the code reads and every command is in README."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "linge"
README = (ROOT / "README.md").read_text()
ENV_READ = re.compile(r"""(?:env_\w+|environ\.get|getenv)\(\s*["'](LINGE_[A-Z0-9_]+)["']""")


def variables_in_code() -> set[str]:
    found: set[str] = set()
    for path in SRC.rglob("*.py"):
        found |= set(ENV_READ.findall(path.read_text()))
    return found


def test_finds_the_variables() -> None:
    # Guard against a regex that silently matches nothing.
    assert {"LINGE_DATABASE_URL", "LINGE_SECRET_KEY", "LINGE_WORK_HOURS"} <= variables_in_code()


@pytest.mark.parametrize("name", sorted(variables_in_code()))
def test_every_setting_is_documented(name: str) -> None:
    assert f"`{name}`" in README, f"{name} is read by the code but not documented in README.md"


def linge_commands() -> set[str]:
    names = set()
    for path in SRC.glob("*/management/commands/*.py"):
        if not path.name.startswith("_"):
            names.add(path.stem.replace("_", "-"))
    return names


@pytest.mark.parametrize("command", sorted(linge_commands()))
def test_every_command_is_documented(command: str) -> None:
    assert f"`linge {command}" in README, f"linge {command} is not documented in README.md"


def test_readme_starts_with_the_two_commands() -> None:
    first_block = README.split("```")[1]
    assert "make run" in first_block and "make test" in first_block


def test_makefile_runs_what_readme_says() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^run:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci


def routes() -> list[str]:
    """Every route of the site but the admin's, as `/path/<param>` strings."""
    from tests.routes import all_routes

    return all_routes()


def test_finds_the_routes() -> None:
    assert {"/", "/work/", "/report", "/work/case/<number>/"} <= set(routes())


@pytest.mark.parametrize("route", routes())
def test_every_endpoint_is_documented(route: str) -> None:
    documented = re.findall(r"`(/[^`]*)`", README.split("### Endpoints")[1].split("\n### ")[0])
    # README names ids as <id> where the code says <pk> or <grid_id>.
    loose = {re.sub(r"<\w+>", "<>", r) for r in documented}
    assert re.sub(r"<\w+>", "<>", route) in loose, f"{route} is not in README.md's Endpoints"
