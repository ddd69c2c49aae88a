"""QR posters: one printable A4 page per grid, with its outline, its team and phone
numbers, and the QR code of its signed /g/ URL (see resident.qr).

The Chinese font comes from the machine's Debian packages. reportlab embeds TrueType
outlines only, so Noto Sans CJK (fonts-noto-cjk, OpenType/CFF outlines) is tried first
in case a later reportlab reads it, then the TrueType fonts of fonts-wqy-microhei,
fonts-wqy-zenhei, fonts-arphic-uming and fonts-droid-fallback. Without any of them
the poster is refused with a message that says which package to install.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import segno
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen.canvas import Canvas

from linge.areas.models import Area, Level
from linge.resident.present import boundary_rings, team_of
from linge.resident.qr import grid_qr_url

FONT_NAME = "LingeCJK"
# (path, sub-font index): index 2 of the Noto CJK collection is Simplified Chinese.
FONT_CANDIDATES: list[tuple[str, int]] = [
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/opentype/noto-cjk/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0),
]

PAGE_W, PAGE_H = A4
MARGIN = 40.0
# Where the QR code is drawn (points from the bottom-left corner), module by module.
QR_SIZE = 220.0
QR_X = PAGE_W - MARGIN - QR_SIZE
QR_Y = PAGE_H - 130.0 - QR_SIZE
QR_ERROR = "m"


class PosterError(Exception):
    """A poster cannot be made (no Chinese font); the message says what to do."""


@dataclass(frozen=True)
class FontChoice:
    path: str
    index: int


def register_font(candidates: Iterable[tuple[str, int]] | None = None) -> FontChoice:
    """Register the first usable Chinese font as FONT_NAME; PosterError when none is."""
    tried = []
    for path, index in candidates if candidates is not None else FONT_CANDIDATES:
        if not Path(path).exists():
            continue
        try:
            pdfmetrics.registerFont(TTFont(FONT_NAME, path, subfontIndex=index))
        except (TTFError, OSError) as error:
            tried.append(f"{path}: {error}")
            continue
        return FontChoice(path, index)
    detail = ("；".join(tried)) if tried else _("未找到任何中文字体")
    raise PosterError(
        _("无法生成海报：没有可嵌入 PDF 的中文字体（%(detail)s）。"
          "请安装 TrueType 中文字体：apt-get install fonts-wqy-microhei") % {"detail": detail}
    )


def qr_matrix(url: str) -> list[list[bool]]:
    """The QR code's modules (no quiet zone), as drawn on the poster."""
    code = segno.make(url, error=QR_ERROR, micro=False)
    return [[bool(cell) for cell in row] for row in code.matrix]


def grids_for(*, grid: str = "", village: str = "", town: str = "") -> QuerySet[Area]:
    """The grids under the given codes (all given filters must hold)."""
    grids = Area.objects.filter(level=Level.GRID).select_related("parent__parent")
    if grid:
        grids = grids.filter(code=grid)
    if village:
        grids = grids.filter(parent__code=village)
    if town:
        grids = grids.filter(parent__parent__code=town)
    return grids.order_by("code")


def grids_under(areas: Iterable[Area]) -> QuerySet[Area]:
    """The grids of the given areas, whatever their level (codes nest by prefix)."""
    from django.db.models import Q

    condition = Q(pk__in=[])
    for area in areas:
        condition |= Q(code__startswith=area.code)
    return Area.objects.filter(condition, level=Level.GRID).order_by("code")


def _outline(c: Canvas, grid: Area, x: float, y: float, size: float) -> None:
    rings = boundary_rings(grid.boundary)
    c.setStrokeColorRGB(0.04, 0.42, 0.8)
    c.setLineWidth(1)
    c.rect(x, y, size, size, stroke=1, fill=0)
    points = [p for ring in rings for p in ring]
    if not points:
        c.setFont(FONT_NAME, 10)
        c.drawCentredString(x + size / 2, y + size / 2, _("（无边界数据）"))
        return
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    west, south = min(lons), min(lats)
    span = max(max(lons) - west, max(lats) - south) or 1.0
    scale = (size - 20) / span
    c.setFillColorRGB(0.81, 0.88, 0.96)
    c.setLineWidth(2)
    for ring in rings:
        path = c.beginPath()
        for i, (lon, lat) in enumerate(ring):
            px, py = x + 10 + (lon - west) * scale, y + 10 + (lat - south) * scale
            path.moveTo(px, py) if i == 0 else path.lineTo(px, py)
        path.close()
        c.drawPath(path, stroke=1, fill=1)


