"""The staff workbench: views only parse, authorize and call the workflow."""

from __future__ import annotations

import csv
import functools
import secrets
from collections.abc import Callable
from datetime import datetime, time
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linge.areas.models import Area, Level
from linge.cases import workflow
from linge.cases.models import AttachmentKind, Case, Rating, Source, State
from linge.cases.transitions import ACTION_LABELS
from linge.net import client_ip
from linge.notify.models import Channel, Outbox, Status
from linge.people.models import Lane, Unit, UnitKind, User
from linge.people.scope import GRID_HANDS, access_case, as_actor, capacities, roles_of
from linge.plaintext import small_int, strip_controls
from linge.workbench import lockout
from linge.workbench import queries as Q_
from linge.workbench.svgmap import grid_map

PAGE_SIZE = 30
BULK_ACTIONS = ("accept", "dispatch")


# Access.

def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Anonymous → the login page; a logged-in non-staff user (a resident) → 403."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect(f"{reverse('workbench:login')}?next={request.get_full_path()}")
        if not roles_of(request.user).is_staff_member:
            raise PermissionDenied(_("工作台仅供工作人员使用"))
        request.unread = Outbox.objects.filter(  # type: ignore[attr-defined]
            recipient=request.user, channel=Channel.INBOX, status=Status.SENT, read_at=None
        ).count()
        return view(request, *args, **kwargs)

    return wrapper


# Login with a lock against guessing.

