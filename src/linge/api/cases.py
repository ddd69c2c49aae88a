"""/api/v1/cases, /api/v1/me/cases, /api/v1/categories, /api/v1/areas.

The case list is the workbench inbox as data: the same tabs and filters
(`cases.inbox`, which the workbench reads too), ordered newest
first and paged by keyset on (created_at, id) — the `next` cursor of one page is the
`cursor` of the following one — so a page costs the same at any depth. Every move is
a POST that calls `workflow.act` with the move's declared form, as the case page does.
"""

from __future__ import annotations

import base64
import json
from datetime import date, datetime

from django.db.models import QuerySet
from django.http import Http404, HttpRequest, QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from ninja import Router, Schema
from ninja.errors import HttpError

from linge.api.api import ANY_USER
from linge.areas.locate import locate
from linge.areas.models import Area, Level
from linge.cases import deadlines, policy, workflow
from linge.cases.actions import declaration, in_page_order
from linge.cases.inbox import Filters, filtered, parse_filters
from linge.cases.models import Case, Category
from linge.cases.timeline import latest_lines
from linge.cases.transitions import Action, label
from linge.people.privacy import mask_phone
from linge.people.roles import Actor, roles_of

router = Router(tags=["cases"], auth=ANY_USER)
me_router = Router(tags=["residents"], auth=ANY_USER)
places_router = Router(tags=["places"], auth=None)

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


# Schemas.

class Ref(Schema):
    code: str
    name: str


class CaseItem(Schema):
    number: str
    state: str
    state_label: str
    source: str
    category: Ref
    grid: Ref
    created_at: datetime
    updated_at: datetime
    due: datetime | None
    light: str
    overdue: bool
    supervised: bool
    address: str
    summary: str


class CasePage(Schema):
    items: list[CaseItem]
    next: str | None


class EventOut(Schema):
    at: datetime
    action: str
    label: str
    from_state: str
    to_state: str
    actor: str
    note: str


class CaseDetail(CaseItem):
    description: str
    reporter_phone: str
    lon: float | None
    lat: float | None
    village: Ref
    town: Ref
    dispatched_unit: str | None
    assignee: str | None
    reply: str
    rating: str
    events: list[EventOut]
    actions: list[str]


class Choice(Schema):
    value: str
    label: str


class FieldOut(Schema):
    name: str
    label: str
    required: bool
    type: str
    choices: list[Choice]


class ActionOut(Schema):
    action: str
    label: str
    secondary: bool
    fields: list[FieldOut]


class MyCase(Schema):
    number: str
    state: str
    state_label: str
    category: Ref
    created_at: datetime
    updated_at: datetime
    status_notes: str | None


class MyPage(Schema):
    items: list[MyCase]
    next: str | None


class CategoryOut(Schema):
    code: str
    name: str
    group: str | None
    keywords: str


class CategoryPage(Schema):
    items: list[CategoryOut]
    next: str | None


class AreaOut(Schema):
    code: str
    name: str
    level: str
    parent: str | None


class AreaPage(Schema):
    items: list[AreaOut]
    next: str | None


class Located(Schema):
    grid: AreaOut | None
    how: str
    distance_m: float | None


# Keyset pages.

def _cursor_out(case: Case) -> str:
    raw = f"{case.created_at.isoformat()}|{case.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _cursor_in(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment_text, _sep, pk_text = raw.partition("|")
        moment = parse_datetime(moment_text)
        pk = int(pk_text)
    except (ValueError, UnicodeDecodeError):
        moment = None
    if moment is None or moment.tzinfo is None or not 0 < pk < 2**63:
        raise HttpError(400, "cursor 无效：请使用上一页返回的 next")
    return moment, pk


def newest_after(qs: QuerySet[Case], cursor: str | None) -> QuerySet[Case]:
    """The cases after the cursor, newest first on the (created_at, id) index."""
    if cursor:
        moment, pk = _cursor_in(cursor)
        # Not (created_at < m) OR (created_at = m AND id < p): SQLite answers that OR with
        # two index searches and sorts everything older than the cursor. A range on
        # created_at with the one tie excluded reads the index in order and stops.
        qs = qs.filter(created_at__lte=moment).exclude(created_at=moment, pk__gte=pk)
    return qs.order_by("-created_at", "-pk")


