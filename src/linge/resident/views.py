"""Resident pages: the grid page from the QR code, reporting, login by phone, following
one's cases, rating, and notifications.

Views only parse, authorize and call `cases.workflow`; nothing here writes a case.
"""

from __future__ import annotations

import functools
import math
import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth import login, logout
from django.core.files.storage import default_storage
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from linge.areas import grids
from linge.areas.locate import locate
from linge.areas.models import Area, Level
from linge.cases import deadlines, intake, policy, workflow
from linge.cases.models import (
    Attachment,
    AttachmentKind,
    Case,
    Category,
    Rating,
    Source,
    State,
)
from linge.cases.nearby import nearby_open_cases
from linge.cases.photos import PhotoRejected
from linge.cases.suggest import suggest
from linge.clients import limits
from linge.insights.hot import deliberations_for_village
from linge.net import client_ip
from linge.notify.models import Channel, Outbox
from linge.people.roles import Actor
from linge.plaintext import small_int
from linge.resident import cached, otp
from linge.resident.present import outline, plain_state, timeline
from linge.resident.qr import check_signature, grid_signature

MAX_PHOTOS = 9
TRACKED = "linge_tracked"  # session: ids of cases opened by tracking code
SHOW_CODE = "linge_show_code"  # session: {case id: tracking code}, shown once
QR_COOKIE = "linge_qr"  # signed cookie: the grid code of the last valid QR opened
_QR_SALT = "linge.resident.qr-grid"
SUPPORTABLE = "linge_supportable"  # session: ids of the cases shown as nearby duplicates


# Helpers.

def _resident(request: HttpRequest):
    user = request.user
    return user if user.is_authenticated and getattr(user, "is_resident", False) else None


def _tracked(request: HttpRequest) -> list[int]:
    return [int(pk) for pk in request.session.get(TRACKED, [])]


def _track(request: HttpRequest, case: Case) -> None:
    tracked = _tracked(request)
    if case.pk not in tracked:
        request.session[TRACKED] = [*tracked, case.pk][-50:]


def _case_for(request: HttpRequest, number: str) -> Case:
    return policy.access_case_as_visitor(request.user, number, _tracked(request))


def _actor(request: HttpRequest, case: Case) -> Actor:
    user = request.user if request.user.is_authenticated else None
    tracking = case.pk if case.pk in _tracked(request) else None
    return Actor(user=user, tracking_case_id=tracking)


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _float(value: str | None) -> float | None:
    try:
        number = float(value) if value not in (None, "") else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None


def _signed_grid(code: str | None, signature: str | None, *, kept: bool = False
                 ) -> Area | None:
    """The grid of a signed QR link, its village loaded with it; `kept`: as cached for
    the grid page (resident/cached.py: a renamed grid shows within a minute)."""
    if not code or not signature or not check_signature(code, signature):
        return None
    return cached.grid_with_village(code, _grid_with_village) if kept else (
        _grid_with_village(code))


def _grid_with_village(code: str) -> Area | None:
    # Two compiled look-ups cost less than the ORM's one join.
    area = grids.grid_by_code(code)
    if area is not None and area.parent_id is not None:
        area.parent = grids.area_by_id(area.parent_id)
    return area


def _scanned_grid_code(request: HttpRequest) -> str | None:
    """The grid code of the last signed QR link this browser opened, or None."""
    return request.get_signed_cookie(QR_COOKIE, default=None, salt=_QR_SALT,
                                      max_age=settings.SESSION_COOKIE_AGE)


def _remember_qr_grid(request: HttpRequest, area: Area) -> None:
    # Kept in a signed cookie, not the session: a visitor who only looks at the grid
    # page costs no session row (and no write), and the signature is what lets the
    # cookie stand for "scanned this grid's QR code" (policy.nearby_search_grid). Set again on
    # every visit (it costs nothing), so it lasts SESSION_COOKIE_AGE from the latest.
    request.qr_grid_to_remember = area.code


def _remembers_qr_grid(view):
    """Sets the cookie of the QR grid the view remembered, on whatever it answers."""
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        code = getattr(request, "qr_grid_to_remember", None)
        if code:
            response.set_signed_cookie(
                QR_COOKIE, code, salt=_QR_SALT, max_age=settings.SESSION_COOKIE_AGE,
                secure=settings.SESSION_COOKIE_SECURE, httponly=True, samesite="Lax")
        return response
    return wrapper


# The grid page.

