"""Other ways in: a staff member's own report (巡查), the 12345 hotline, a case handed
down (上级交办). The rules of each channel live in `cases.intake`."""

from __future__ import annotations

import math
import secrets
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from linge.areas.models import Area
from linge.cases import intake, policy, workflow
from linge.cases.models import Source
from linge.cases.photos import PhotoRejected
from linge.people.decorators import staff_required
from linge.workbench.forms import HigherForm, HotlineForm, NewCaseForm
from linge.workbench.queries import search_grids

WAYS_IN = {
    Source.PATROL: (gettext_lazy("巡查发现"),
                    gettext_lazy("网格员、村社干部在巡查中发现的问题，登记后直接进入本网格待受理。")),
    Source.HOTLINE: (gettext_lazy("12345热线登记"),
                     gettext_lazy("镇街四平台派遣员登记12345热线转来的来电，登记后请向来电人复述案件编号。")),
    Source.HIGHER: (gettext_lazy("上级交办"),
                    gettext_lazy("领导或镇街四平台交办的问题，交办后进入所选网格待受理，按分类时限办理。")),
}
FORMS = {Source.HOTLINE: HotlineForm, Source.HIGHER: HigherForm}


def _report(data: dict) -> intake.Report:
    return intake.Report(
        category=data["category"], description=data["description"], grid=data["grid"],
        lon=data.get("lon"), lat=data.get("lat"), address=data.get("address", ""),
        reporter_phone=data.get("caller_phone", ""),
        hotline_ticket=data.get("hotline_ticket", ""),
        required_by=data.get("required_by"), from_level=data.get("from_level", ""),
    )


@staff_required
def new_case(request: HttpRequest, source: str) -> HttpResponse:
    if source not in WAYS_IN:
        raise Http404()
    if not policy.may_file(request.user, source):
        raise PermissionDenied(_("您的职责不能使用该登记入口"))
    grids = policy.grids_for_filing(request.user, source).select_related(*Area.NAME_PATH)
    form_class = FORMS.get(source, NewCaseForm)
    # A fresh key per form: a double-tapped or retried submit returns the same case.
    form = form_class(request.POST or None, grids=grids,
                      initial={"submit_key": secrets.token_hex(16)})
    done = None
    if request.method != "POST" and request.GET.get("done"):
        # Back from a hotline entry (POST/redirect/GET): read the number back, with an
        # unbound form and a new key so that the next call makes its own case.
        try:
            done = policy.access_case(request.user, request.GET["done"][:40])
        except Http404:
            done = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            photos = intake.prepare(request.FILES.getlist("photos"))
            submitted = intake.submit(request.user, source, _report(data),
                                      key=data.get("submit_key") or None, photos=photos)
        except PhotoRejected as refused:
            messages.error(request, str(refused))
        except workflow.WorkflowError as error:
            messages.error(request, str(error))
        else:
            number = submitted.case.number
            ticket = intake.ticket_of(data.get("hotline_ticket", ""))
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
    }, status=400 if request.method == "POST" else 200)


@staff_required
@require_GET
def grid_search(request: HttpRequest, source: str) -> JsonResponse:
    """The grids this user may file a case of this source into that match the words or
    the position typed, best first, for the entry form's grid picker."""
    if source not in WAYS_IN:
        raise Http404()
    if not policy.may_file(request.user, source):
        raise PermissionDenied(_("您的职责不能使用该登记入口"))
    grids = policy.grids_for_filing(request.user, source)
    lon, lat = _float(request.GET.get("lon")), _float(request.GET.get("lat"))
    found = search_grids(grids, request.GET.get("q", ""), lon, lat)
    return JsonResponse({"grids": [{"id": g.pk, "code": g.code, "name": g.name}
                                   for g in found]})


def _float(value: str | None) -> float | None:
    try:
        number = float(value) if value else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None


@staff_required
def ways_in(request: HttpRequest) -> HttpResponse:
    links = [(source, *WAYS_IN[source]) for source in policy.entry_sources(request.user)]
    return render(request, "workbench/ways_in.html", {"links": links})
