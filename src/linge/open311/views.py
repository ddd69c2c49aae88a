"""/open311/v2/: GeoReport v2 (discovery, services, service definitions, requests,
tokens). Format by extension (.json or .xml). docs/open311.md says what is served how.

Every case comes in through `cases.intake` (source Open311); the position is placed in
a grid by `areas.locate`; photos go through the same pipeline as the resident page.
Status notes are the latest line of the public timeline (`cases.timeline`).
"""

from __future__ import annotations

import math
import secrets
from datetime import datetime, timedelta

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from linge import prepared
from linge.areas import grids
from linge.areas.locate import locate
from linge.areas.models import Area, Level
from linge.cases import intake, policy, workflow
from linge.cases.models import Case, Category, Source, State
from linge.cases.photos import PhotoRejected
from linge.cases.timeline import latest_lines
from linge.clients import keys, limits
from linge.clients.models import Channel
from linge.open311.formats import errors, respond, w3c
from linge.open311.models import Datatype, ServiceAttribute, Submission
from linge.prepared import Prepared

SPEC = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-30T00:00:00+08:00"
WINDOW = timedelta(days=90)  # the default and the widest span of start_date..end_date
MAX_RESULTS = 1000
OPEN_STATES = {State.SUBMITTED, State.ACCEPTED, State.ESCALATED, State.DISPATCHED,
               State.VERIFYING, State.SUSPENDED}
CLOSED_STATES = {State.RESOLVED, State.CLOSED, State.REJECTED, State.MERGED}



class Refused(Exception):
    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        self.status = status
        self.description = description
        self.retry_after = retry_after
        super().__init__(description)


def _param(request: HttpRequest, name: str, *, body: bool = False) -> str | None:
    """A parameter, or None when absent or empty (empty counts as absent)."""
    value = request.POST.get(name) if body else None
    if value in (None, ""):
        value = request.GET.get(name)
    value = (value or "").strip()
    return value or None


def _jurisdiction(request: HttpRequest, *, body: bool = False) -> None:
    wanted = _param(request, "jurisdiction_id", body=body)
    if wanted is None:
        return
    city = Area.objects.filter(level=Level.CITY).order_by("code").values_list(
        "code", flat=True).first()
    host = request.get_host().partition(":")[0]
    if wanted not in {city, host}:
        raise Refused(404, f"jurisdiction_id {wanted!r} is not served here (use {city!r})")


def _client(request: HttpRequest, *, required: bool, body: bool = False):
    key = _param(request, "api_key", body=body)
    if key is None:
        if required:
            raise Refused(403, "api_key is required to submit a request")
        return None
    try:
        return keys.authenticate(key, Channel.OPEN311)
    except keys.KeyRefused as refused:
        raise Refused(403, str(refused)) from None
    except limits.Throttled as over:
        raise Refused(429, f"too many requests for this api_key; retry after "
                      f"{over.retry_after} s", over.retry_after) from None


def _answer(view):
    def wrapped(request: HttpRequest, *args, fmt: str, **kwargs) -> HttpResponse:
        if fmt not in ("json", "xml"):
            return errors("json", 404, f"unknown format .{fmt[:10]}: use .json or .xml")
        try:
            return view(request, *args, fmt=fmt, **kwargs)
        except Refused as refused:
            return errors(fmt, refused.status, refused.description,
                          retry_after=refused.retry_after)
    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


# Discovery and services.

@require_GET
@_answer
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    url = request.build_absolute_uri("/open311/v2/").rstrip("/")
    return respond(fmt, "discovery", {
        "changeset": CHANGESET,
        "contact": "岭格 Linge: docs/open311.md",
        "key_service": "API keys are issued by the site's administrators (linge apikey create)",
        "endpoints": [{
            "specification": SPEC, "url": url, "changeset": CHANGESET, "type": "production",
            "formats": ["application/json", "text/xml"],
        }],
    })


def _leaves():
    return (Category.objects.filter(active=True, parent__isnull=False, parent__active=True)
            .select_related("parent").order_by("code"))


def _with_questions() -> set[int]:
    return set(ServiceAttribute.objects.values_list("category_id", flat=True).distinct())


