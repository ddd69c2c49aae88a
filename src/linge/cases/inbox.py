"""Case lists of the workbench inbox and the API: tabs, filters, search, deadlines, masking.

Everything starts from `cases.policy.visible_cases(user)`; the tabs and filters only
narrow it down. Deadlines and "overdue" come from `cases.deadlines`, so the inbox, the
exports and the case page agree whether or not the worker has run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linge import memo
from linge.cases import deadlines, policy, search
from linge.cases.models import DONE_STATES, Case, Category, Light, Source, State
from linge.people.models import UnitKind, User
from linge.people.privacy import mask_phone  # noqa: F401 (used as module.mask_phone)
from linge.people.roles import Roles
from linge.plaintext import small_int, strip_controls
from linge.prepared import CountUpTo, PreparedFor, Summary, Together

STAGE_LABELS = {"accept": _("受理"), "resolve": _("办结"), "dispatch": _("派遣"),
                "handle": _("处置")}

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
TIMED_TABS = {"due_soon", "overdue"}  # the others are conditions on the state alone
DUE_SOON_LIMIT = 2000


def default_tab(roles: Roles) -> str:
    if roles.towns:
        return "escalated"
    if roles.handler_units and not roles.grids:
        return "doing"
    if roles.leader_areas or roles.city_leader or roles.admin:
        return "overdue"
    return "submitted"


def dispatch_units_q(town_ids) -> Q:
    """Where a town dispatches: its own offices and any city department."""
    return Q(kind=UnitKind.OFFICE, area_id__in=list(town_ids)) | Q(kind=UnitKind.DEPARTMENT)


def _tab_q(tab: str, now: datetime) -> Q | None:
    """The tab as a condition on a case's own columns; None for due-soon (it needs each
    case's deadline light) and for an unknown tab."""
    if tab == "submitted":
        return Q(state=State.SUBMITTED)
    if tab == "doing":
        return Q(state__in=[State.ACCEPTED, State.DISPATCHED, State.SUSPENDED])
    if tab == "escalated":
        return Q(state=State.ESCALATED)
    if tab == "verifying":
        return Q(state=State.VERIFYING)
    if tab == "overdue":
        return deadlines.overdue_q(now)
    if tab == "done":
        return Q(state__in=DONE_STATES)
    return None


def _near_deadlines(qs: QuerySet[Case], now: datetime, horizon: datetime) -> QuerySet[Case]:
    """Cases whose current deadline falls between now and the horizon, with only what
    their light needs, the nearest deadline first: past `DUE_SOON_LIMIT` of them, those
    left out are due last, the least likely to be yellow. (Ordered by report time,
    SQLite walked the scope's whole history newest first rather than read its open
    cases by state and sort them, and the cut fell on any case.)"""
    return qs.filter(deadlines.due_within_q(now, horizon)).order_by(
        deadlines.current_due().asc(), "pk").select_related("category").only(
        "pk", "state", "accept_due", "resolve_due", "accept_budget", "resolve_budget",
        "stage_due", "stage_budget",
        "category__accept_unit", "category__resolve_unit",
    )[:DUE_SOON_LIMIT]


def _yellow(near: Iterable[Case], now: datetime) -> list[int]:
    return [c.pk for c in near
            if (d := deadlines.current(c)) is not None and d.light(now) == Light.YELLOW]


def tab_filter(qs: QuerySet[Case], tab: str, now: datetime) -> QuerySet[Case]:
    condition = _tab_q(tab, now)
    if condition is not None:
        return qs.filter(condition)
    if tab == "due_soon":
        return qs.filter(pk__in=_yellow(_near_deadlines(qs, now, now + deadlines.LOOKAHEAD),
                                        now))
    return qs


OPEN_TABS = ("submitted", "doing", "escalated", "verifying", "overdue")
_OPEN_STATES = [state for state in State.values if state not in DONE_STATES]


def _open_counts(qs: QuerySet[Case], now: datetime) -> Summary:
    return Summary(qs.filter(state__in=_OPEN_STATES),
                   {tab: Count("pk", filter=_tab_q(tab, now)) for tab in OPEN_TABS})


