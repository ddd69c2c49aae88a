"""What the leaders' screens show, as plain data (the API serves it, Excel exports it).

Counts and rates come from the rollups (figures.py); only lists of cases (overdue,
repeated at one place), sources and keywords read cases, and always bounded by area,
period and a row limit.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from linge.areas.models import Area, Level
from linge.cases.models import Case, Category, Source, State
from linge.insights import figures
from linge.insights.figures import SCOPE_OF_LEVEL, summed_by_key
from linge.insights.models import Grain, Rollup, Scope

OPEN = [State.SUBMITTED, State.ACCEPTED, State.ESCALATED, State.DISPATCHED, State.VERIFYING,
        State.SUSPENDED, State.RESOLVED]
CHILD_LEVEL = {Level.CITY: Level.TOWN, Level.TOWN: Level.VILLAGE, Level.VILLAGE: Level.GRID}
RATE_NAMES = list(figures.RATES)


def today() -> date:
    return timezone.localdate()


def area_filter(area: Area, prefix: str = "") -> Q:
    """Cases of an area, by the indexed column of its level."""
    if area.level == Level.CITY:
        return Q()
    column = {Level.TOWN: "town_id", Level.VILLAGE: "village_id", Level.GRID: "grid_id"}[
        area.level]
    return Q(**{prefix + column: area.pk})


def previous_period(since: date, until: date) -> tuple[date, date]:
    length = (until - since).days + 1
    return since - timedelta(days=length), since - timedelta(days=1)


def area_brief(area: Area) -> dict:
    return {"id": area.pk, "code": area.code, "name": area.name, "level": area.level,
            "households": figures.households_of(area)}


def visit_coverage(area: Area, since: date, until: date) -> dict:
    """走访覆盖率: households of the area's register visited in the period / households
    on the register (the visits app's definition, over a whole area and any period)."""
    from linge.visits.models import Household, Visit

    grids = Area.objects.filter(level=Level.GRID, code__startswith=area.code).values("pk")
    registered = Household.objects.filter(grid_id__in=grids).count()
    visited = (Visit.objects.filter(grid_id__in=grids, at__gte=_start(since),
                                    at__lt=_start(until + timedelta(days=1)))
               .values("household_id").distinct().count())
    return {"households": registered, "visited": visited,
            "rate": visited / registered if registered else None}


# 问题处置数据舱.

def disposal(area: Area, since: date, until: date) -> dict:
    """Today's intake, open and overdue now, the period's figures against the previous
    period's, where cases were solved, and the overdue list."""
    scope = SCOPE_OF_LEVEL[area.level]
    day = today()
    intake = figures.totals(scope, area.pk, day, day).measures
    open_now, overdue_now = figures.live_open(scope, [area.pk]).get(area.pk, (0, 0))
    current = figures.figures_for_area(area, since, until)
    before = figures.figures_for_area(area, *previous_period(since, until))
    t = figures.totals(scope, area.pk, since, until).measures
    return {
        "area": area_brief(area),
        "tiles": {
            "intake_today": intake["received"] + intake["rejected"] + intake["merged"],
            "open_now": open_now,
            "overdue_now": overdue_now,
            "closed": current["closed"],
        },
        "figures": current,
        "change": {
            name: (None if current[name] is None or before[name] is None
                   else round(current[name] - before[name], 6))
            for name in RATE_NAMES
        },
        "solved_at": {level: t[f"solved_{level}"]
                      for level in ("grid", "village", "town", "department")},
        "overdue": overdue_list(area),
        "visits": visit_coverage(area, since, until),
    }


def overdue_list(area: Area, limit: int = 50) -> list[dict]:
    rows = (Case.objects.filter(area_filter(area), state__in=OPEN, overdue=True)
            .select_related("category", "grid", "town")
            .order_by("resolve_due", "accept_due", "pk")[:limit])
    return [{
        "number": c.number, "category": c.category.name, "grid": c.grid.name,
        "town": c.town.name, "state": str(State(c.state).label),
        "due": timezone.localtime(c.resolve_due or c.accept_due).strftime("%Y-%m-%d %H:%M")
        if (c.resolve_due or c.accept_due) else "",
        "supervised": c.supervised,
    } for c in rows]


def grid_map(area: Area) -> dict:
    """The area's grid outlines (GeoJSON) with the cases open in each now."""
    grids = Area.objects.filter(level=Level.GRID, code__startswith=area.code,
                                boundary__isnull=False).values("pk", "code", "name", "boundary")
    grids = list(grids)
    counts = figures.live_open(Scope.GRID, [g["pk"] for g in grids])
    return {"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": g["boundary"],
        "properties": {"id": g["pk"], "code": g["code"], "name": g["name"],
                       "open": counts.get(g["pk"], (0, 0))[0],
                       "overdue": counts.get(g["pk"], (0, 0))[1]},
    } for g in grids]}


# 问题分析数据舱.

def categories(area: Area, since: date, until: date) -> list[dict]:
    """Received cases per 小类 with its 大类, for the treemap."""
    if area.level in (Level.CITY, Level.TOWN):
        towns = ([area.pk] if area.level == Level.TOWN else
                 list(Area.objects.filter(level=Level.TOWN, parent=area).values_list("pk",
                                                                                    flat=True)))
        by_category: Counter = Counter()
        for (_town, category_id), m in summed_by_key(Scope.TOWN_CATEGORY, since, until, towns,
                                                     by_category=True).items():
            by_category[category_id] += m["received"]
    else:
        by_category = Counter(dict(
            Case.objects.filter(area_filter(area), created_at__gte=_start(since),
                                created_at__lt=_start(until + timedelta(days=1)))
            .exclude(state__in=[State.REJECTED, State.MERGED])
            .values_list("category_id").annotate(n=Count("pk")).values_list("category_id", "n")
        ))
    names = {c.pk: c for c in Category.objects.filter(pk__in=list(by_category))
             .select_related("parent")}
    rows = [{"category": names[pk].name, "parent": names[pk].parent.name if names[pk].parent
             else "", "code": names[pk].code, "received": n}
            for pk, n in by_category.items() if n and pk in names]
    rows.sort(key=lambda r: (-r["received"], r["code"]))
    return rows


