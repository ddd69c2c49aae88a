"""QR posters: `linge posters` and the admin action write A4 PDFs whose text, team,
phones and QR code (compared module by module with segno's matrix) are all there."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from PIL import Image

from linge.resident import posters
from linge.resident.qr import grid_qr_url

pytestmark = pytest.mark.django_db
needs_poppler = pytest.mark.skipif(
    not (shutil.which("pdftotext") and shutil.which("pdftoppm")),
    reason="poppler-utils not installed (apt-get install poppler-utils)",
)


@pytest.fixture
def font() -> posters.FontChoice:
    """A Chinese TrueType font, or a skip (a failure under CI) naming the package."""
    try:
        return posters.register_font()
    except posters.PosterError as error:
        if os.environ.get("CI"):
            pytest.fail(str(error))
        pytest.skip(f"SKIPPED posters: {error}")


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout


def qr_from_raster(path: Path, n: int, tmp_path: Path, dpi: int = 200) -> list[list[bool]]:
    """Sample the centre of every module where the poster draws the QR code."""
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", "-singlefile", str(path),
                    str(tmp_path / "page")], check=True)
    image = Image.open(tmp_path / "page.png").convert("L")
    scale = dpi / 72
    module = posters.QR_SIZE / n
    top = posters.PAGE_H - (posters.QR_Y + posters.QR_SIZE)
    return [
        [image.getpixel((round((posters.QR_X + (c + 0.5) * module) * scale),
                         round((top + (r + 0.5) * module) * scale))) < 128 for c in range(n)]
        for r in range(n)
    ]


@needs_poppler
def test_command_writes_one_poster_per_grid(city, tmp_path, settings, font) -> None:
    settings.LINGE_PUBLIC_URL = "https://linge.example.cn"
    out = tmp_path / "posters"
    call_command("posters", "--village", city.village.code, "--out", str(out))
    files = sorted(out.glob("*.pdf"))
    assert [f.name for f in files] == [f"poster-{city.grid.code}.pdf",
                                       f"poster-{city.neighbour_grid.code}.pdf"]
    text = pdf_text(files[0])
    assert "上墩村第1网格" in text and "温峤镇" in text and "上墩村" in text
    assert "网格团队" in text and "李专职" in text and "13800000001" in text
    assert "扫码反映问题" in text and "用手机微信或浏览器扫描二维码" in text
    url = grid_qr_url(city.grid.code)
    assert url.startswith("https://linge.example.cn/g/331081107001001?s=")
    assert url in text.replace("\n", "")
    expected = posters.qr_matrix(url)
    assert qr_from_raster(files[0], len(expected), tmp_path) == expected


def test_town_and_grid_filters(city, tmp_path, font) -> None:
    call_command("posters", "--town", city.other_town.code, "--out", str(tmp_path))
    assert [p.name for p in tmp_path.glob("*.pdf")] == [f"poster-{city.other_town_grid.code}.pdf"]
    call_command("posters", "--grid", city.grid.code, "--out", str(tmp_path / "one"))
    assert len(list((tmp_path / "one").glob("*.pdf"))) == 1


def test_command_needs_a_scope(city, tmp_path) -> None:
    with pytest.raises(CommandError, match="--grid"):
        call_command("posters", "--out", str(tmp_path))
    with pytest.raises(CommandError, match="没有找到"):
        call_command("posters", "--grid", "999999999999999", "--out", str(tmp_path))


def test_no_font_is_a_clear_error(city) -> None:
    with pytest.raises(posters.PosterError, match="fonts-wqy-microhei"):
        posters.register_font([("/nonexistent/font.ttc", 0)])
    noto = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
    if Path(noto).exists():  # CFF outlines: reportlab refuses, and the message says so
        with pytest.raises(posters.PosterError, match="postscript"):
            posters.register_font([(noto, 2)])


def test_admin_action_downloads_one_pdf(client, city, font) -> None:
    client.force_login(city["admin"])
    response = client.post("/admin/areas/area/", {
        "action": "qr_posters", "_selected_action": [city.village.pk, city.other_town_grid.pk],
    })
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert b"/Count 3" in response.content  # the village's two grids and the other one
