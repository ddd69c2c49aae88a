"""/api/v1/insights/: the figures and what the leaders' screens show.

Every request first folds what the worker has not folded yet (rollups.catch_up, at
most CATCH_UP_LIMIT events), so a screen is never behind the event log by more than
what a busy moment adds.
"""

from __future__ import annotations

from datetime import date

from django.http import Http404
from django.utils import timezone
from ninja import Router
from ninja.errors import HttpError

from linge.areas.models import Area, Level
from linge.cases import policy
from linge.cases.models import ChainHead
from linge.insights import behind, figures, rankings, rollups, screens
from linge.insights.models import RollupMark

router = Router(tags=["insights"])
public_router = Router(tags=["public"], auth=None)

CATCH_UP_LIMIT = 20_000
MAX_DAYS = 3 * 366


def fresh() -> str:
    """Fold what is left, then say as of when the figures are."""
    head = ChainHead.objects.filter(pk=1).values_list("seq", flat=True).first() or 0
    mark = RollupMark.objects.filter(pk=1).values_list("seq", flat=True).first() or 0
    if head > mark:
        rollups.catch_up(limit=CATCH_UP_LIMIT)
    at = rollups.as_of().at
    return timezone.localtime(at).isoformat() if at else None


def period(since: date | None, until: date | None) -> tuple[date, date]:
    until = until or screens.today()
    since = since or until.replace(day=1)
    if since > until:
        raise HttpError(400, "since 不能晚于 until")
    if (until - since).days > MAX_DAYS:
        raise HttpError(400, "期间不能超过三年")
    return since, until


def area_for(request, code: str | None) -> Area:
    if not code:
        area = policy.home_area(request.auth)
        if area is None:
            raise Http404
        return area
    area = Area.objects.filter(code=code).first()
    if area is None or not policy.may_read_area(request.auth, area):
        raise Http404
    return area


def _envelope(area: Area | None, since: date, until: date, as_of: str | None) -> dict:
    return {
        "area": screens.area_brief(area) if area else None,
        "since": since.isoformat(), "until": until.isoformat(), "as_of": as_of,
    }


@router.get("/figures", summary="Figures of an area or a worker over a period")
def get_figures(request, area: str | None = None, since: date | None = None,
                until: date | None = None, worker: int | None = None):
    since, until = period(since, until)
    as_of = fresh()
    place, worker_id = _area_or_worker(request, area, worker)
    shown = (figures.figures_for_worker(worker_id, since, until) if place is None
             else figures.figures_for_area(place, since, until))
    return {**shown, **_envelope(place, since, until, as_of)}


@router.get("/rankings", summary="网格治理晾晒台: units ranked by the composite score")
def get_rankings(request, level: str = "town", since: date | None = None,
                 until: date | None = None, area: str | None = None):
    if level not in rankings.LEVELS:
        raise HttpError(400, "level 应为 town、village、grid 或 worker")
    since, until = period(since, until)
    as_of = fresh()
    place = area_for(request, area)
    result = rankings.rankings(level, since, until, within=place)
    return {**result, **_envelope(place, since, until, as_of)}


@router.get("/disposal", summary="问题处置数据舱")
def get_disposal(request, area: str | None = None, since: date | None = None,
                 until: date | None = None):
    since, until = period(since, until)
    as_of = fresh()
    place = area_for(request, area)
    return {**screens.disposal(place, since, until), **_envelope(place, since, until, as_of)}


@router.get("/map", summary="Grid outlines with the cases open in each (GeoJSON)")
def get_map(request, area: str | None = None):
    fresh()
    return screens.grid_map(area_for(request, area))


@router.get("/analysis", summary="问题分析数据舱")
def get_analysis(request, area: str | None = None, since: date | None = None,
                 until: date | None = None, grain: str = "day"):
    if grain not in ("day", "week", "month"):
        raise HttpError(400, "grain 应为 day、week 或 month")
    since, until = period(since, until)
    as_of = fresh()
    place = area_for(request, area)
    return {**screens.analysis(place, since, until, grain),
            **_envelope(place, since, until, as_of)}


@router.get("/record", summary="三级 record: an area and its children with the same figures")
def get_record(request, area: str | None = None, since: date | None = None,
               until: date | None = None):
    since, until = period(since, until)
    as_of = fresh()
    place = area_for(request, area)
    return {**screens.record(place, since, until), **_envelope(place, since, until, as_of)}


@router.get("/cases", summary="The cases behind a number: one figure of an area or a worker")
def get_cases(request, figure: str, area: str | None = None, worker: int | None = None,
              since: date | None = None, until: date | None = None,
              cursor: str | None = None, limit: int = 50):
    if figure not in behind.FIGURES:
        raise HttpError(400, "figure 应为 " + "、".join(behind.FIGURES))
    if not 1 <= limit <= behind.MAX_LIMIT:
        raise HttpError(400, f"limit 应在 1 到 {behind.MAX_LIMIT} 之间")
    since, until = period(since, until)
    as_of = fresh()
    place, worker_id = _area_or_worker(request, area, worker)
    try:
        rows, following, withheld = behind.page(request.auth, figure, since, until,
                                                area=place, worker_id=worker_id,
                                                cursor=cursor, limit=limit)
    except behind.BadCursor:
        raise HttpError(400, "cursor 无效") from None
    return {
        "figure": figure,
        "total": behind.total(figure, since, until, area=place, worker_id=worker_id),
        "per_verdict": figure in behind.PER_VERDICT,
        "items": [behind_item(r) for r in rows], "next": following, "withheld": withheld,
        "worker": worker_id, **_envelope(place, since, until, as_of),
    }


def _area_or_worker(request, area: str | None, worker: int | None) -> tuple[Area | None,
                                                                              int | None]:
    if worker is None:
        return area_for(request, area), None
    if not 0 < worker < 2**63 or not policy.may_read_worker(request.auth, worker):
        raise Http404
    return None, worker


def behind_item(row: behind.Row) -> dict:
    case = row.case
    return {"number": case.number, "category": case.category.name, "grid": case.grid.name,
            "town": case.town.name, "state": case.state, "state_label": case.get_state_display(),
            "received_on": row.day.isoformat(), "count": row.count,
            "link": f"/work/case/{case.number}/"}


@public_router.get("/rankings", summary="The public 晾晒台: areas only, no personal data")
def get_public_rankings(request, level: str = "town", since: date | None = None,
                        until: date | None = None):
    if level not in ("town", "village", "grid"):
        raise HttpError(400, "level 应为 town、village 或 grid")
    since, until = period(since, until)
    # Public readers never fold events (no write for an anonymous request).
    city = Area.objects.filter(level=Level.CITY).order_by("code").first()
    result = rankings.rankings(level, since, until, within=city)
    at = RollupMark.objects.filter(pk=1).values_list("at", flat=True).first()
    return {**result, **_envelope(city, since, until,
                                  timezone.localtime(at).isoformat() if at else None)}

