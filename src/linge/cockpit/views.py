"""The leaders' screens at /cockpit/. Pages are shells: every number on them is read by
the page's script from /api/v1/insights/, and every table exports to Excel here from
the same functions the API serves."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date
from io import BytesIO
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linge.areas.models import Area, Level
from linge.cases import policy
from linge.insights import behind, figures, rankings, rollups, screens
from linge.people.roles import roles_of
from linge.plaintext import sheet_text


def leaders_screen(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Staff only (anonymous → the workbench login); residents get 403."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect(f"{reverse('workbench:login')}?next={request.get_full_path()}")
        if request.user.is_resident or not roles_of(request.user).is_staff_member:
            raise PermissionDenied(_("数据舱仅供工作人员使用"))
        area = policy.home_area(request.user)
        if area is None:
            raise PermissionDenied(_("没有可查看的区域"))
        return view(request, area, *args, **kwargs)

    return wrapper


def _context(request: HttpRequest, area: Area, screen: str, **extra) -> dict:
    layout = "big" if request.GET.get("layout") == "big" else "laptop"
    return {"screen": screen, "home": area, "layout": layout,
            "tiles": settings.LINGE_MAP_TILES, **extra}


@leaders_screen
def home(request: HttpRequest, area: Area) -> HttpResponse:
    return render(request, "cockpit/home.html", _context(request, area, "home"))


@leaders_screen
def disposal(request: HttpRequest, area: Area) -> HttpResponse:
    return render(request, "cockpit/disposal.html", _context(request, area, "disposal"))


@leaders_screen
def analysis(request: HttpRequest, area: Area) -> HttpResponse:
    return render(request, "cockpit/analysis.html", _context(request, area, "analysis"))


@leaders_screen
def board(request: HttpRequest, area: Area) -> HttpResponse:
    return render(request, "cockpit/board.html",
                  _context(request, area, "board", formula=rankings.formula(), public=False))


def public_board(request: HttpRequest) -> HttpResponse:
    """The 晾晒台 for everyone: towns, villages and grids; no worker, no name of a person."""
    city = Area.objects.filter(level=Level.CITY).order_by("code").first()
    if city is None:
        raise Http404
    return render(request, "cockpit/board.html",
                  _context(request, city, "board", formula=rankings.formula(), public=True))


@leaders_screen
def record(request: HttpRequest, area: Area) -> HttpResponse:
    return render(request, "cockpit/record.html", _context(request, area, "record"))


@leaders_screen
def cases(request: HttpRequest, area: Area) -> HttpResponse:
    """The cases behind one number of the screens (insights/behind.py)."""
    figure = request.GET.get("figure", "")
    if figure not in behind.FIGURES:
        raise Http404
    worker = request.GET.get("worker", "")
    return render(request, "cockpit/cases.html", _context(
        request, area, "cases", figure=figure, label=FIGURE_LABELS[figure],
        per_verdict=figure in behind.PER_VERDICT, worker=worker if worker.isdigit() else ""))


# Excel.

FIGURE_LABELS = {
    "received": gettext_lazy("受理数"), "closed": gettext_lazy("办结数"), "closed_on_time": gettext_lazy("按期办结数"),
    "closed_in_grid": gettext_lazy("网格内办结数"), "reopened": gettext_lazy("返工办结数"),
    "staff_reported": gettext_lazy("主动发现数"), "rejected": gettext_lazy("不予受理数"), "merged": gettext_lazy("合并数"),
    "rated": gettext_lazy("评价数"), "satisfied": gettext_lazy("满意"), "basic_satisfied": gettext_lazy("基本满意"),
    "unsatisfied": gettext_lazy("不满意"), "closure_rate": gettext_lazy("办结率"), "on_time_rate": gettext_lazy("按期办结率"),
    "satisfaction_rate": gettext_lazy("满意率"), "rating_rate": gettext_lazy("参评率"), "in_grid_rate": gettext_lazy("网格内办结率"),
    "rework_rate": gettext_lazy("返工率"), "proactive_rate": gettext_lazy("主动发现率"),
    "response_median_s": gettext_lazy("响应时长中位数（秒）"), "response_p90_s": gettext_lazy("响应时长P90（秒）"),
    "resolution_median_s": gettext_lazy("办结时长中位数（秒）"), "resolution_p90_s": gettext_lazy("办结时长P90（秒）"),
    "per_1000_households": gettext_lazy("每千户受理数"),
    "closed_rated": gettext_lazy("有评价的办结数"), "open": gettext_lazy("在办数"),
    "overdue_open": gettext_lazy("超期在办数"),
}


def _day(value: str | None, default: date) -> date:
    try:
        return date.fromisoformat(value) if value else default
    except ValueError:
        return default


def _table(request: HttpRequest, home: Area) -> tuple[str, list[str], list[list]]:
    """(sheet title, header, rows) of the table asked for, within the user's reach."""
    code = request.GET.get("area") or home.code
    area = Area.objects.filter(code=code).first()
    if area is None or not policy.may_read_area(request.user, area):
        raise Http404
    until = _day(request.GET.get("until"), screens.today())
    since = _day(request.GET.get("since"), until.replace(day=1))
    if since > until or (until - since).days > 3 * 366:
        raise Http404
    rollups.catch_up(limit=20_000)
    table = request.GET.get("table", "record")
    if table == "record":
        header = [str(_("区域")), str(_("编码")), *[str(FIGURE_LABELS[k]) for k in figures.FIGURES]]
        rows = [[r["name"], r["code"], *[r["figures"][k] for k in figures.FIGURES]]
                for r in screens.record(area, since, until)["rows"]]
        return str(_("三级数据")), header, rows
    if table == "rankings":
        level = request.GET.get("level", "town")
        if level not in rankings.LEVELS:
            raise Http404
        result = rankings.rankings(level, since, until, within=area)
        names = ["received", "closed", "closed_on_time", "closed_in_grid", "staff_reported",
                 "rated", "satisfied_or_basic", "households", "per_1000_households"]
        header = [str(_("名次")), str(_("名称")), *names, *[f"rate_{n}" for n in rankings.RATES],
                  str(_("得分"))]
        rows = [[r["rank"], r["name"], *[r[n] for n in names],
                 *[r["rates"][n] for n in rankings.RATES], r["score"]] for r in result["rows"]]
        return str(_("晾晒台")), header, rows
    if table == "overdue":
        header = [str(_("编号")), str(_("分类")), str(_("网格")), str(_("镇街")), str(_("状态")),
                  str(_("期限"))]
        rows = [[r["number"], r["category"], r["grid"], r["town"], r["state"], r["due"]]
                for r in screens.overdue_list(area, limit=5000)]
        return str(_("超期案件")), header, rows
    if table == "cases":
        return _cases_table(request, area, since, until)
    if table in ("categories", "hotspots", "repeated", "sources", "trend"):
        data = getattr(screens, table)(area, since, until)
        header = list(data[0].keys()) if data else []
        return table, header, [list(r.values()) for r in data]
    raise Http404


