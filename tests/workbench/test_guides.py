"""The role guides exist, are Chinese, and every screenshot they show is there."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
GUIDES = ["guide-grid-worker.md", "guide-dispatcher.md", "guide-department.md",
          "guide-leader.md"]


@pytest.mark.parametrize("name", GUIDES)
def test_guide_shows_existing_screenshots(name: str) -> None:
    text = (DOCS / name).read_text()
    assert text.startswith("# ") and "使用指南" in text.splitlines()[0]
    shots = re.findall(r"\]\((screenshots/[^)]+\.png)\)", text)
    assert shots, name
    for shot in shots:
        assert (DOCS / shot).exists(), shot
