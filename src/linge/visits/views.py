"""Household register and visit log pages, under /work/visits/."""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.db.models import Max
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from linge.cases import policy, workflow
from linge.people.decorators import staff_required
from linge.plaintext import bounded_int
from linge.visits import actions
from linge.visits import households as H
from linge.visits.forms import ImportForm, VisitForm
from linge.visits.models import KNOWN_TAGS, Household, Visit

OVERVIEW_PAGE = 50


@staff_required
def overview(request: HttpRequest) -> HttpResponse:
    """Coverage of the user's reach, rolled up: the towns (or villages, or grids when
    the reach holds one), each leading to the level under it; 50 rows a page."""
    days = bounded_int(request.GET.get("days"), 90, 1, 3660)
    tree = H.coverage_tree(policy.reachable_grids(request.user), days=days)
    code = request.GET.get("area", "")[:20] or None
    here = tree.find(code) if code else None
    if code and here is None:
        raise Http404(_("区域不存在或无权查看"))
    trail = []
    walk = code
    while walk and tree.find(walk) is not None:
        trail.insert(0, tree.find(walk))
        walk = tree.parent.get(walk)
    page = Paginator(tree.children(code), OVERVIEW_PAGE).get_page(request.GET.get("page"))
    return render(request, "visits/overview.html", {
        "total": here or tree.total, "trail": trail, "page": page, "rows": page.object_list,
        "days": days, "area": code or "",
    })


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
                case = actions.log_visit(request.user, household, data, key)
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
