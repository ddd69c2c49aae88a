"""The filtered inbox as CSV (streamed) or Excel (write-only, through a temporary
file, so 100,000 rows never sit in memory), phones masked.

The inbox page says a download is being prepared until the response arrives: the link
carries a `token`, and the response sets it back in a cookie the page watches for."""

from __future__ import annotations

import csv
import re
import tempfile
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linge.cases import deadlines
from linge.cases.models import Case
from linge.people.decorators import staff_required
from linge.people.privacy import mask_phone
from linge.people.roles import roles_of
from linge.plaintext import strip_controls
from linge.workbench import queries as Q_

EXPORT_LIMIT = 100_000
_h = gettext_lazy
EXPORT_HEADER = [
    _h("编号"), _h("上报时间"), _h("来源"), _h("分类"), _h("状态"), _h("镇街"), _h("村社"),
    _h("网格"), _h("地址"), _h("描述"), _h("报告人电话"), _h("承办单位"), _h("受理期限"),
    _h("办结期限"), _h("超期"), _h("督办"), _h("评价"),
]

# A cell a spreadsheet would read as a formula (CSV/formula injection): =, +, -, @, and
# tab or carriage return ahead of one. Resident text must stay text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        value = strip_controls(value)  # from cases written before text was cleaned
        if value.startswith(FORMULA_STARTS):
            return "'" + value
    return value


def export_rows(user, request: HttpRequest) -> Iterator[list]:
    now = timezone.now()
    f = Q_.parse_filters(request.GET, roles_of(user))
    qs = Q_.filtered(user, f, now).select_related(
        "category__parent", "grid", "village", "town", "dispatched_unit"
    ).order_by("-created_at")[:EXPORT_LIMIT]
    yes, no = _("是"), _("否")

    def fmt(value: datetime | None) -> str:
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""

    for c in qs.iterator(chunk_size=2000):
        yield [_cell(value) for value in _export_row(c, fmt, yes, no, now)]


def _export_row(c: Case, fmt: Callable[[datetime | None], str], yes: str, no: str,
                now: datetime) -> list:
    return [
        c.number, fmt(c.created_at), c.get_source_display(), c.category.label,
        c.get_state_display(), c.town.name, c.village.name, c.grid.name, c.address,
        c.description, mask_phone(c.reporter_phone),
        c.dispatched_unit.name if c.dispatched_unit else "", fmt(c.accept_due),
        fmt(c.resolve_due), yes if deadlines.is_overdue(c, now) else no,
        yes if c.supervised else no, c.get_rating_display() if c.rating else "",
    ]


class _Echo:
    def write(self, value: str) -> str:
        return value


@staff_required
def export_csv(request: HttpRequest) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines():
        yield "\ufeff"  # so that Excel opens the UTF-8 file as such
        yield writer.writerow([str(h) for h in EXPORT_HEADER])
        for row in export_rows(request.user, request):
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="cases-{_stamp()}.csv"'
    return _ready(request, response)


@staff_required
def export_xlsx(request: HttpRequest) -> HttpResponse:
    from openpyxl import Workbook

    book = Workbook(write_only=True)  # rows go to a temporary XML file as appended
    sheet = book.create_sheet(_("案件"))
    sheet.append([str(h) for h in EXPORT_HEADER])
    for row in export_rows(request.user, request):
        sheet.append(row)
    # Zipped into a temporary file on disk, then sent from it in chunks; the file is
    # deleted when the response closes it.
    handle = tempfile.TemporaryFile(suffix=".xlsx")
    book.save(handle)
    handle.seek(0)
    response = FileResponse(
        handle, as_attachment=True, filename=f"cases-{_stamp()}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    return _ready(request, response)


EXPORT_COOKIE = "linge_export"
_TOKEN = re.compile(r"^[A-Za-z0-9]{8,32}$")


def _ready(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Tell the inbox page that the download it asked for has started."""
    token = request.GET.get("token", "")
    if _TOKEN.match(token):
        response.set_cookie(EXPORT_COOKIE, token, max_age=300, path="/work/", samesite="Lax",
                            secure=request.is_secure())
    return response


def _stamp() -> str:
    return timezone.localtime().strftime("%Y%m%d-%H%M")