def _start(day: date):
    from datetime import datetime, time

    return timezone.make_aware(datetime.combine(day, time.min))


def trend(area: Area, since: date, until: date, grain: str = "day") -> list[dict]:
    """Received and closed per day, week (from Monday) or month, by cohort."""
    scope = SCOPE_OF_LEVEL[area.level]
    rows = Rollup.objects.filter(scope=scope, key=area.pk, category_id=0, grain=Grain.DAY,
                                 start__gte=since, start__lte=until)
    buckets: dict[date, dict] = defaultdict(lambda: {"received": 0, "closed": 0})
    for row in rows.values("start", "received", "closed"):
        day = row["start"]
        if grain == "week":
            day = day - timedelta(days=day.weekday())
        elif grain == "month":
            day = day.replace(day=1)
        buckets[day]["received"] += row["received"]
        buckets[day]["closed"] += row["closed"]
    return [{"start": day.isoformat(), **values} for day, values in sorted(buckets.items())]


def children(area: Area) -> list[Area]:
    level = CHILD_LEVEL.get(area.level)
    if level is None:
        return []
    return list(Area.objects.filter(level=level, parent=area).order_by("code"))


def hotspots(area: Area, since: date, until: date) -> list[dict]:
    """The area's children by received cases per 1,000 households."""
    kids = children(area)
    if not kids:
        return []
    sums = summed_by_key(SCOPE_OF_LEVEL[kids[0].level], since, until, [a.pk for a in kids])
    rows = []
    for kid in kids:
        households = figures.households_of(kid)
        received = (sums.get(kid.pk) or {}).get("received", 0)
        rows.append({"id": kid.pk, "code": kid.code, "name": kid.name, "received": received,
                     "households": households,
                     "per_1000_households": round(received * 1000 / households, 2)
                     if households else None})
    rows.sort(key=lambda r: -(r["per_1000_households"] or 0))
    return rows


def _period_cases(area: Area, since: date, until: date):
    return Case.objects.filter(area_filter(area), created_at__gte=_start(since),
                               created_at__lt=_start(until + timedelta(days=1)))


def repeated(area: Area, since: date, until: date, limit: int = 20) -> list[dict]:
    """The same 小类 reported three times or more at one address of one grid."""
    rows = (_period_cases(area, since, until).exclude(address="")
            .values("grid__name", "address", "category__name")
            .annotate(n=Count("pk")).filter(n__gte=3).order_by("-n", "address")[:limit])
    return [{"grid": r["grid__name"], "address": r["address"], "category": r["category__name"],
             "cases": r["n"]} for r in rows]


def sources(area: Area, since: date, until: date) -> list[dict]:
    counts = dict(_period_cases(area, since, until).values_list("source")
                  .annotate(n=Count("pk")).values_list("source", "n"))
    return [{"source": value, "label": str(label), "cases": counts.get(value, 0)}
            for value, label in Source.choices]


def keywords(area: Area, since: date, until: date, top: int = 30) -> list[dict]:
    from linge.insights.words import top_words

    texts = list(_period_cases(area, since, until).order_by("-created_at")
                 .values_list("description", flat=True)[:3000])
    return [{"word": word, "weight": round(weight, 4)} for word, weight in top_words(texts, top)]


def hot_issues(area: Area, limit: int = 20) -> list[dict]:
    from linge.insights.hot import clusters
    from linge.insights.models import Deliberation

    found = clusters(Case.objects.filter(area_filter(area)))[:limit]
    agenda: dict[str, Deliberation] = {}
    numbers = {n for cluster in found for n in cluster.numbers}
    for item in Deliberation.objects.filter(
            village__code__startswith=area.code).order_by("meeting_on"):
        for number in item.case_numbers:
            if number in numbers:
                agenda[number] = item
    rows = []
    for cluster in found:
        item = next((agenda[n] for n in cluster.numbers if n in agenda), None)
        rows.append({
            "category": cluster.category_name, "cases": cluster.size,
            "keywords": cluster.keywords, "numbers": cluster.numbers[:10],
            "first": timezone.localtime(cluster.first).date().isoformat(),
            "last": timezone.localtime(cluster.last).date().isoformat(),
            "deliberation": ({"title": item.title, "meeting_on": item.meeting_on.isoformat(),
                              "outcome": item.outcome} if item else None),
        })
    return rows


def analysis(area: Area, since: date, until: date, grain: str = "day") -> dict:
    return {
        "area": area_brief(area),
        "categories": categories(area, since, until),
        "trend": trend(area, since, until, grain),
        "hotspots": hotspots(area, since, until),
        "repeated": repeated(area, since, until),
        "keywords": keywords(area, since, until),
        "sources": sources(area, since, until),
        "hot": hot_issues(area),
    }


# 三级 record: the area and its children side by side with the same figures.

def record(area: Area, since: date, until: date) -> dict:
    rows = []
    for place in [area, *children(area)]:
        rows.append({**area_brief(place),
                     "figures": figures.figures_for_area(place, since, until),
                     "visits": visit_coverage(place, since, until)})
    return {"area": area_brief(area), "rows": rows}