@require_GET
@_remembers_qr_grid
def grid(request: HttpRequest, code: str) -> HttpResponse:
    area = _signed_grid(code, request.GET.get("s"), kept=True)
    if area is None:
        return render(request, "resident/bad_qr.html", {"code": code[:20]}, status=404)
    _remember_qr_grid(request, area)
    return render(request, "resident/grid.html", {
        "grid": area, "village": area.parent, "team": cached.team_of(area),
        "cases": policy.newest_public_cases(area),
        "deliberations": cached.deliberations(area.parent_id, deliberations_for_village),
        "report_url": reverse("resident:report") + f"?g={area.code}&s={grid_signature(area.code)}",
    })


# Reporting.

def _categories() -> list[dict[str, Any]]:
    rows = Category.objects.filter(active=True).order_by("code").values(
        "id", "code", "name", "parent_id"
    )
    groups: dict[int, dict[str, Any]] = {}
    leaves = []
    for row in rows:
        if row["parent_id"] is None:
            groups[row["id"]] = {"n": row["name"], "c": []}
        else:
            leaves.append(row)
    for row in leaves:
        if row["parent_id"] in groups:
            groups[row["parent_id"]]["c"].append([row["id"], row["name"]])
    return [g for g in groups.values() if g["c"]]


def _report_context(request: HttpRequest, qr_grid: Area | None, error: str = "") -> dict:
    grids: list[Area] = []
    if qr_grid is not None:
        grids = list(Area.objects.filter(parent_id=qr_grid.parent_id, level=Level.GRID))
    shapes, view_box = outline(grids)
    resident = _resident(request)
    return {
        "qr_grid": qr_grid,
        "shapes": shapes,
        "view_box": view_box,
        "categories": cached.categories(_categories),
        "resident": resident,
        "masked_phone": otp.mask_phone(resident.phone) if resident else "",
        "error": error,
        "max_photos": MAX_PHOTOS,
        "form": request.POST if request.method == "POST" else {},
        "grid_value": request.POST.get("grid", "") if request.method == "POST"
        else (qr_grid.code if qr_grid else ""),
        "submit_key": request.POST.get("submit_key", "") if request.method == "POST"
        else uuid.uuid4().hex,
    }


def _qr_grid_from(request: HttpRequest) -> Area | None:
    area = _signed_grid(request.GET.get("g"), request.GET.get("s"))
    scanned = _scanned_grid_code(request) if area is None else None
    if scanned:
        area = Area.objects.filter(code=scanned, level=Level.GRID).first()
    if area is not None:
        _remember_qr_grid(request, area)
    return area


class Refused(Exception):
    pass


def _chosen_grid(request: HttpRequest, lon: float | None, lat: float | None) -> tuple[
        Area, bool]:
    """The grid the problem is in, and whether the position placed it there.

    A position in no grid (the phone's fix is off, or the resident reports from
    elsewhere) places nothing: the grid comes from the map or the QR code instead.
    """
    if lon is not None and lat is not None:
        found = locate(lon, lat)
        area = grids.area_by_id(found.grid_id) if found.grid_id is not None else None
        if area is not None:
            return area, True
    return _picked_grid(request), False


def _picked_grid(request: HttpRequest) -> Area:
    code = request.POST.get("grid", "")
    if code:
        area = grids.grid_by_code(code)
        if area is not None:
            return area
    qr_code = _scanned_grid_code(request)
    if qr_code:
        area = grids.grid_by_code(qr_code)
        if area is not None:
            return area
    raise Refused(_("无法确定问题所在网格：请允许定位，或扫描网格二维码后在图上选择网格"))


def _resident_or_form_login(request: HttpRequest):
    """The logged-in resident, or the one whose phone and code the report form carries
    (logged in now, so that 我也遇到 right after works too); raises otp.OtpError."""
    resident = _resident(request)
    phone, code = request.POST.get("phone", "").strip(), request.POST.get("code", "").strip()
    if resident is None and phone:
        resident = otp.check_code(phone, code)
        login(request, resident, backend="django.contrib.auth.backends.ModelBackend")
    return resident


def _done(request: HttpRequest, case: Case) -> HttpResponse:
    url = reverse("resident:case", args=[case.number])
    if _wants_json(request):
        return JsonResponse({"ok": True, "url": url, "number": case.number})
    return redirect(url)


def _refuse(request: HttpRequest, qr_grid: Area | None, message: str) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"ok": False, "error": message}, status=400)
    return render(request, "resident/report.html", _report_context(request, qr_grid, message),
                  status=400)


