"""Case lists of the workbench: tabs, filters, search, deadlines and masking.

Everything starts from `people.scope.visible_cases(user)`; the tabs and filters only
narrow it down.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linge.areas.models import Area, Level
from linge.cases import deadlines, search
from linge.cases.models import Case, Category, Light, Source, State
from linge.people.models import User
from linge.people.privacy import mask_phone  # noqa: F401 (used as module.mask_phone)
from linge.people.scope import Capacity, Roles, roles_of, visible_cases
from linge.plaintext import small_int, strip_controls

OPEN_CLOCK_STATES = [State.SUBMITTED, State.ACCEPTED, State.ESCALATED, State.DISPATCHED,
                     State.VERIFYING]
DONE_STATES = [State.RESOLVED, State.CLOSED, State.REJECTED, State.MERGED]

TABS: list[tuple[str, str]] = [
    ("submitted", _("待受理")),
    ("doing", _("处理中")),
    ("escalated", _("待派遣")),
    ("verifying", _("待核查")),
    ("due_soon", _("临期")),
    ("overdue", _("超期")),
    ("done", _("已办结")),
]
TAB_KEYS = {key for key, _label in TABS}
# How far ahead "临期" candidates are looked for before the exact light is computed: the
# last 20% of a working-time budget can stretch over a long holiday.
DUE_SOON_LOOKAHEAD = timedelta(days=12)
DUE_SOON_LIMIT = 2000

# Capacities that handle a case and so may see the reporter's phone number.
HANDLING = {Capacity.GRID_MEMBER, Capacity.GRID_ESCALATOR, Capacity.VILLAGE_STAFF,
            Capacity.DISPATCHER, Capacity.HANDLER}


def default_tab(roles: Roles) -> str:
    if roles.towns:
        return "escalated"
    if roles.handler_units and not roles.grids:
        return "doing"
    if roles.leader_areas or roles.city_leader or roles.admin:
        return "overdue"
    return "submitted"


def overdue_q(now: datetime) -> Q:
    return Q(state=State.SUBMITTED, accept_due__lt=now) | Q(
        state__in=OPEN_CLOCK_STATES[1:], resolve_due__lt=now
    )


def tab_filter(qs: QuerySet[Case], tab: str, now: datetime) -> QuerySet[Case]:
    if tab == "submitted":
        return qs.filter(state=State.SUBMITTED)
    if tab == "doing":
        return qs.filter(state__in=[State.ACCEPTED, State.DISPATCHED, State.SUSPENDED])
    if tab == "escalated":
        return qs.filter(state=State.ESCALATED)
    if tab == "verifying":
        return qs.filter(state=State.VERIFYING)
    if tab == "overdue":
        return qs.filter(overdue_q(now))
    if tab == "done":
        return qs.filter(state__in=DONE_STATES)
    if tab == "due_soon":
        horizon = now + DUE_SOON_LOOKAHEAD
        near = qs.filter(
            Q(state=State.SUBMITTED, accept_due__gte=now, accept_due__lte=horizon)
            | Q(state__in=OPEN_CLOCK_STATES[1:], resolve_due__gte=now, resolve_due__lte=horizon)
        ).select_related("category").only(
            "pk", "state", "accept_due", "resolve_due", "accept_budget", "resolve_budget",
            "category__accept_unit", "category__resolve_unit",
        )[:DUE_SOON_LIMIT]
        yellow = [c.pk for c in near if (row_deadline(c, now) or (None,))[0] == Light.YELLOW]
        return qs.filter(pk__in=yellow)
    return qs


@dataclass
class Filters:
    tab: str = ""
    q: str = ""
    category: int | None = None
    area: int | None = None
    source: str = ""
    since: date | None = None
    until: date | None = None

    def as_query(self) -> str:
        query = QueryDict(mutable=True)
        for key in ("tab", "q", "category", "area", "source", "since", "until"):
            value = getattr(self, key)
            if value not in ("", None):
                query[key] = str(value)
        return query.urlencode()


# Dates outside these years are typing mistakes, and at the edges of what datetime
# holds, adding a day or a time zone overflows.
FIRST_YEAR, LAST_YEAR = 2000, 2100


def _date(value: str | None) -> date | None:
    try:
        day = date.fromisoformat(value) if value else None
    except ValueError:
        return None
    return day if day is not None and FIRST_YEAR <= day.year <= LAST_YEAR else None


def parse_filters(params: QueryDict, roles: Roles) -> Filters:
    tab = params.get("tab", "")
    return Filters(
        tab=tab if tab in TAB_KEYS else default_tab(roles),
        q=strip_controls(params.get("q", "")).strip()[:50],
        category=small_int(params.get("category")),
        area=small_int(params.get("area")),
        source=params.get("source", "") if params.get("source") in Source.values else "",
        since=_date(params.get("since")),
        until=_date(params.get("until")),
    )


def search_q(text: str, *, narrowed: bool = False) -> Q:
    """Search in the Chinese text: every word (space-separated) must match somewhere.

    The character-pair index (cases/search.py) narrows the table down to the cases
    holding every word's pairs; the LIKE tests keep exactly the substring matches.
    `narrowed`: other conditions already limit the cases to some grids, a town or a unit.
    """
    q = Q()
    wanted: set[str] = set()
    for word in text.split():
        if word.replace("-", "").isdigit() and len(word) >= 8:
            q &= Q(number__startswith=word)
        else:
            wanted |= search.query_terms(word)
            q &= Q(description__icontains=word) | Q(address__icontains=word)
    if wanted:
        q &= Q(search.has_terms(wanted, narrowed=narrowed))
    return q


def work_scope(roles: Roles) -> Q | None:
    """The cases a staff member works on, in indexed columns only (None: everything).

    Always ANDed with visible_cases(), so it can only narrow what the user may see. It
    leaves out the resident branches (reported or supported by the user), whose OR over
    a join forces a scan of the whole table: measured on 300,000 cases, a grid worker's
    inbox takes 156 ms through visible_cases() alone and 32 ms with this added.
    """
    if roles.admin or roles.city_leader:
        return None
    q = Q(pk__in=[])
    if roles.grids:
        q |= Q(grid_id__in=list(roles.grids))
    if roles.villages:
        q |= Q(village_id__in=list(roles.villages))
    if roles.towns:
        q |= Q(town_id__in=list(roles.towns))
    if roles.handler_units:
        q |= Q(dispatched_unit_id__in=list(roles.handler_units))
    if roles.leader_areas:
        leader = list(roles.leader_areas)
        q |= Q(town_id__in=leader) | Q(village_id__in=leader) | Q(grid_id__in=leader)
    return q


def filtered(user: User, f: Filters, now: datetime, *, with_tab: bool = True) -> QuerySet[Case]:
    qs = visible_cases(user)
    narrow = work_scope(roles_of(user))
    if narrow is not None:
        qs = qs.filter(narrow)
    if f.category:
        qs = qs.filter(Q(category_id=f.category) | Q(category__parent_id=f.category))
    if f.area:
        qs = qs.filter(Q(grid_id=f.area) | Q(village_id=f.area) | Q(town_id=f.area))
    if f.source:
        qs = qs.filter(source=f.source)
    tz = timezone.get_current_timezone()
    if f.since:
        qs = qs.filter(created_at__gte=datetime.combine(f.since, datetime.min.time(), tz))
    if f.until:
        end = datetime.combine(f.until + timedelta(days=1), datetime.min.time(), tz)
        qs = qs.filter(created_at__lt=end)
    if f.q:
        qs = qs.filter(search_q(f.q, narrowed=narrow is not None or bool(f.area)))
    if with_tab:
        qs = tab_filter(qs, f.tab, now)
    return qs


def row_deadline(case: Case, now: datetime) -> tuple[str, datetime, str] | None:
    """(light, due, stage label) of the deadline the case now runs against."""
    if case.state == State.SUBMITTED:
        due, budget, unit, stage = (case.accept_due, case.accept_budget,
                                    case.category.accept_unit, _("受理"))
    elif case.state in OPEN_CLOCK_STATES:
        due, budget, unit, stage = (case.resolve_due, case.resolve_budget,
                                    case.category.resolve_unit, _("办结"))
    else:
        return None
    if due is None:
        return None
    clock = deadlines.budget(0, unit)[1] if unit else deadlines.WALL
    return deadlines.light(now, due, budget, clock), due, str(stage)


def countdown(due: datetime, now: datetime) -> str:
    seconds = int((due - now).total_seconds())
    late = seconds < 0
    seconds = abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        span = _("%(d)s天%(h)s小时") % {"d": days, "h": hours}
    elif hours:
        span = _("%(h)s小时%(m)s分") % {"h": hours, "m": minutes}
    else:
        span = _("%(m)s分钟") % {"m": minutes}
    return str(_("超期 %(s)s") % {"s": span}) if late else str(_("剩余 %(s)s") % {"s": span})


def filter_choices(user: User) -> dict:
    """Categories, areas and sources for the filter form, within the user's reach."""
    roles = roles_of(user)
    areas = Area.objects.exclude(level=Level.CITY)
    if not (roles.admin or roles.city_leader or roles.handler_units):
        ids = set(roles.grids) | roles.villages | roles.towns | roles.leader_areas
        areas = areas.filter(
            Q(pk__in=ids) | Q(parent_id__in=ids) | Q(parent__parent_id__in=ids)
        )
    else:
        areas = areas.exclude(level=Level.GRID)
    return {
        "categories": Category.objects.filter(active=True).select_related("parent")
        .order_by("code"),
        "areas": areas.order_by("code")[:500],
        "sources": Source.choices,
    }