@require_GET
@_answer
def services(request: HttpRequest, fmt: str) -> HttpResponse:
    _jurisdiction(request)
    asked = _with_questions()
    return respond(fmt, "services", [{
        "service_code": c.code, "service_name": c.name,
        "description": f"{c.parent.name} · {c.name}", "metadata": c.pk in asked,
        "type": "realtime", "keywords": ",".join(c.keywords.split()), "group": c.parent.name,
    } for c in _leaves()])


def _service(code: str | None) -> Category:
    if code is None:
        raise Refused(400, "service_code is required")
    category = _LEAF_BY_CODE.first(code)
    if category is None:
        raise Refused(404, f"service_code {code[:20]!r} not found")
    return category


# A service is a live leaf category under a live group (as `_leaves`).
_LEAF_BY_CODE = Prepared(lambda code: Category.objects.filter(
    code=code, active=True, parent__isnull=False, parent__active=True)[:1], "\x00service-code")
_QUESTIONS = Prepared(lambda category: ServiceAttribute.objects.filter(category_id=category)
                      .order_by("order", "code"), -7_000_005)


@require_GET
@_answer
def definition(request: HttpRequest, code: str, fmt: str) -> HttpResponse:
    _jurisdiction(request)
    category = _service(code)
    questions = list(category.open311_attributes.order_by("order", "code"))
    if not questions:
        raise Refused(404, f"service_code {code!r} has no service definition (metadata is false)")
    return respond(fmt, "service_definition", {
        "service_code": category.code,
        "attributes": [{
            "variable": True, "code": q.code, "datatype": q.datatype,
            "required": q.required, "datatype_description": q.datatype_description or None,
            "order": q.order, "description": q.description,
            "values": [{"key": k, "name": n} for k, n in q.values],
        } for q in questions],
    })


# Reading requests.

def parse_when(text: str, name: str) -> datetime:
    """A W3C datetime, read leniently: a date alone, a space for the T, Z or no offset
    (the site's time zone)."""
    value = text.strip().replace(" ", "T", 1)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise Refused(400, f"{name} is not a W3C datetime (2026-11-30T09:00:00+08:00): "
                      f"{text[:40]!r}") from None
    if not 2000 <= moment.year <= 2100:
        raise Refused(400, f"{name} is out of range: {text[:40]!r}")
    if moment.tzinfo is None:
        moment = timezone.make_aware(moment, timezone.get_current_timezone())
    return moment


def _int(request: HttpRequest, name: str, default: int, lowest: int, highest: int) -> int:
    text = _param(request, name)
    if text is None:
        return default
    if not (text.isascii() and text.isdigit()) or not lowest <= int(text) <= highest:
        raise Refused(400, f"{name} must be a whole number from {lowest} to {highest}")
    return int(text)


def _status_of(case: Case) -> str:
    return "open" if case.state in OPEN_STATES else "closed"


def _request_rows(cases: list[Case], client) -> list[dict]:
    notes = latest_lines(cases)
    mine: set[int] = set()
    if client is not None:
        mine = set(Submission.objects.filter(case__in=cases, api_key=client).values_list(
            "case_id", flat=True))
    rows = []
    for case in cases:
        unit = case.dispatched_unit or case.owner_unit
        rows.append({
            "service_request_id": case.number,
            "status": _status_of(case),
            "status_notes": notes.get(case.pk) or None,
            "service_name": case.category.name,
            "service_code": case.category.code,
            "description": case.description if policy.published_words(
                case, case.pk in mine) else None,
            "agency_responsible": unit.name if unit else None,
            "service_notice": None,
            "requested_datetime": w3c(case.created_at),
            "updated_datetime": w3c(case.updated_at),
            "expected_datetime": w3c(case.resolve_due or case.accept_due)
            if case.state in OPEN_STATES and case.state != State.SUSPENDED else None,
            "address": case.address or None,
            "address_id": None,
            "zipcode": None,
            "lat": case.lat,
            "long": case.lon,
            "media_url": None,
        })
    return rows


def _listed():
    return policy.published_cases().select_related(
        "category", "owner_unit", "dispatched_unit").order_by("-created_at", "-pk")