@require_http_methods(["GET", "POST"])
@_remembers_qr_grid
def report(request: HttpRequest) -> HttpResponse:
    qr_grid = _qr_grid_from(request)
    if request.method == "GET":
        _open_session(request)
        return render(request, "resident/report.html", _report_context(request, qr_grid))
    key = request.POST.get("submit_key", "")
    if not intake.valid_key(key):
        return _refuse(request, qr_grid, _("页面已过期，请刷新后重新提交"))
    source = Source.QR if qr_grid is not None else Source.RESIDENT_PAGE
    existing = intake.find(source, key)
    if existing is not None:
        # A retry or a double click: the case it already made. Only the session that
        # sent it follows it; a key replayed from elsewhere grants nothing.
        if policy.sent_by_visitor(request.user, existing, _tracked(request)):
            return _done(request, existing)
        return _refuse(request, qr_grid, _("该问题已提交，请勿重复提交"))
    try:
        prepared = intake.prepare(request.FILES.getlist("photos"))
    except PhotoRejected as refused:
        return _refuse(request, qr_grid, str(refused))
    lon, lat = _float(request.POST.get("lon")), _float(request.POST.get("lat"))
    if (lon is None or lat is None) and request.POST.get("photo_gps"):
        gps = next((p.gps for p in prepared if p.gps), None)
        if gps:
            lon, lat = gps
    try:
        area, placed = _chosen_grid(request, lon, lat)
    except Refused as refused:
        return _refuse(request, qr_grid, str(refused))
    if not placed:
        lon = lat = None  # a pin 200 km away on the grid's map helps no one
    category = small_int(request.POST.get("category"))
    if category is None:
        return _refuse(request, qr_grid, _("请选择具体的问题小类"))
    try:
        resident = _resident_or_form_login(request)
    except otp.OtpError as error:
        return _refuse(request, qr_grid, str(error))
    try:
        if resident is not None:
            limits.count_all([(limit, resident.phone) for limit in limits.PHONE_REPORTS])
        else:
            limits.count_all([(limit, client_ip(request)) for limit in limits.ANONYMOUS_REPORTS])
    except limits.Throttled as over:
        return limits.too_many(request, over.retry_after)
    report = intake.Report(
        category=category, description=request.POST.get("description", ""), grid=area,
        lon=lon, lat=lat, address=request.POST.get("address", ""),
        anonymous=resident is None or bool(request.POST.get("anonymous")),
    )

    def follow(made: workflow.Submitted) -> None:
        # In the case's transaction: a case whose tracking code is shown only once is
        # never stored without the session that shows it (and one commit, not two).
        _remember(request, made)
        if request.session.modified:
            request.session.save()

    try:
        done = intake.submit(resident, source, report, key=key, photos=prepared,
                             key_unused=True, also=follow)
    except workflow.WorkflowError as error:
        return _refuse(request, qr_grid, error.reason)
    if not done.created:
        # A double submit that lost the race to the request that made the case. If that
        # request came from this browser it wrote the case and its code into this same
        # session after this one read it: read it again, or this request's answer
        # would write the older data back over the code.
        request.session.reload()
        if not policy.sent_by_visitor(request.user, done.case, _tracked(request)):
            return _refuse(request, qr_grid, _("该问题已提交，请勿重复提交"))
    return _done(request, done.case)


def _open_session(request: HttpRequest) -> None:
    """A browser that opens the report form gets a session if it has none: a report
    whose answer is lost on the way (a phone's network drops) and is sent again is then
    known as this browser's, and shows its case and tracking code (see `report`),
    instead of being refused as a key replayed from elsewhere."""
    request.session.keys()  # read: a stale key whose row is gone is dropped here
    if request.session.session_key is None:
        request.session.create()


def _remember(request: HttpRequest, done: workflow.Submitted) -> None:
    """The session follows an anonymous reporter's case and shows its code once."""
    if done.case.reporter_id is None:
        _track(request, done.case)
    if done.tracking_code:
        shown = request.session.get(SHOW_CODE, {})
        request.session[SHOW_CODE] = {**shown, str(done.case.pk): done.tracking_code}


@require_GET
def suggest_json(request: HttpRequest) -> JsonResponse:
    found = suggest(request.GET.get("q", ""))
    return JsonResponse({"suggestions": [
        {"id": s.category_id, "name": s.name, "group": s.parent_name} for s in found
    ]})


@require_GET
def where_json(request: HttpRequest) -> JsonResponse:
    """The grid a position falls in, so the form can say where the report will go."""
    lon, lat = _float(request.GET.get("lon")), _float(request.GET.get("lat"))
    found = locate(lon, lat).grid_id if lon is not None and lat is not None else None
    area = Area.objects.filter(pk=found).select_related(*Area.NAME_PATH).first() if found else None
    return JsonResponse({"grid": {"code": area.code, "name": area.full_name} if area else None})


