"""Chinese first, English by the switch; every string of the resident pages translated."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from linge.resident.qr import grid_qr_path

PO = Path(__file__).resolve().parents[2] / "src/linge/locale/en/LC_MESSAGES/django.po"
MINE = re.compile(r"#:.*(resident/|cases/photos\.py|cases/suggest\.py|cases/nearby\.py)")


@pytest.mark.django_db
def test_chinese_by_default_english_by_switch(client, city) -> None:
    page = client.get(grid_qr_path(city.grid.code)).content.decode()
    assert 'lang="zh-hans"' in page and "我要反映问题" in page
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/report"})
    assert response.status_code == 302
    page = client.get("/report").content.decode()
    assert 'lang="en"' in page and "Report a problem" in page and "Use my location" in page
    assert "反映问题" not in page.split("<main>")[1].split("</main>")[0].replace("暴露垃圾", "")
    page = client.get(grid_qr_path(city.grid.code)).content.decode()
    assert "Grid team" in page and "Full-time grid worker" in page


def test_every_resident_string_has_an_english_translation() -> None:
    text = PO.read_text(encoding="utf-8")
    missing = []
    for block in text.split("\n\n"):
        if not MINE.search(block):
            continue
        if re.search(r'^msgstr ""\n?$', block.strip().split("\n")[-1], re.M) or "#, fuzzy" in block:
            missing.append(block)
    assert not missing, "untranslated:\n" + "\n\n".join(missing)
    assert PO.with_suffix(".mo").exists()