def _list(request: HttpRequest, fmt: str) -> HttpResponse:
    _jurisdiction(request)
    client = _client(request, required=False)
    wanted = _param(request, "service_request_id")
    if wanted is not None:  # overrides every other filter (the spec says so)
        numbers = [n.strip() for n in wanted.split(",") if n.strip()][:MAX_RESULTS]
        cases = list(_listed().filter(number__in=numbers))
        return respond(fmt, "service_requests", _request_rows(cases, client))
    qs = _listed()
    codes = _param(request, "service_code")
    if codes is not None:
        wanted_codes = {c.strip() for c in codes.split(",") if c.strip()}
        known = set(_leaves().filter(code__in=wanted_codes).values_list("code", flat=True))
        if wanted_codes - known:
            raise Refused(404, "service_code not found: " + ",".join(
                sorted(wanted_codes - known))[:100])
        qs = qs.filter(category__code__in=known)
    status = _param(request, "status")
    if status is not None:
        chosen = {s.strip().lower() for s in status.split(",") if s.strip()}
        if not chosen or chosen - {"open", "closed"}:
            raise Refused(400, "status must be open, closed or both (comma-separated)")
        if chosen == {"open"}:
            qs = qs.filter(state__in=OPEN_STATES)
        elif chosen == {"closed"}:
            qs = qs.filter(state__in=CLOSED_STATES)
    start, end = _param(request, "start_date"), _param(request, "end_date")
    start_at = parse_when(start, "start_date") if start else None
    end_at = parse_when(end, "end_date") if end else None
    if start_at is None and end_at is None:
        end_at = timezone.now()
    if start_at is None:
        start_at = end_at - WINDOW
    if end_at is None:
        end_at = start_at + WINDOW
    if end_at < start_at:
        raise Refused(400, "end_date is before start_date")
    if end_at - start_at > WINDOW:
        raise Refused(400, "start_date..end_date may not span more than 90 days")
    qs = qs.filter(created_at__gte=start_at, created_at__lte=end_at)
    after, before = _param(request, "updated_after"), _param(request, "updated_before")
    if after:
        qs = qs.filter(updated_at__gt=parse_when(after, "updated_after"))
    if before:
        qs = qs.filter(updated_at__lt=parse_when(before, "updated_before"))
    size = _int(request, "page_size", MAX_RESULTS, 1, MAX_RESULTS)
    page = _int(request, "page", 1, 1, 10_000)
    cases = list(qs[(page - 1) * size: page * size])
    return respond(fmt, "service_requests", _request_rows(cases, client))


@require_GET
@_answer
def one_request(request: HttpRequest, number: str, fmt: str) -> HttpResponse:
    _jurisdiction(request)
    client = _client(request, required=False)
    case = _listed().filter(number=number).first()
    if case is None and client is not None:
        # The client that submitted it follows it in any state.
        case = (Case.objects.select_related("category", "owner_unit", "dispatched_unit")
                .filter(number=number, pk__in=Submission.objects.filter(
                    api_key=client).values("case_id")).first())
    if case is None:
        raise Refused(404, f"service_request_id {number[:20]!r} not found")
    return respond(fmt, "service_requests", _request_rows([case], client))


@require_GET
@_answer
def token(request: HttpRequest, token: str, fmt: str) -> HttpResponse:
    _jurisdiction(request)
    found = Submission.objects.filter(token=token).select_related("case").first()
    if found is None:
        raise Refused(404, "token not found")
    return respond(fmt, "service_requests",
                   [{"service_request_id": found.case.number, "token": found.token}])


# Submitting a request.

def _float(request: HttpRequest, name: str, low: float, high: float) -> float | None:
    text = _param(request, name, body=True)
    if text is None:
        return None
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or not low <= number <= high:
        raise Refused(400, f"{name} must be a number from {low:g} to {high:g}")
    return number


def _phone(request: HttpRequest) -> str:
    text = _param(request, "phone", body=True) or ""
    phone = text.replace(" ", "").replace("-", "")
    if phone.startswith("+86"):
        phone = phone[3:]
    if phone and not (phone.isascii() and phone.isdigit() and 5 <= len(phone) <= 20):
        raise Refused(400, "phone must be digits (5 to 20), optionally +86 first")
    return phone