@require_GET
def nearby_json(request: HttpRequest) -> JsonResponse:
    category = small_int(request.GET.get("category"))
    if category is None or not policy.lists_publicly(category):
        return JsonResponse({"cases": []})
    lon, lat = _float(request.GET.get("lon")), _float(request.GET.get("lat"))
    grid_id = policy.nearby_search_grid(_scanned_grid_code(request), request.GET.get("grid"))
    found = nearby_open_cases(category, lon, lat, grid_id=grid_id)
    # 我也遇到 is offered only on cases this page was shown, so case numbers cannot be
    # walked to read other people's reports.
    supportable = [c.pk for c, _d in found]
    if request.session.get(SUPPORTABLE, []) != supportable:  # no session write if unchanged
        request.session[SUPPORTABLE] = supportable
    return JsonResponse({"cases": [
        {
            "number": c.number, "category": c.category.name,
            "state": plain_state(c.state),
            "date": timezone.localtime(c.created_at).strftime("%m-%d"),
            "distance": round(d) if d is not None else None, "support": c.support_count,
            "url": reverse("resident:support", args=[c.number]),
        }
        for c, d in found
    ]})


@require_POST
def support(request: HttpRequest, number: str) -> HttpResponse:
    try:
        resident = _resident_or_form_login(request)
    except otp.OtpError as error:
        if _wants_json(request):
            return JsonResponse({"ok": False, "error": str(error)}, status=400)
        return HttpResponseBadRequest(str(error))
    if resident is None:
        message = _("请先用手机号登录，再点“我也遇到”")
        if _wants_json(request):
            return JsonResponse({"ok": False, "error": message,
                                 "login": reverse("resident:login")}, status=403)
        return redirect(reverse("resident:login") + "?next=" + reverse("resident:report"))
    case = policy.access_supportable(number, request.session.get(SUPPORTABLE, []))
    if policy.follows_as_reporter(Actor(user=resident), case):
        return _done(request, case)  # their own report: they follow it already
    try:
        workflow.add_support(case, resident)
    except workflow.WorkflowError as error:
        if _wants_json(request):
            return JsonResponse({"ok": False, "error": error.reason}, status=400)
        return HttpResponseBadRequest(error.reason)
    return _done(request, case)


# Identity.

def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return target
    return reverse("resident:mine")


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {"next": _next_url(request), "phone": "", "sent": False,
                               "error": "", "message": ""}
    if request.method == "POST":
        phone = request.POST.get("phone", "").strip()
        context["phone"] = phone
        try:
            if request.POST.get("action") != "send":
                limits.count_all([(limit, client_ip(request)) for limit in limits.LOGINS])
        except limits.Throttled as over:
            return limits.too_many(request, over.retry_after)
        try:
            if request.POST.get("action") == "send":
                otp.request_code(phone, client_ip(request))
                context["sent"] = True
                context["message"] = _("验证码已发送至 %(phone)s，5 分钟内有效") % {
                    "phone": otp.mask_phone(otp.clean_phone(phone))}
                if _wants_json(request):
                    return JsonResponse({"ok": True, "message": context["message"]})
            else:
                context["sent"] = True
                user = otp.check_code(phone, request.POST.get("code", ""))
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                return redirect(context["next"])
        except otp.OtpError as error:
            context["error"] = str(error)
            status = 429 if error.retry_after else 400
            if _wants_json(request):
                response = JsonResponse({"ok": False, "error": context["error"]}, status=status)
            else:
                response = render(request, "resident/login.html", context, status=status)
            if error.retry_after:
                response["Retry-After"] = str(error.retry_after)
            return response
    return render(request, "resident/login.html", context)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    tracked = _tracked(request)
    logout(request)
    if tracked:
        request.session[TRACKED] = tracked
    response = redirect(reverse("resident:mine"))
    response.delete_cookie(QR_COOKIE, samesite="Lax")  # as logout used to clear it
    return response


@require_http_methods(["GET", "POST"])
def track(request: HttpRequest) -> HttpResponse:
    error = ""
    if request.method == "POST":
        try:
            limits.count_all([(limit, client_ip(request)) for limit in limits.TRACKING])
        except limits.Throttled as over:
            return limits.too_many(request, over.retry_after)
        code = request.POST.get("code", "").strip().upper().replace(" ", "")
        case = None
        if 6 <= len(code) <= 16:
            case = workflow.find_by_tracking_code(code)
        if case is not None:
            _track(request, case)
            return redirect(reverse("resident:case", args=[case.number]))
        error = _("查询码不正确，请核对后重新输入")
    return render(request, "resident/track.html", {"error": error}, status=400 if error else 200)


# Following one's cases.