# The done tab grows with the years (a grid's history, a town's, the city's): it is
# counted up to one past this, shown as "1000+", and lists its newest this many cases;
# older ones are found by search or by date. Counting further would scan the history.
DONE_LISTED = 1000


def _done_count(qs: QuerySet[Case]) -> CountUpTo:
    return CountUpTo(qs.filter(state__in=DONE_STATES), "done", DONE_LISTED + 1)


def beyond_listed(tab: str, count: int | None) -> bool:
    """Whether the tab holds more cases than it counts and lists (the done tab only)."""
    return tab == "done" and count is not None and count > DONE_LISTED


def shown_count(tab: str, count: int | None) -> int | str | None:
    """A tab's count as its label shows it: "1000+" past what the done tab counts."""
    return f"{DONE_LISTED}+" if beyond_listed(tab, count) else count


def tab_counts(qs: QuerySet[Case], now: datetime) -> dict[str, int]:
    """Every tab's count in three queries: the open tabs in one pass over the open cases
    (as many as are in progress, however long the history), the done tab on its own,
    up to `DONE_LISTED` + 1 (it grows with the years), and the cases near their
    deadline, whose lights pick the due-soon ones."""
    summed = _open_counts(qs, now)
    counts = summed.queryset.aggregate(**summed.aggregates)
    done = _done_count(qs)
    counts[done.name] = done.queryset.order_by()[:done.cap].count()
    counts["due_soon"] = len(_yellow(_near_deadlines(qs, now, now + deadlines.LOOKAHEAD), now))
    return counts


# The same counts for a whole scope (no filter but the tab: an inbox as it opens) in two
# statements, the open and done tabs' counts together, compiled once per scope:
# compiling them cost twenty times what running them does.
# The markers stand for `now` and the due-soon horizon.
_NOW, _HORIZON = datetime(1901, 2, 3, 4, 5, 6, 789, UTC), datetime(1902, 3, 4, 5, 6, 7, 891, UTC)
_SCOPE_COUNTS = PreparedFor(lambda scope, now: Together((
    _open_counts(policy.scope_cases(scope), now), _done_count(policy.scope_cases(scope)))),
    _NOW)
_SCOPE_NEAR = PreparedFor(
    lambda scope, now, horizon: _near_deadlines(policy.scope_cases(scope), now, horizon),
    _NOW, _HORIZON)


def scope_tab_counts(scope: policy.CaseScope, now: datetime) -> dict[str, int]:
    """`tab_counts` of all the cases of a staff scope."""
    counts = _SCOPE_COUNTS.first(scope, scope, now)
    near = _SCOPE_NEAR(scope, scope, now, now + deadlines.LOOKAHEAD)
    counts["due_soon"] = len(_yellow(near, now))
    return counts


# What an inbox row shows (workbench's `inbox_items`, and its deadline light from
# `deadlines.current`), read with the case and nothing more: a case has ten times,
# each converted per row, and a grid its boundary, a polygon's JSON.
LISTED_WITH_CASE = ("category", "grid", "dispatched_unit")
LISTED_FIELDS = (
    "number", "source", "description", "state", "created_at", "supervised", "rework_count",
    "accept_due", "resolve_due", "stage_due", "accept_budget", "resolve_budget",
    "stage_budget", "category", "grid", "dispatched_unit",
    "category__name", "category__accept_unit", "category__resolve_unit", "grid__name",
    "dispatched_unit__name",
)


def _tab_rows(qs: QuerySet[Case], tab: str, now: datetime) -> QuerySet[Case]:
    return (tab_filter(qs, tab, now).select_related(*LISTED_WITH_CASE).only(*LISTED_FIELDS)
            .order_by("-created_at"))


def _scope_window(context: tuple, *now: datetime) -> QuerySet[Case]:
    scope, tab, start, stop = context
    return _tab_rows(policy.scope_cases(scope), tab, now[0] if now else _NOW)[start:stop]


