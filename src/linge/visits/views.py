"""Household register and visit log pages, under /work/visits/."""

from __future__ import annotations

import secrets
from datetime import date

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linge.cases import intake, policy, workflow
from linge.cases.models import Category, Source
from linge.people.decorators import staff_required
from linge.plaintext import bounded_int
from linge.visits import households as H
from linge.visits.models import KNOWN_TAGS, Household, Visit


@staff_required
def overview(request: HttpRequest) -> HttpResponse:
    days = bounded_int(request.GET.get("days"), 90, 1, 3660)
    rows = H.coverage(policy.reachable_grids(request.user), days=days)
    return render(request, "visits/overview.html", {"rows": rows, "days": days})


class ImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("住户名册（CSV）"))


@staff_required
def grid_page(request: HttpRequest, grid_id: int) -> HttpResponse:
    grid = policy.access_visit_grid(request.user, grid_id)
    problems: list[str] = []
    if request.method == "POST":
        if not policy.may_import_households(request.user, grid):
            raise PermissionDenied(_("您不能导入该网格的住户名册"))
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            if upload.size > 5 * 1024 * 1024:
                problems = [_("文件不能超过 5 MB")]
            else:
                try:
                    created, updated = H.import_csv(grid, upload.read())
                except H.ImportRefused as refused:
                    problems = refused.problems
                else:
                    messages.success(request, _("已导入：新增 %(c)s 户，更新 %(u)s 户") % {
                        "c": created, "u": updated})
                    return redirect("workbench:visits_grid", grid_id=grid.pk)
    tag = request.GET.get("tag", "")
    # A grid holds a few hundred households: the tag filter runs in Python, the same on
    # SQLite and PostgreSQL (JSON containment differs between them).
    households = [h for h in Household.objects.filter(grid=grid).order_by("address")[:5000]
                  if not tag or tag in h.tags]
    last = dict(Visit.objects.filter(grid=grid).values("household_id")
                .annotate(last=Max("at")).values_list("household_id", "last"))
    rows = [(h, last.get(h.pk)) for h in households]
    return render(request, "visits/grid.html", {
        "grid": grid, "rows": rows, "tags": KNOWN_TAGS, "tag": tag, "problems": problems,
        "may_import": policy.may_import_households(request.user, grid), "coverage": H.coverage(
            policy.reachable_grids(request.user).filter(pk=grid.pk))[0],
        "form": ImportForm(),
    })


class VisitForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("走访情况"), max_length=1000,
                           widget=forms.Textarea(attrs={"rows": 3}))
    follow_up_on = forms.DateField(label=gettext_lazy("回访日期（选填）"), required=False,
                                   widget=forms.DateInput(attrs={"type": "date"}))
    found_problem = forms.BooleanField(label=gettext_lazy("发现问题，登记为案件"), required=False)
    category = forms.ModelChoiceField(
        label=gettext_lazy("问题分类"), required=False,
        queryset=Category.objects.filter(active=True, parent__isnull=False).order_by("code"))
    problem = forms.CharField(label=gettext_lazy("问题描述"), required=False,
                              max_length=workflow.MAX_DESCRIPTION,
                              widget=forms.Textarea(attrs={"rows": 3}))
    submit_key = forms.CharField(required=False, max_length=48, widget=forms.HiddenInput)

    def clean_follow_up_on(self) -> date | None:
        value = self.cleaned_data.get("follow_up_on")
        if value and value < timezone.localdate():
            raise forms.ValidationError(_("回访日期不能早于今天"))
        return value

    def clean(self) -> dict:
        data = super().clean()
        if data.get("found_problem") and not (data.get("category") and data.get("problem")):
            raise forms.ValidationError(_("登记问题时请选择分类并填写问题描述"))
        return data


@staff_required
def household_page(request: HttpRequest, pk: int) -> HttpResponse:
    household = Household.objects.select_related("grid").filter(pk=pk).first()
    if household is None or not policy.reachable_grids(request.user).filter(
            pk=household.grid_id).exists():
        raise Http404(_("住户不存在或无权查看"))
    may = policy.may_visit(request.user, household.grid)
    # A fresh key per form: a double-tapped or retried save finds the visit it made.
    form = VisitForm(request.POST or None, initial={"submit_key": secrets.token_hex(16)})
    if request.method == "POST":
        if not may:
            raise PermissionDenied(_("只有本网格的网格员可以登记走访"))
        if form.is_valid():
            data = form.cleaned_data
            key = data.get("submit_key") or None
            try:
                case = _log_visit(request.user, household, data, key)
            except workflow.WorkflowError as error:
                messages.error(request, str(error))
            except IntegrityError:
                messages.error(request, _("该走访表单已提交过，请刷新页面后重新填写"))
            else:
                if case is not None:
                    messages.success(request, _("走访已登记，发现的问题编号 %(n)s") % {
                        "n": case.number})
                else:
                    messages.success(request, _("走访已登记"))
                return redirect("workbench:visits_household", pk=household.pk)
    visits = household.visits.select_related("visitor", "case").order_by("-at")
    return render(request, "visits/household.html", {
        "household": household, "visits": visits, "form": form, "may_visit": may,
    })


def _same_visit(user, household: Household, key: str | None) -> Visit | None:
    if not key:
        return None
    return Visit.objects.filter(submit_key=key, visitor=user,
                                household=household).select_related("case").first()


def _log_visit(user, household: Household, data: dict, key: str | None):
    """Save the visit (and the case it found); the same key again returns the first one's
    case and saves nothing. Returns the case or None."""
    existing = _same_visit(user, household, key)
    if existing is not None:
        return existing.case
    try:
        with transaction.atomic():
            case = None
            if data["found_problem"]:
                case = intake.submit(user, Source.VISIT, intake.Report(
                    category=data["category"], description=data["problem"],
                    grid=household.grid, address=household.address,
                ), key=key).case
            Visit.objects.create(
                household=household, grid=household.grid, visitor=user,
                at=timezone.now(), note=data["note"],
                follow_up_on=data["follow_up_on"], case=case, submit_key=key,
            )
    except IntegrityError:
        # A concurrent retry with the same key won the race: its visit is the answer.
        existing = _same_visit(user, household, key)
        if existing is None:
            raise
        return existing.case
    return case