class LockingAuthenticationForm(AuthenticationForm):
    def clean(self) -> dict:
        username = self.cleaned_data.get("username", "")
        ip = client_ip(self.request) if self.request else None
        until = lockout.locked_until(username, ip)
        if until is not None:
            minutes = max(1, int((until - timezone.now()).total_seconds() // 60) + 1)
            raise ValidationError(
                _("登录失败次数过多，该账号已暂时锁定，请 %(m)s 分钟后再试。") % {"m": minutes},
                code="locked",
            )
        try:
            cleaned = super().clean()
        except ValidationError:
            lockout.record(username, ip, succeeded=False)
            raise
        lockout.record(username, ip, succeeded=True)
        return cleaned


class LoginView(auth_views.LoginView):
    template_name = "workbench/login.html"
    authentication_form = LockingAuthenticationForm
    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        # Leaders (领导 of a town, village or the city) land on their screens (#9).
        if roles_of(self.request.user).leader_areas:
            return reverse("cockpit:home")
        return reverse("workbench:inbox")


class LogoutView(auth_views.LogoutView):
    next_page = "workbench:login"


# Inbox.

def _rows(cases: list[Case], now: datetime) -> list[dict]:
    rows = []
    for case in cases:
        deadline = Q_.row_deadline(case, now)
        rows.append({
            "case": case,
            "light": deadline[0] if deadline else "",
            "due": deadline[1] if deadline else None,
            "stage": deadline[2] if deadline else "",
            "countdown": Q_.countdown(deadline[1], now) if deadline else "",
        })
    return rows


@staff_required
def inbox(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    roles = roles_of(request.user)
    f = Q_.parse_filters(request.GET, roles)
    qs = Q_.filtered(request.user, f, now).select_related(
        "category", "grid", "village", "town", "dispatched_unit"
    ).order_by("-created_at")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    base = Q_.filtered(request.user, f, now, with_tab=False)
    counts = {key: Q_.tab_filter(base, key, now).count() for key, _label in Q_.TABS
              if key != "due_soon"}
    context = {
        "filters": f,
        "tabs": [(key, label, counts.get(key)) for key, label in Q_.TABS],
        "page": page,
        "rows": _rows(list(page.object_list), now),
        "choices": Q_.filter_choices(request.user),
        "query_without_tab": Filters_query(f, tab=""),
        "query": f.as_query(),
        "bulk": _bulk_options(request.user, f.tab),
        "roles": roles,
        "this_year": str(timezone.localtime(now).year),  # older dates show their year
    }
    return render(request, "workbench/inbox.html", context)


def Filters_query(f: Q_.Filters, **changes: Any) -> str:  # noqa: N802 - reads as a builder
    copy = Q_.Filters(**{**f.__dict__, **changes})
    return copy.as_query()


def _bulk_options(user: User, tab: str) -> dict:
    roles = roles_of(user)
    options: dict[str, Any] = {}
    if tab == "submitted" and (roles.grids or roles.villages):
        options["accept"] = True
    if tab == "escalated" and roles.towns:
        options["dispatch"] = True
        options["units"] = Unit.objects.filter(
            Q(kind=UnitKind.OFFICE, area_id__in=roles.towns) | Q(kind=UnitKind.DEPARTMENT)
        ).order_by("kind", "name")
        options["lanes"] = Lane.objects.all()
    return options


@staff_required
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    """Bulk accept or dispatch: each case through the workflow, refusals reported per case."""
    action = request.POST.get("action", "")
    if action not in BULK_ACTIONS:
        raise Http404()
    numbers = request.POST.getlist("numbers")[:200]
    unit = lane = None
    if action == "dispatch":
        unit = Unit.objects.filter(pk=small_int(request.POST.get("unit"))).first()
        lane = Lane.objects.filter(pk=small_int(request.POST.get("lane"))).first()
        if unit is None:
            messages.error(request, _("请选择承办单位"))
            return _back(request)
    done, refused = [], []
    for number in numbers:
        try:
            case = access_case(request.user, number)
        except Http404:
            refused.append(_("%(n)s：案件不存在或无权查看") % {"n": number})
            continue
        try:
            if action == "accept":
                workflow.accept(case, request.user)
            else:
                workflow.dispatch(case, request.user, unit=unit, lane=lane)
            done.append(number)
        except workflow.WorkflowError as error:
            refused.append(f"{number}：{error}")
    label = ACTION_LABELS[action]
    if done:
        messages.success(request, _("已%(a)s %(n)s 件") % {"a": label, "n": len(done)})
    for line in refused:
        messages.error(request, line)
    if not numbers:
        messages.error(request, _("请先勾选案件"))
    return _back(request)


def _back(request: HttpRequest) -> HttpResponse:
    back = request.POST.get("back", "")
    if not back.startswith("/work/"):
        back = reverse("workbench:inbox")
    return HttpResponseRedirect(back)


# Exports.

EXPORT_LIMIT = 100_000
EXPORT_HEADER = [
    _("编号"), _("上报时间"), _("来源"), _("分类"), _("状态"), _("镇街"), _("村社"), _("网格"),
    _("地址"), _("描述"), _("报告人电话"), _("承办单位"), _("受理期限"), _("办结期限"),
    _("超期"), _("督办"), _("评价"),
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


def _export_rows(user: User, request: HttpRequest):
    now = timezone.now()
    f = Q_.parse_filters(request.GET, roles_of(user))
    qs = Q_.filtered(user, f, now).select_related(
        "category", "grid", "village", "town", "dispatched_unit"
    ).order_by("-created_at")[:EXPORT_LIMIT]
    yes, no = _("是"), _("否")

    def fmt(value: datetime | None) -> str:
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""

    for c in qs.iterator(chunk_size=2000):
        yield [_cell(value) for value in _export_row(c, fmt, yes, no)]


def _export_row(c: Case, fmt: Callable[[datetime | None], str], yes: str, no: str) -> list:
    return [
        c.number, fmt(c.created_at), c.get_source_display(), c.category.name,
        c.get_state_display(), c.town.name, c.village.name, c.grid.name, c.address,
        c.description, Q_.mask_phone(c.reporter_phone),
        c.dispatched_unit.name if c.dispatched_unit else "", fmt(c.accept_due),
        fmt(c.resolve_due), yes if c.overdue else no, yes if c.supervised else no,
        c.get_rating_display() if c.rating else "",
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
        for row in _export_rows(request.user, request):
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="cases-{_stamp()}.csv"'
    return response


@staff_required
def export_xlsx(request: HttpRequest) -> HttpResponse:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("案件"))
    sheet.append([str(h) for h in EXPORT_HEADER])
    for row in _export_rows(request.user, request):
        sheet.append(row)
    response = HttpResponse(
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="cases-{_stamp()}.xlsx"'
    book.save(response)
    return response


def _stamp() -> str:
    return timezone.localtime().strftime("%Y%m%d-%H%M")


# The case page.

ACTION_FIELDS: dict[str, list[str]] = {
    "accept": ["note"],
    "reject": ["reason"],
    "merge": ["into", "note"],
    "transfer": ["grid", "reason"],
    "supervise": ["note"],
    "assign": ["assignee"],
    "resolve": ["note_required", "photos"],
    "escalate": ["reason"],
    "suspend": ["reason"],
    "resume": ["note"],
    "dispatch": ["unit", "lane", "note"],
    "return": ["reason"],
    "request_extension": ["amount", "reason"],
    "grant_extension": ["note"],
    "refuse_extension": ["reason"],
    "verify": ["note"],
    "fail_verification": ["reason"],
    "rate": ["rating", "comment"],
    "reopen": ["comment"],
    "add_support": [],
}
# Actions whose button marks a turn for the worse, shown in a quieter colour.
SECONDARY = {"reject", "return", "suspend", "fail_verification", "refuse_extension", "merge"}


def _action_forms(case: Case, user: User, allowed: list[str]) -> list[dict]:
    forms_ = []
    for action in allowed:
        fields = list(ACTION_FIELDS.get(action, []))
        if action == "resolve" and not case.category.photo_after_required:
            fields = ["note_required", "photos_optional"]
        extra: dict[str, Any] = {}
        if "grid" in fields:
            extra["grids"] = Area.objects.filter(
                level=Level.GRID, parent__parent_id=case.town_id
            ).exclude(pk=case.grid_id).select_related(*Area.NAME_PATH).order_by("code")
        if "assignee" in fields:
            extra["assignees"] = User.objects.filter(
                memberships__unit__area_id=case.grid_id,
                memberships__unit__kind=UnitKind.GRID_TEAM,
                memberships__duty__in=GRID_HANDS,
            ).distinct().order_by("username")
        if "unit" in fields:
            extra["units"] = Unit.objects.filter(
                Q(kind=UnitKind.OFFICE, area_id=case.town_id) | Q(kind=UnitKind.DEPARTMENT)
            ).select_related("lane").order_by("kind", "name")
            extra["lanes"] = Lane.objects.all()
            extra["default_lane"] = case.category.lane_id
        if "rating" in fields:
            extra["ratings"] = Rating.choices
        forms_.append({
            "action": action, "label": ACTION_LABELS.get(action, action), "fields": fields,
            "secondary": action in SECONDARY, "unit": case.category.get_resolve_unit_display(),
            **extra,
        })
    return forms_


def case_context(case: Case, user: User) -> dict:
    now = timezone.now()
    caps = capacities(as_actor(user), case)
    handles = bool(caps & Q_.HANDLING)
    reporter_name = (case.reporter.display_name or _("居民")) if case.reporter else _("匿名或来电群众")
    phone = case.reporter_phone or (case.reporter.phone if case.reporter else "")
    deadline = Q_.row_deadline(case, now)
    allowed = workflow.allowed_actions(case, user)
    events = list(case.events.select_related("actor").order_by("seq"))
    for event in events:
        event.label = ACTION_LABELS.get(event.action, event.action)
        event.state_label = State(event.to_state).label if event.to_state else ""
    attachments = list(case.attachments.order_by("at", "pk"))
    return {
        "case": case,
        "events": events,
        "before": [a for a in attachments if a.kind == AttachmentKind.BEFORE],
        "after": [a for a in attachments if a.kind == AttachmentKind.AFTER],
        "reporter_name": reporter_name,
        "reporter_phone": phone if handles else Q_.mask_phone(phone),
        "phone_masked": not handles,
        "supporters": [
            {"name": s.user.display_name or _("居民"),
             "phone": s.user.phone if handles else Q_.mask_phone(s.user.phone)}
            for s in case.supporters.select_related("user").order_by("at")
        ],
        "light": deadline[0] if deadline else "",
        "due": deadline[1] if deadline else None,
        "stage": deadline[2] if deadline else "",
        "countdown": Q_.countdown(deadline[1], now) if deadline else "",
        "map": grid_map(case.grid.boundary, case.lon, case.lat),
        "actions": _action_forms(case, user, allowed),
    }


@staff_required
def case_page(request: HttpRequest, number: str) -> HttpResponse:
    case = access_case(request.user, number)
    return render(request, "workbench/case.html", case_context(case, request.user))


class _Refused(Exception):
    pass


def _call(action: str, case: Case, user: User, post, files) -> Case:
    """Read what `action` needs from the form and make the move."""
    w = workflow
    text = {key: post.get(key, "") for key in ("note", "reason", "comment")}
    if action == "accept":
        return w.accept(case, user, note=text["note"])
    if action == "reject":
        return w.reject(case, user, reason=text["reason"])
    if action == "merge":
        try:
            into = access_case(user, post.get("into", "").strip())
        except Http404 as missing:
            raise _Refused(_("目标案件不存在或无权查看")) from missing
        return w.merge(case, user, into=into, note=text["note"])
    if action == "transfer":
        # A grid of the town from the list, or any grid by its code (the problem lies
        # in another town).
        code = post.get("grid_code", "").strip()
        grids = Area.objects.filter(level=Level.GRID)
        grid = (grids.filter(code=code) if code else
                grids.filter(pk=small_int(post.get("grid")))).first()
        if grid is None:
            raise _Refused(_("网格编码 %(c)s 不存在") % {"c": code} if code
                           else _("请选择要转办的网格"))
        return w.transfer(case, user, grid=grid, reason=text["reason"])
    if action == "supervise":
        return w.supervise(case, user, note=text["note"])
    if action == "assign":
        assignee = User.objects.filter(pk=small_int(post.get("assignee"))).first()
        if assignee is None:
            raise _Refused(_("请选择处理人"))
        return w.assign(case, user, assignee=assignee)
    if action == "resolve":
        photos = _photos(files.getlist("photos"))
        try:
            return w.resolve(case, user, note=text["note"], after_photos=photos)
        except workflow.WorkflowError:
            _discard(photos)  # refused: the move rolled back, no case took the files
            raise
    if action == "escalate":
        return w.escalate(case, user, reason=text["reason"])
    if action == "suspend":
        return w.suspend(case, user, reason=text["reason"])
    if action == "resume":
        return w.resume(case, user, note=text["note"])
    if action == "dispatch":
        unit = Unit.objects.filter(pk=small_int(post.get("unit"))).first()
        if unit is None:
            raise _Refused(_("请选择承办单位"))
        lane = Lane.objects.filter(pk=small_int(post.get("lane"))).first()
        return w.dispatch(case, user, unit=unit, lane=lane, note=text["note"])
    if action == "return":
        return w.return_case(case, user, reason=text["reason"])
    if action == "request_extension":
        amount = small_int(post.get("amount"))
        if amount is None:
            raise _Refused(_("请填写延时时长"))
        return w.request_extension(case, user, amount=amount, reason=text["reason"])
    if action == "grant_extension":
        return w.grant_extension(case, user, note=text["note"])
    if action == "refuse_extension":
        return w.refuse_extension(case, user, reason=text["reason"])
    if action == "verify":
        return w.verify(case, user, note=text["note"])
    if action == "fail_verification":
        return w.fail_verification(case, user, reason=text["reason"])
    if action == "rate":
        return w.rate(case, user, rating=post.get("rating", ""), comment=text["comment"])
    if action == "reopen":
        return w.reopen(case, user, comment=text["comment"])
    if action == "add_support":
        return w.add_support(case, user)
    raise Http404()


def _photos(files: list) -> list[workflow.Photo]:
    if not files:
        return []
    if len(files) > 9:
        raise _Refused(_("最多上传 9 张照片"))
    from linge.cases.photos import PhotoRejected, store_photo

    stored: list[workflow.Photo] = []
    try:
        for f in files:
            stored.append(store_photo(f))
    except PhotoRejected as error:
        _discard(stored)  # one bad file in the batch: drop the ones already written
        raise _Refused(str(error)) from error
    return stored


def _discard(photos: list[workflow.Photo]) -> None:
    from linge.cases.photos import delete_photo

    for photo in photos:
        delete_photo(photo)


@staff_required
@require_POST
def act(request: HttpRequest, number: str, action: str) -> HttpResponse:
    if action not in ACTION_FIELDS:
        raise Http404()
    case = access_case(request.user, number)
    if action not in workflow.allowed_actions(case, request.user):
        raise PermissionDenied(_("您不能对该案件执行「%(a)s」") % {"a": ACTION_LABELS[action]})
    try:
        _call(action, case, request.user, request.POST, request.FILES)
    except (workflow.WorkflowError, _Refused) as error:
        messages.error(request, str(error))
        return redirect("workbench:case", number=number)
    messages.success(request, _("已%(a)s") % {"a": ACTION_LABELS[action]})
    try:
        access_case(request.user, number)
    except Http404:
        return redirect("workbench:inbox")  # transferred out of this user's reach
    return redirect("workbench:case", number=number)


# Other ways in: a staff member's own report, the 12345 hotline, a case handed down.

class NewCaseForm(forms.Form):
    grid = forms.ModelChoiceField(queryset=Area.objects.none(), label=_("网格"))
    category = forms.ModelChoiceField(queryset=None, label=_("问题分类"))
    description = forms.CharField(label=_("问题描述"), max_length=workflow.MAX_DESCRIPTION,
                                  widget=forms.Textarea(attrs={"rows": 4}))
    address = forms.CharField(label=_("地址"), max_length=200, required=False)
    lon = forms.FloatField(required=False, widget=forms.HiddenInput)
    lat = forms.FloatField(required=False, widget=forms.HiddenInput)
    submit_key = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args: Any, grids, **kwargs: Any) -> None:
        from linge.cases.models import Category

        super().__init__(*args, **kwargs)
        self.fields["grid"].queryset = grids
        self.fields["category"].queryset = Category.objects.filter(
            active=True, parent__isnull=False
        ).select_related("parent").order_by("code")
        self.fields["category"].label_from_instance = (
            lambda c: f"{c.parent.name} / {c.name}" if c.parent else c.name
        )


class HigherForm(NewCaseForm):
    required_by = forms.DateField(label=_("交办要求办结日期"),
                                  widget=forms.DateInput(attrs={"type": "date"}))
    from_level = forms.CharField(label=_("交办单位"), max_length=40)

    def clean_required_by(self):
        value = self.cleaned_data["required_by"]
        if value < timezone.localdate():
            raise ValidationError(_("要求办结日期不能早于今天"))
        return value


class HotlineForm(NewCaseForm):
    caller_phone = forms.RegexField(regex=r"^1\d{10}$|^0\d{9,11}$", label=_("来电号码"),
                                    error_messages={"invalid": _("请输入正确的电话号码")})
    hotline_ticket = forms.CharField(label=_("12345工单号"), max_length=40, required=False)


def _grids_for(user: User, source: str):
    roles = roles_of(user)
    grids = Area.objects.filter(level=Level.GRID)
    if roles.admin or roles.city_leader:
        return grids.order_by("code")
    ids = set()
    if source == Source.PATROL:
        ids = set(roles.grids)
    q = Q(pk__in=ids) | Q(parent_id__in=roles.villages) | Q(parent__parent_id__in=roles.towns)
    if source == Source.HIGHER:
        q |= Q(pk__in=roles.leader_areas) | Q(parent_id__in=roles.leader_areas) | Q(
            parent__parent_id__in=roles.leader_areas)
    return grids.filter(q).order_by("code")


WAYS_IN = {
    Source.PATROL: (_("巡查发现"), _("网格员、村社干部在巡查中发现的问题，登记后直接进入本网格待受理。")),
    Source.HOTLINE: (_("12345热线登记"), _("镇街四平台派遣员登记12345热线转来的来电，登记后请向来电人复述案件编号。")),
    Source.HIGHER: (_("上级交办"), _("领导或镇街四平台交办的问题，交办后进入所选网格待受理，按分类时限办理。")),
}


def _may_use(user: User, source: str) -> bool:
    roles = roles_of(user)
    if roles.admin:
        return True
    if source == Source.PATROL:
        return bool(roles.grids or roles.villages)
    if source == Source.HOTLINE:
        return bool(roles.towns or roles.city_leader)
    if source == Source.HIGHER:
        return bool(roles.leader_areas or roles.towns)
    return False


@staff_required
def new_case(request: HttpRequest, source: str) -> HttpResponse:
    if source not in WAYS_IN:
        raise Http404()
    if not _may_use(request.user, source):
        raise PermissionDenied(_("您的职责不能使用该登记入口"))
    grids = _grids_for(request.user, source)
    form_class = {Source.HOTLINE: HotlineForm, Source.HIGHER: HigherForm}.get(source, NewCaseForm)
    # A fresh key per form: a double-tapped or retried submit returns the same case.
    form = form_class(request.POST or None, grids=grids,
                      initial={"submit_key": secrets.token_hex(16)})
    done = None
    if request.method != "POST" and request.GET.get("done"):
        # Back from a hotline entry (POST/redirect/GET): read the number back, with an
        # unbound form and a new key so that the next call makes its own case.
        try:
            done = access_case(request.user, request.GET["done"][:40])
        except Http404:
            done = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        description = data["description"]
        submit_key = data.get("submit_key") or None
        ticket = "".join(data.get("hotline_ticket", "").split()).upper()
        if source == Source.HOTLINE and ticket:
            description = f"{description}\n（12345工单号：{ticket}）"
            submit_key = f"12345:{ticket}"  # one case per 12345 ticket, however often entered
        required_by = None
        if source == Source.HIGHER:
            # Due by the end of the day the higher level named; the deadlines are capped.
            required_by = datetime.combine(data["required_by"], time(23, 59),
                                           timezone.get_current_timezone())
            description = _("%(text)s\n（%(unit)s交办，要求 %(date)s 前办结）") % {
                "text": description, "unit": data["from_level"],
                "date": data["required_by"].isoformat()}
        photos: list[workflow.Photo] = []
        try:
            photos = _photos(request.FILES.getlist("photos"))
            submitted = workflow.submit(
                request.user, category=data["category"], description=description,
                grid=data["grid"], source=source, lon=data.get("lon"), lat=data.get("lat"),
                address=data.get("address", ""), submit_key=submit_key,
                reporter_phone=data.get("caller_phone", ""), required_by=required_by,
                photos=photos,
            )
        except _Refused as refused:
            messages.error(request, str(refused))
        except workflow.WorkflowError as error:
            _discard(photos)
            messages.error(request, str(error))
        except BaseException:
            _discard(photos)
            raise
        else:
            if not submitted.created:
                _discard(photos)  # a retried submit: the case has its photos already
            number = submitted.case.number
            if not submitted.created and ticket:
                messages.warning(request, _("12345工单 %(t)s 已登记过，编号 %(n)s") % {
                    "t": ticket, "n": number})
            if source == Source.HOTLINE:
                # Never render the bound form again: it still carries this call's key.
                url = reverse("workbench:new_case", kwargs={"source": source})
                return HttpResponseRedirect(f"{url}?{urlencode({'done': number})}")
            messages.success(request, _("已登记，编号 %(n)s") % {"n": number})
            return redirect("workbench:case", number=number)
    title, help_text = WAYS_IN[source]
    return render(request, "workbench/new_case.html", {
        "form": form, "title": title, "help": help_text, "source": source, "done": done,
    })


@staff_required
def ways_in(request: HttpRequest) -> HttpResponse:
    links = [(source, title, help_text) for source, (title, help_text) in WAYS_IN.items()
             if _may_use(request.user, source)]
    return render(request, "workbench/ways_in.html", {"links": links})



@staff_required
def inbox_messages(request: HttpRequest) -> HttpResponse:
    """站内消息: what the worker delivered to this user (moves, deadline reminders)."""
    rows = Outbox.objects.filter(recipient=request.user, channel=Channel.INBOX,
                                 status=Status.SENT).select_related("case").order_by(
        "-created_at")
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    unread = [m.pk for m in page.object_list if m.read_at is None]
    response = render(request, "workbench/messages.html", {"page": page, "unread": set(unread)})
    Outbox.objects.filter(pk__in=unread).update(read_at=timezone.now())
    return response
