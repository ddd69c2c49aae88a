"""docs/figures.md describes every figure the API returns, like README does settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from linge.insights.figures import FIGURES

DOC = (Path(__file__).resolve().parents[2] / "docs" / "figures.md").read_text()


@pytest.mark.parametrize("key", FIGURES)
def test_every_figure_is_documented(key: str) -> None:
    assert f"| `{key}` |" in DOC, f"{key} is a figure but docs/figures.md does not describe it"


def test_the_stated_error_is_the_code_s() -> None:
    from linge.insights.figures import RELATIVE_ERROR

    assert RELATIVE_ERROR <= 0.05 and f"{RELATIVE_ERROR:.1%}" in DOC