def _qr(c: Canvas, url: str) -> None:
    matrix = qr_matrix(url)
    n = len(matrix)
    module = QR_SIZE / n
    c.setFillColorRGB(1, 1, 1)
    c.rect(QR_X - 4 * module, QR_Y - 4 * module, QR_SIZE + 8 * module, QR_SIZE + 8 * module,
           stroke=0, fill=1)
    c.setFillColorRGB(0, 0, 0)
    for r, row in enumerate(matrix):
        for col, dark in enumerate(row):
            if dark:
                c.rect(QR_X + col * module, QR_Y + QR_SIZE - (r + 1) * module, module, module,
                       stroke=0, fill=1)


def draw_poster(c: Canvas, grid: Area) -> None:
    """One A4 page for one grid."""
    url = grid_qr_url(grid.code)
    village = grid.parent
    town = village.parent if village else None
    c.setFillColorRGB(0.04, 0.42, 0.8)
    c.rect(0, PAGE_H - 90, PAGE_W, 90, stroke=0, fill=1)
    c.setFillColorRGB(1, 1, 1)
    c.setFont(FONT_NAME, 26)
    c.drawString(MARGIN, PAGE_H - 50, grid.name)
    c.setFont(FONT_NAME, 13)
    place = " · ".join(a.name for a in (town, village) if a is not None)
    c.drawString(MARGIN, PAGE_H - 75, f"{place}  {_('网格编码')} {grid.code}")

    _qr(c, url)
    c.setFillColorRGB(0, 0, 0)
    c.setFont(FONT_NAME, 14)
    c.drawCentredString(QR_X + QR_SIZE / 2, QR_Y - 30, _("扫码反映问题"))
    c.setFont("Helvetica", 6)
    c.drawCentredString(QR_X + QR_SIZE / 2, QR_Y - 44, url)

    outline_size = QR_SIZE
    _outline(c, grid, MARGIN, QR_Y, outline_size)
    c.setFillColorRGB(0, 0, 0)
    c.setFont(FONT_NAME, 12)
    c.drawString(MARGIN, QR_Y - 30, _("网格范围示意"))

    y = QR_Y - 90
    c.setFont(FONT_NAME, 18)
    c.drawString(MARGIN, y, _("网格团队"))
    y -= 30
    c.setFont(FONT_NAME, 14)
    for duty, name, phone in team_of(grid)[:12]:
        c.drawString(MARGIN, y, duty)
        c.drawString(MARGIN + 130, y, name)
        if phone:
            c.drawString(MARGIN + 260, y, phone)
        y -= 24

    c.setFillColorRGB(0.96, 0.97, 0.98)
    c.rect(MARGIN - 10, 50, PAGE_W - 2 * MARGIN + 20, 70, stroke=0, fill=1)
    c.setFillColorRGB(0.12, 0.16, 0.2)
    c.setFont(FONT_NAME, 13)
    c.drawString(MARGIN, 95, _("1. 用手机微信或浏览器扫描二维码，拍照并描述身边的问题，一键上报。"))
    c.drawString(MARGIN, 70, _("2. 网格员及时受理，办理进展会告知您；办结后请您评价，不满意可退回重办。"))
    c.setFont("Helvetica", 7)
    c.drawRightString(PAGE_W - MARGIN, 30, "Linge")


def posters_pdf(grids: Iterable[Area]) -> bytes:
    """A PDF with one A4 page per grid."""
    register_font()
    out = io.BytesIO()
    c = Canvas(out, pagesize=A4)
    c.setTitle(_("网格二维码海报"))
    count = 0
    for grid in grids:
        draw_poster(c, grid)
        c.showPage()
        count += 1
    if not count:
        raise PosterError(_("没有找到网格"))
    c.save()
    return out.getvalue()


def write_posters(grids: Iterable[Area], out_dir: Path) -> list[Path]:
    """One PDF file per grid, named by its code, in out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for grid in grids:
        path = out_dir / f"poster-{grid.code}.pdf"
        path.write_bytes(posters_pdf([grid]))
        written.append(path)
    return written