_SCOPE_WINDOW = PreparedFor(_scope_window)  # tabs of states only
_SCOPE_WINDOW_AT = PreparedFor(_scope_window, _NOW)  # tabs that depend on the time


class _ScopeRows:
    """A tab of a scope's inbox, newest first, for the paginator to slice: each page a
    query compiled once per (scope, tab, page). A page reads `page_size` rows whatever
    the paginator's end (the count, on the last page), so a changing count does not
    make a new query."""

    def __init__(self, scope: policy.CaseScope, tab: str, now: datetime,
                 page_size: int) -> None:
        self.scope, self.tab, self.now, self.page_size = scope, tab, now, page_size

    def __getitem__(self, window: slice) -> list[Case]:
        start = window.start or 0
        wanted = (window.stop if window.stop is not None else start + self.page_size) - start
        key = (self.scope, self.tab, start, start + self.page_size)
        if self.tab in TIMED_TABS:
            rows = _SCOPE_WINDOW_AT(key, key, self.now)
        else:
            rows = _SCOPE_WINDOW(key, key)
        return rows[:wanted]


def listing(user: User, f: Filters, now: datetime,
            page_size: int) -> tuple[dict[str, int], Any]:
    """Every tab's count and the cases of the shown tab, newest first, for a paginator
    of `page_size` to slice. An inbox as it opens (no filter but the tab) runs queries
    compiled once per staff scope; a filtered one builds them."""
    scope = policy.case_scope(user)
    if scope is not None and not f.narrows() and f.tab in TAB_KEYS - {"due_soon"}:
        return scope_tab_counts(scope, now), _ScopeRows(scope, f.tab, now, page_size)
    base = filtered(user, f, now, with_tab=False)
    counts = (scope_tab_counts(scope, now) if scope is not None and not f.narrows()
              else tab_counts(base, now))
    return counts, _tab_rows(base, f.tab, now)


@dataclass
class Filters:
    tab: str = ""
    q: str = ""
    category: int | None = None
    area: int | None = None
    source: str = ""
    since: date | None = None
    until: date | None = None

    def narrows(self) -> bool:
        """Whether anything but the tab narrows the list down."""
        return any(getattr(self, key) not in ("", None)
                   for key in ("q", "category", "area", "source", "since", "until"))

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
        if word.replace("-", "").isascii() and word.replace("-", "").isdigit():
            # A case number, whole or its start (20261130-0000…) or its tail (…000123).
            q &= (Q(number__startswith=word) if len(word) >= 8 else Q(number__endswith=word))
        else:
            wanted |= search.query_terms(word)
            q &= Q(description__icontains=word) | Q(address__icontains=word)
    if wanted:
        q &= Q(search.has_terms(wanted, narrowed=narrowed))
    return q


def filtered(user: User, f: Filters, now: datetime, *, with_tab: bool = True) -> QuerySet[Case]:
    qs = policy.visible_cases(user)
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
        qs = qs.filter(search_q(f.q, narrowed=not policy.sees_everything(user) or bool(f.area)))
    if with_tab:
        qs = tab_filter(qs, f.tab, now)
    return qs


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
    """Categories, areas and sources for the filter form, within the user's reach, as
    (value, label) pairs; a subcategory's label is indented under its parent's. The
    categories and a staff scope's areas are kept in the process (`linge.memo`)."""
    scope = policy.case_scope(user)

    def areas() -> list[tuple[int, str]]:
        return list(policy.filter_areas(user).order_by("code").values_list("pk", "name")[:500])

    scope_key = hashlib.sha256(repr(scope).encode()).hexdigest()[:32]
    return {
        "categories": memo.kept("inbox-categories", _category_choices),
        "areas": areas() if scope is None else memo.kept(f"inbox-areas:{scope_key}", areas),
        "sources": Source.choices,
    }


def _category_choices() -> list[tuple[int, str]]:
    categories = Category.objects.filter(active=True).order_by("code")
    return [(pk, f"　{name}" if parent_id else name)
            for pk, name, parent_id in categories.values_list("pk", "name", "parent_id")]
