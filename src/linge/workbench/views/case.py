"""The case page: facts, deadline, photos, map, timeline, and exactly the allowed moves,
each with the form its declaration names (`cases.actions`)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linge.cases import policy, workflow
from linge.cases.actions import declaration, in_page_order
from linge.cases.models import Attachment, AttachmentKind, Case, CaseEvent, State, Supporter
from linge.cases.transitions import Action, label
from linge.people.decorators import staff_required
from linge.people.models import User
from linge.people.privacy import mask_phone
from linge.people.roles import Actor
from linge.prepared import Prepared
from linge.workbench.svgmap import grid_map, navigation
from linge.workbench.views.inbox import deadline_view


def _moves(case: Case, user: User, refused: workflow.InputRefused | None) -> list[dict]:
    moves = []
    for action in in_page_order(workflow.allowed_actions(case, user)):
        spec = declaration(action)
        if spec.form is None:
            continue
        kept = refused is not None and refused.action == action
        form = refused.form if kept else workflow.bind(action, case, user)
        moves.append({"action": action, "label": spec.label, "form": form,
                      "secondary": spec.secondary, "open": kept})
    if moves and refused is None:
        moves[0]["open"] = True  # the likely next step, ready to fill in
    return moves


TIMELINE_DETAILS = ("duty", "unit_name", "grid_name", "reason", "note", "reply", "comment")


def case_context(case: Case, user: User, refused: workflow.InputRefused | None = None) -> dict:
    now = timezone.now()
    actor = Actor(user=user)
    sees_phone = policy.sees_phone(actor, case)
    reporter_name = (case.reporter.display_name or _("居民")) if case.reporter else _("匿名或来电群众")
    phone = case.reporter_phone or (case.reporter.phone if case.reporter else "")
    events = _EVENTS(case.pk)
    for event in events:
        event.label = label(event.action)
        event.state_label = State(event.to_state).label if event.to_state else ""
        # Every detail the timeline shows, present or blank: a template's failed look-up
        # of a missing key costs it an exception and a dir() of the dict.
        event.shown = {key: (event.data or {}).get(key, "") for key in TIMELINE_DETAILS}
    attachments = _ATTACHMENTS(case.pk)
    return {
        "case": case,
        "events": events,
        "before": [a for a in attachments if a.kind == AttachmentKind.BEFORE],
        "after": [a for a in attachments if a.kind == AttachmentKind.AFTER],
        "reporter_name": reporter_name,
        "reporter_phone": phone if sees_phone else mask_phone(phone),
        "phone_masked": not sees_phone,
        "supporters": [
            {"name": s.user.display_name or _("居民"),
             "phone": s.user.phone if sees_phone else mask_phone(s.user.phone)}
            # The count is kept with each supporter added, in the same transaction.
            for s in (_SUPPORTERS(case.pk) if case.support_count else [])
        ],
        **deadline_view(case, now),
        "merged_cases": _MERGED(case.pk),
        "map": grid_map(case.grid.boundary, case.lon, case.lat),
        "nav": navigation(case.grid.boundary, case.lon, case.lat,
                          case.address or case.grid.name),
        "actions": _moves(case, user, refused),
    }


# The relations every case page shows, read with the case rather than one query each as
# the template reaches them, the reporter among them (most cases have one). Not more:
# planning a join of nine tables cost PostgreSQL 7-13 ms a time before the statement was
# prepared; the dispatched unit, lane and handler are often empty, and an empty one
# costs no query. The village's and town's boundaries are not shown (only the grid's
# map): they are not read.
SHOWN_WITH_CASE = ("category__parent", "grid", "village", "town", "owner_unit", "reporter")
NOT_SHOWN = ("village__boundary", "town__boundary")

# What the page lists under the case, each a query compiled once (linge.prepared).
_EVENTS = Prepared(lambda case_id: CaseEvent.objects.filter(case_id=case_id)
                   .select_related("actor").order_by("seq"), -7_000_201)
_ATTACHMENTS = Prepared(lambda case_id: Attachment.objects.filter(case_id=case_id)
                        .order_by("at", "pk"), -7_000_202)
_SUPPORTERS = Prepared(lambda case_id: Supporter.objects.filter(case_id=case_id)
                       .select_related("user").order_by("at"), -7_000_203)
_MERGED = Prepared(lambda case_id: Case.objects.filter(merged_into_id=case_id).order_by("pk"),
                   -7_000_204)


@staff_required
def case_page(request: HttpRequest, number: str) -> HttpResponse:
    case = policy.access_case(request.user, number, SHOWN_WITH_CASE, NOT_SHOWN)
    return render(request, "workbench/case.html", case_context(case, request.user))


@staff_required
@require_POST
def act(request: HttpRequest, number: str, action: str) -> HttpResponse:
    if action not in Action.values or declaration(action).form is None:
        raise Http404()
    case = policy.access_case(request.user, number)
    if action not in workflow.allowed_actions(case, request.user):
        raise PermissionDenied(_("您不能对该案件执行「%(a)s」") % {"a": label(action)})
    try:
        workflow.act(action, case, request.user, request.POST, request.FILES)
    except workflow.InputRefused as refused:
        # Everything typed stays in the form, shown again with what to correct.
        messages.error(request, str(refused))
        case.refresh_from_db()
        return render(request, "workbench/case.html",
                      case_context(case, request.user, refused), status=400)
    except workflow.WorkflowError as error:
        messages.error(request, str(error))
        return redirect("workbench:case", number=number)
    case.refresh_from_db()
    messages.success(request, _("已%(a)s，案件现为「%(s)s」") % {
        "a": label(action), "s": case.get_state_display()})
    try:
        policy.access_case(request.user, number)
    except Http404:
        return redirect("workbench:inbox")  # transferred out of this user's reach
    return redirect("workbench:case", number=number)