def _cases_table(request: HttpRequest, area: Area, since: date,
                 until: date) -> tuple[str, list[str], list[list]]:
    figure = request.GET.get("figure", "")
    worker = request.GET.get("worker", "")
    if figure not in behind.FIGURES:
        raise Http404
    worker_id = int(worker) if worker.isdigit() and 0 < int(worker) < 2**63 else None
    if worker and (worker_id is None or not policy.may_read_worker(request.user, worker_id)):
        raise Http404
    found, cut = behind.every(request.user, figure, since, until,
                              area=None if worker_id else area, worker_id=worker_id)
    header = [str(_("编号")), str(_("受理日期")), str(_("分类")), str(_("镇街")), str(_("网格")),
              str(_("状态")), str(_("条数"))]
    rows = [[r.case.number, r.day.isoformat(), r.case.category.name, r.case.town.name,
             r.case.grid.name, r.case.get_state_display(), r.count] for r in found]
    if cut:
        rows.append([str(_("仅导出最新的 %(n)s 件") % {"n": len(found)})])
    return str(FIGURE_LABELS[figure]), header, rows


@leaders_screen
def export(request: HttpRequest, area: Area) -> HttpResponse:
    from openpyxl import Workbook

    title, header, rows = _table(request, area)
    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    sheet.append(header)
    for row in rows:
        # Addresses and names come from residents and staff: never a formula.
        sheet.append(["" if v is None else sheet_text(v) for v in row])
    out = BytesIO()
    book.save(out)
    response = HttpResponse(
        out.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="{request.GET.get("table", "record")}.xlsx"'
    return response