def case_page(qs: QuerySet[Case], cursor: str | None, limit: int) -> tuple[list[Case], str | None]:
    """One page, newest first; the next page starts after its last case."""
    rows = list(newest_after(qs, cursor)[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (_cursor_out(rows[-1]) if more and rows else None)


def _code_page(qs, cursor: str | None, limit: int) -> tuple[list, str | None]:
    """Pages of areas and categories on their unique code."""
    if cursor:
        qs = qs.filter(code__gt=cursor)
    rows = list(qs.order_by("code")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].code if more and rows else None)


def _limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise HttpError(400, f"limit 应在 1 到 {MAX_LIMIT} 之间")
    return limit


# Cases.

def _ref(area) -> dict:
    return {"code": area.code, "name": area.name}


def _item(case: Case, now: datetime) -> dict:
    deadline = deadlines.current(case)
    return {
        "number": case.number, "state": case.state, "state_label": str(case.get_state_display()),
        "source": case.source, "category": {"code": case.category.code, "name": case.category.name},
        "grid": _ref(case.grid), "created_at": case.created_at, "updated_at": case.updated_at,
        "due": deadline.due if deadline else None,
        "light": str(deadline.light(now)) if deadline else "",
        "overdue": bool(deadline and deadline.due < now),
        "supervised": case.supervised, "address": case.address,
        "summary": case.description[:60],
    }


def _staff(request: HttpRequest):
    """The caller, who must be staff: a resident is refused (403) as on the workbench."""
    user = request.auth
    if not policy.is_staff(user):
        raise HttpError(403, "工作台接口仅供工作人员使用")
    return user


@router.get("", response=CasePage, summary="The inbox: tabs, filters and search, newest first")
def list_cases(request, tab: str = "", q: str = "", category: int | None = None,
               area: int | None = None, source: str = "", since: date | None = None,
               until: date | None = None, cursor: str | None = None,
               limit: int = DEFAULT_LIMIT):
    user = _staff(request)
    limit = _limit(limit)
    now = timezone.now()
    params = QueryDict(mutable=True)
    for key, value in {"tab": tab, "q": q, "category": category, "area": area,
                       "source": source, "since": since, "until": until}.items():
        if value not in ("", None):
            params[key] = str(value)
    f: Filters = parse_filters(params, roles_of(user))
    # A grid's outline is large JSON that a list never shows.
    qs = filtered(user, f, now).select_related("category", "grid").defer("grid__boundary")
    rows, after = case_page(qs, cursor, limit)
    return {"items": [_item(c, now) for c in rows], "next": after}


def _case(request, number: str) -> Case:
    case = policy.access_case(_staff(request), number[:20])
    return case


def _detail(case: Case, user) -> dict:
    now = timezone.now()
    actor = Actor(user=user)
    phone = case.reporter_phone or (case.reporter.phone if case.reporter else "")
    events = []
    for event in case.events.select_related("actor").order_by("seq"):
        data = event.data or {}
        events.append({
            "at": event.at, "action": event.action, "label": label(event.action),
            "from_state": event.from_state, "to_state": event.to_state,
            "actor": event.actor_label or (event.actor.display_name if event.actor else ""),
            "note": str(data.get("note") or data.get("reason") or data.get("reply") or ""),
        })
    return {
        **_item(case, now),
        "description": case.description,
        "reporter_phone": phone if policy.sees_phone(actor, case) else mask_phone(phone),
        "lon": case.lon, "lat": case.lat,
        "village": _ref(case.village), "town": _ref(case.town),
        "dispatched_unit": case.dispatched_unit.name if case.dispatched_unit else None,
        "assignee": (case.assignee.display_name or case.assignee.username)
        if case.assignee else None,
        "reply": case.reply, "rating": case.rating, "events": events,
        "actions": [a for a in in_page_order(workflow.allowed_actions(case, user))
                    if declaration(a).form is not None],
    }


@router.get("/{number}", response=CaseDetail, summary="One case as its page shows it")
def get_case(request, number: str):
    return _detail(_case(request, number), _staff(request))


def _field(name: str, field) -> dict:
    kind = type(field).__name__
    choices = []
    if hasattr(field, "choices") and kind != "PhotosField":
        for value, text in list(field.choices)[:500]:
            value = getattr(value, "value", value)
            if value in ("", None):
                continue
            choices.append({"value": str(value), "label": str(text)})
    type_ = ("file" if "File" in kind or kind == "PhotosField" else
             "choice" if choices or "Choice" in kind else
             "number" if kind in ("IntegerField", "FloatField", "DecimalField") else "text")
    required = bool(field.required or field.widget.attrs.get("required"))
    return {"name": name, "label": str(field.label or name), "required": required,
            "type": type_, "choices": choices}


@router.get("/{number}/actions", response=list[ActionOut],
            summary="The moves this caller may make now, each with its form's fields")
def get_actions(request, number: str):
    user = _staff(request)
    case = _case(request, number)
    out = []
    for action in in_page_order(workflow.allowed_actions(case, user)):
        spec = declaration(action)
        if spec.form is None:
            continue
        form = workflow.bind(action, case, user)
        out.append({"action": action, "label": spec.label, "secondary": spec.secondary,
                    "fields": [_field(name, f) for name, f in form.fields.items()]})
    return out


ACTION_BODY = {"requestBody": {"content": {
    "application/json": {"schema": {"type": "object", "additionalProperties": {
        "type": "string"}}},
    "application/x-www-form-urlencoded": {"schema": {"type": "object"}},
    "multipart/form-data": {"schema": {"type": "object"}},
}, "required": False}}


def _form_data(request: HttpRequest) -> QueryDict:
    if request.content_type == "application/json":
        try:
            body = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise HttpError(400, "请求体不是有效的 JSON") from None
        if not isinstance(body, dict):
            raise HttpError(400, "请求体应为 JSON 对象：{字段: 值}")
        data = QueryDict(mutable=True)
        for key, value in body.items():
            values = value if isinstance(value, list) else [value]
            if any(isinstance(v, dict | list) for v in values):
                raise HttpError(400, f"字段 {key[:30]} 的值应为文字或数字")
            data.setlist(str(key), ["" if v is None else str(v) for v in values])
        return data
    return request.POST


@router.post("/{number}/actions/{action}", response=CaseDetail, openapi_extra=ACTION_BODY,
             summary="Make one move through workflow.act with its declared form")
def post_action(request, number: str, action: str):
    user = _staff(request)
    if action not in Action.values or declaration(action).form is None:
        raise Http404
    case = _case(request, number)
    if action not in workflow.allowed_actions(case, user):
        raise HttpError(403, f"您不能对该案件执行「{label(action)}」")
    data = _form_data(request)
    try:
        workflow.act(action, case, user, data, request.FILES)
    except workflow.InputRefused as refused:
        raise HttpError(400, str(refused)) from None
    except workflow.WorkflowError as error:
        raise HttpError(409, str(error)) from None
    case.refresh_from_db()
    try:
        case = policy.access_case(user, case.number)
    except Http404:
        raise HttpError(404, "已办理；案件已转出您的范围") from None
    return _detail(case, user)


# A resident's own cases.

@me_router.get("/cases", response=MyPage,
               summary="The cases a resident reported, supported (我也遇到) or phoned in")
def my_cases(request, cursor: str | None = None, limit: int = DEFAULT_LIMIT):
    user = request.auth
    if not user.is_resident:
        raise HttpError(403, "仅限群众账号：工作人员请使用 /api/v1/cases")
    limit = _limit(limit)
    rows, after = case_page(Case.objects.filter(policy.own_cases(user)).select_related(
        "category"), cursor, limit)
    notes = latest_lines(rows)
    return {"items": [{
        "number": c.number, "state": c.state, "state_label": str(c.get_state_display()),
        "category": {"code": c.category.code, "name": c.category.name},
        "created_at": c.created_at, "updated_at": c.updated_at,
        "status_notes": notes.get(c.pk),
    } for c in rows], "next": after}


# Categories and areas (public: what the report form and the public board show).

@places_router.get("/categories", response=CategoryPage, summary="Active categories, by code")
def list_categories(request, cursor: str | None = None, limit: int = MAX_LIMIT):
    limit = _limit(limit)
    qs = Category.objects.filter(active=True).select_related("parent")
    rows, after = _code_page(qs, cursor, limit)
    return {"items": [{"code": c.code, "name": c.name,
                       "group": c.parent.code if c.parent else None,
                       "keywords": c.keywords} for c in rows], "next": after}


def _area(a: Area, parent_code: str | None) -> dict:
    return {"code": a.code, "name": a.name, "level": a.level, "parent": parent_code}


@places_router.get("/areas", response=AreaPage,
                   summary="The children of an area (the city's towns without ?parent)")
def list_areas(request, parent: str | None = None, cursor: str | None = None,
               limit: int = MAX_LIMIT):
    limit = _limit(limit)
    if parent:
        above = Area.objects.filter(code=parent[:15]).first()
        if above is None:
            raise Http404
        qs = Area.objects.filter(parent=above)
    else:
        above = None
        qs = Area.objects.filter(level=Level.TOWN)
    rows, after = _code_page(qs.select_related("parent"), cursor, limit)
    return {"items": [_area(a, a.parent.code if a.parent else None) for a in rows],
            "next": after}


@places_router.get("/areas/locate", response=Located, summary="The grid a position falls in")
def locate_area(request, lon: float, lat: float):
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise HttpError(400, "经纬度超出范围")
    found = locate(lon, lat)
    grid = Area.objects.filter(pk=found.grid_id).select_related("parent").first() \
        if found.grid_id else None
    return {"grid": _area(grid, grid.parent.code if grid.parent else None) if grid else None,
            "how": found.how,
            "distance_m": found.distance_m if found.distance_m != float("inf") else None}

