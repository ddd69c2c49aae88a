"""The inbox: tabs with counts, filters, search, deadline lights; bulk accept and dispatch."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linge.cases import deadlines, policy, workflow
from linge.cases.models import Case
from linge.cases.transitions import Action, label
from linge.people.decorators import staff_required
from linge.people.models import Lane, Unit
from linge.people.roles import roles_of
from linge.plaintext import small_int, strip_controls
from linge.workbench import queries as Q_
from linge.workbench.views.exports import EXPORT_LIMIT

PAGE_SIZE = 30
BULK_ACTIONS = (Action.ACCEPT, Action.DISPATCH)
MAX_BULK = 200


def deadline_view(case: Case, now: datetime) -> dict[str, Any]:
    """The light, due time, stage and countdown of the case's current deadline."""
    deadline = deadlines.current(case)
    if deadline is None:
        return {"light": "", "due": None, "stage": "", "countdown": ""}
    return {"light": deadline.light(now), "due": deadline.due,
            "stage": Q_.STAGE_LABELS[deadline.stage], "countdown": Q_.countdown(deadline.due, now)}


@staff_required
def inbox(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    roles = roles_of(request.user)
    f = Q_.parse_filters(request.GET, roles)
    counts, shown = Q_.listing(request.user, f, now, PAGE_SIZE)
    # A tab known to be empty: not even a query to compile (five joins).
    paginator = Paginator([] if counts.get(f.tab) == 0 else shown, PAGE_SIZE)
    beyond = Q_.beyond_listed(f.tab, counts.get(f.tab))
    if f.tab in counts:  # counted once, for its tab: not again for the pages
        paginator.count = Q_.DONE_LISTED if beyond else counts[f.tab]
    page = paginator.get_page(request.GET.get("page"))
    context = {
        "filters": f,
        "tabs": [(key, label_, Q_.shown_count(key, counts.get(key))) for key, label_ in Q_.TABS],
        "page": page,
        "beyond": beyond,
        "listed": Q_.DONE_LISTED,
        "rows": [{"case": case, **deadline_view(case, now)} for case in page.object_list],
        "choices": Q_.filter_choices(request.user),
        "query_without_tab": Q_.Filters(**{**f.__dict__, "tab": ""}).as_query(),
        "query": f.as_query(),
        "bulk": _bulk_options(request.user, f.tab),
        "roles": roles,
        "this_year": str(timezone.localtime(now).year),  # older dates show their year
        "export_limit": EXPORT_LIMIT,
    }
    return render(request, "workbench/inbox.html", context)


def _bulk_options(user, tab: str) -> dict:
    moves = policy.bulk_moves(user)
    options: dict[str, Any] = {}
    if tab == "submitted" and Action.ACCEPT in moves:
        options["accept"] = True
    if tab == "escalated" and Action.DISPATCH in moves:
        options["dispatch"] = True
        options["units"] = Unit.objects.filter(
            Q_.dispatch_units_q(policy.dispatch_towns(user))).order_by("kind", "name")
        options["lanes"] = Lane.objects.all()
    return options


@staff_required
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    """Bulk accept or dispatch: each case through the workflow, refusals reported per case."""
    action = request.POST.get("action", "")
    if action not in BULK_ACTIONS:
        raise Http404()
    numbers = [strip_controls(n)[:20] for n in request.POST.getlist("numbers")[:MAX_BULK]]
    unit = lane = None
    if action == Action.DISPATCH:
        unit = Unit.objects.filter(pk=small_int(request.POST.get("unit"))).first()
        lane = Lane.objects.filter(pk=small_int(request.POST.get("lane"))).first()
        if unit is None:
            messages.error(request, _("请选择承办单位"))
            return _back(request)
    done, refused = [], []
    for number in numbers:
        try:
            case = policy.access_case(request.user, number)
        except Http404:
            refused.append(_("%(n)s：案件不存在或无权查看") % {"n": number})
            continue
        try:
            if action == Action.ACCEPT:
                workflow.accept(case, request.user)
            else:
                workflow.dispatch(case, request.user, unit=unit, lane=lane)
            done.append(number)
        except workflow.WorkflowError as error:
            refused.append(f"{number}：{error}")
    if done:
        messages.success(request, _("已%(a)s %(n)s 件") % {"a": label(action), "n": len(done)})
    for line in refused:
        messages.error(request, line)
    if not numbers:
        messages.error(request, _("请先勾选案件"))
    return _back(request)


def _back(request: HttpRequest) -> HttpResponse:
    back = request.POST.get("back", "")
    if not back.startswith("/work/") or "\x00" in back:
        back = reverse("workbench:inbox")
    return HttpResponseRedirect(back)