@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    resident = _resident(request)
    condition = policy.visitor_cases_q(request.user, _tracked(request))
    cases = (
        Case.objects.filter(condition).distinct().select_related("category")
        .order_by("-created_at")[:50]
    )
    unread = 0
    if resident is not None:
        unread = Outbox.objects.filter(
            recipient=resident, channel=Channel.INBOX, read_at__isnull=True
        ).count()
    return render(request, "resident/mine.html", {
        "cases": cases, "resident": resident, "unread": unread,
        "masked_phone": otp.mask_phone(resident.phone) if resident else "",
    })


@require_GET
def case_detail(request: HttpRequest, number: str) -> HttpResponse:
    case = _case_for(request, number)
    shown = request.session.get(SHOW_CODE, {})
    tracking_code = shown.pop(str(case.pk), "")
    if tracking_code:
        request.session[SHOW_CODE] = shown
    actor = _actor(request, case)
    can_rate = "rate" in workflow.allowed_actions(case, actor)
    supporter_only = policy.supporter_only(actor, case)
    attachments = list(case.attachments.order_by("kind", "pk"))
    merged_from = _followed_merged(request, case)
    if supporter_only:
        attachments = [a for a in attachments if a.kind == AttachmentKind.AFTER]
    return render(request, "resident/case.html", {
        "case": case, "steps": timeline(case), "tracking_code": tracking_code,
        "supporter_only": supporter_only, "merged_from": merged_from,
        "merged_into": case.merged_into if case.state == State.MERGED else None,
        "can_rate": can_rate, "ratings": Rating.choices,
        "before": [a for a in attachments if a.kind == AttachmentKind.BEFORE],
        "after": [a for a in attachments if a.kind == AttachmentKind.AFTER],
        # Only a running clock has a deadline to show: a suspended case's stands still,
        # and a resolved one waits for the resident's rating, not for the handler.
        "deadline": deadline.due if (deadline := deadlines.current(case)) else None,
        "reopened": request.GET.get("reopened") == "1",
        "rated": request.GET.get("rated") == "1",
    })


def _followed_merged(request: HttpRequest, case: Case) -> list[Case]:
    """The cases merged into this one that this visitor followed (by tracking code, as
    reporter or caller): the page says why they see it."""
    merged = list(case.merged_cases.order_by("pk"))
    if not merged:
        return []
    tracked = set(policy.followed_ids(_tracked(request)))
    followed = policy.visitor_cases_q(request.user, tracked)
    return list(Case.objects.filter(followed, pk__in=[c.pk for c in merged]).order_by("pk"))


@require_POST
def rate(request: HttpRequest, number: str) -> HttpResponse:
    case = _case_for(request, number)
    try:
        workflow.rate(case, _actor(request, case), rating=request.POST.get("rating", ""),
                      comment=request.POST.get("comment", ""))
    except workflow.WorkflowError as error:
        return HttpResponseBadRequest(error.reason)
    flag = "reopened" if request.POST.get("rating") == Rating.UNSATISFIED else "rated"
    return redirect(reverse("resident:case", args=[case.number]) + f"?{flag}=1")


@require_GET
def photo(request: HttpRequest, pk: int, size: str) -> FileResponse:
    attachment = Attachment.objects.filter(pk=pk).select_related("case").first()
    if attachment is None:
        raise Http404(_("照片不存在"))
    case = _case_for(request, attachment.case.number)  # 404 unless this visitor may see it
    if attachment.kind == AttachmentKind.BEFORE and policy.supporter_only(
            _actor(request, case), case):
        raise Http404(_("照片不存在"))
    name = attachment.thumbnail.name if size == "t" and attachment.thumbnail else attachment.file.name
    try:
        handle = default_storage.open(name, "rb")
    except FileNotFoundError:
        raise Http404(_("照片不存在")) from None
    response = FileResponse(handle, content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=86400"
    return response


# Notifications.

@require_http_methods(["GET", "POST"])
def inbox(request: HttpRequest) -> HttpResponse:
    resident = _resident(request)
    if resident is None:
        return redirect(reverse("resident:login") + "?next=" + reverse("resident:inbox"))
    rows = Outbox.objects.filter(recipient=resident, channel=Channel.INBOX)
    if request.method == "POST":
        target = rows.filter(read_at__isnull=True)
        one = request.POST.get("id", "")
        if one:
            pk = small_int(one)
            target = target.filter(pk=pk) if pk is not None else target.none()
        target.update(read_at=timezone.now())
        return redirect(reverse("resident:inbox"))
    return render(request, "resident/inbox.html", {
        "messages_list": rows.order_by("-created_at")[:100],
    })