def _answers(request: HttpRequest, category: Category) -> str:
    """The extra questions' answers, checked against the definition, as lines appended
    to the description."""
    lines = []
    for q in _QUESTIONS(category.pk):
        name = f"attribute[{q.code}]"
        given = [v.strip() for v in request.POST.getlist(name) + request.POST.getlist(
            name + "[]") if v.strip()]
        if not given:
            if q.required:
                raise Refused(400, f"{name} is required ({q.description})")
            continue
        keys_ = dict(q.values)
        if q.datatype in (Datatype.SINGLEVALUELIST, Datatype.MULTIVALUELIST):
            if any(v not in keys_ for v in given) or (
                    q.datatype == Datatype.SINGLEVALUELIST and len(given) > 1):
                raise Refused(400, f"{name} must be one of: {', '.join(keys_)}")
            shown = "、".join(keys_[v] for v in given)
        elif q.datatype == Datatype.NUMBER:
            try:
                float(given[0])
            except ValueError:
                raise Refused(400, f"{name} must be a number") from None
            shown = given[0]
        elif q.datatype == Datatype.DATETIME:
            shown = w3c(parse_when(given[0], name))
        else:
            shown = given[0][:200]
        lines.append(f"{q.description}：{shown}")
    return "\n".join(lines)


def _submit(request: HttpRequest, fmt: str) -> HttpResponse:
    _jurisdiction(request, body=True)
    client = _client(request, required=True, body=True)
    category = _service(_param(request, "service_code", body=True))
    lat = _float(request, "lat", -90, 90)
    lon = _float(request, "long", -180, 180)
    if lat is None or lon is None:
        raise Refused(400, "lat and long are required: a request is placed in a grid by its "
                      "position (address_string alone cannot be located here)")
    if _param(request, "media_url", body=True):
        raise Refused(400, "media_url is not fetched (this server reaches no other "
                      "machine): send the photo as a multipart file named media")
    description = _param(request, "description", body=True)
    if description is None:
        raise Refused(400, "description is required")
    answers = _answers(request, category)
    if answers:
        description = f"{description}\n{answers}"
    phone = _phone(request)
    request_key = _param(request, "request_key", body=True)
    if request_key is not None and not intake.valid_key(request_key):
        raise Refused(400, "request_key must be 8 to 64 letters, digits, - or _")
    found = locate(lon, lat)
    grid = grids.area_by_id(found.grid_id) if found.grid_id is not None else None
    if grid is None:
        raise Refused(400, f"the position lat={lat:g}, long={lon:g} lies in no grid of "
                      "this jurisdiction")
    try:
        photos = intake.prepare(request.FILES.getlist("media"))
    except PhotoRejected as refused:
        raise Refused(400, f"media refused: {refused}") from None
    key = f"{client.prefix}-{request_key}"[:64] if request_key else None
    if key and (existing := intake.find(Source.OPEN311, key)) is not None:
        made = Submission.objects.filter(case=existing).first()
        return respond(fmt, "service_requests", [_receipt(existing, made)], 200)
    try:
        limits.count_all([(limit, phone or None) for limit in limits.PHONE_REPORTS])
    except limits.Throttled as over:
        raise Refused(429, f"too many requests from this phone; retry after "
                      f"{over.retry_after} s", over.retry_after) from None
    report = intake.Report(
        category=category, description=description, grid=grid, lon=lon, lat=lat,
        address=_param(request, "address_string", body=True) or "", reporter_phone=phone,
        anonymous=True)
    tokens: list[Submission] = []

    def token_for(made: workflow.Submitted) -> None:  # in the case's transaction
        tokens.append(Submission(case=made.case, token=secrets.token_hex(12), api_key=client))
        prepared.insert(tokens)

    try:
        done = intake.submit(None, Source.OPEN311, report, key=key, photos=photos,
                             key_unused=True, also=token_for)
    except workflow.WorkflowError as error:
        raise Refused(400, error.reason) from None
    # A retry that lost the race to the same key gets the case that won, and its token.
    made = tokens[0] if done.created else Submission.objects.filter(case=done.case).first()
    return respond(fmt, "service_requests", [_receipt(done.case, made)],
                   201 if done.created else 200)


def _receipt(case: Case, made: Submission | None) -> dict:
    return {"service_request_id": case.number, "token": made.token if made else None,
            "service_notice": None, "account_id": None}


@csrf_exempt
@require_http_methods(["GET", "POST"])
@_answer
def requests_(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _submit(request, fmt)
    return _list(request, fmt)



def unknown(request: HttpRequest, rest: str) -> HttpResponse:
    fmt = "xml" if rest.endswith(".xml") else "json"
    return errors(fmt, 404, "no such Open311 resource: see /open311/v2/discovery.json")
