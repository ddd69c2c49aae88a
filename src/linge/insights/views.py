"""热点难点 pages under /work/hot/: clusters, and the deliberation agenda of a village."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from linge.areas.models import Area, Level
from linge.cases import policy
from linge.cases.models import Category
from linge.insights.forms import AgendaForm, OutcomeForm
from linge.insights.hot import clusters
from linge.insights.models import Deliberation
from linge.people.decorators import staff_required
from linge.plaintext import bounded_int


@staff_required
def hot(request: HttpRequest) -> HttpResponse:
    days = bounded_int(request.GET.get("days"), 180, 7, 730)
    found = clusters(policy.visible_cases(request.user),
                     since=timezone.now() - timedelta(days=days))
    villages = policy.agenda_villages(request.user)
    agenda = Deliberation.objects.filter(village_id__in=villages).select_related(
        "village", "category")[:50]
    return render(request, "insights/hot.html", {
        "clusters": found[:50], "days": days, "my_villages": villages,
        "agenda": agenda, "form": AgendaForm(),
    })


@staff_required
def add_to_agenda(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        raise Http404()
    form = AgendaForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写议题和恳谈日期"))
        return redirect("workbench:hot")
    data = form.cleaned_data
    if not policy.keeps_agenda(request.user, data["village"]):
        raise PermissionDenied(_("只有本村社干部可以安排民主恳谈"))
    village = Area.objects.filter(pk=data["village"], level=Level.VILLAGE).first()
    if village is None:
        raise Http404()
    visible = set(policy.visible_cases(request.user).filter(
        number__in=data["numbers"].split(",")).values_list("number", flat=True))
    now = timezone.now()
    try:
        with transaction.atomic():
            item, created = Deliberation.objects.select_for_update().get_or_create(
                village=village, title=data["title"], meeting_on=data["meeting_on"],
                defaults={
                    "category": Category.objects.filter(pk=data.get("category")).first(),
                    "keywords": data.get("keywords", "")[:100],
                    "case_numbers": sorted(visible), "created_by": request.user,
                    "created_at": now, "updated_at": now,
                },
            )
            if not created and not visible <= set(item.case_numbers):
                # The same item for the same meeting (another cluster of the same
                # category, say): its cases join the item rather than being lost.
                item.case_numbers = sorted(visible | set(item.case_numbers))
                item.updated_at = now
                item.save(update_fields=["case_numbers", "updated_at"])
    except IntegrityError:
        pass  # the same item, added by a second tap at the same moment
    messages.success(request, _("已列入民主恳谈议题"))
    return redirect("workbench:hot")


@staff_required
def deliberation(request: HttpRequest, pk: int) -> HttpResponse:
    item = Deliberation.objects.filter(pk=pk).select_related("village").first()
    if item is None or not policy.keeps_agenda(request.user, item.village_id):
        raise Http404()
    form = OutcomeForm(request.POST or None, initial={"outcome": item.outcome})
    if request.method == "POST" and form.is_valid():
        item.outcome = form.cleaned_data["outcome"]
        item.updated_at = timezone.now()
        item.save(update_fields=["outcome", "updated_at"])
        messages.success(request, _("恳谈结果已保存"))
        return redirect("workbench:hot")
    return render(request, "insights/deliberation.html", {"item": item, "form": form})
