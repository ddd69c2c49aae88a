"""The public timeline of a case: its public events in the plain words their
declarations give (`cases.actions`). The resident's case page shows it, and Open311's
status_notes are its latest line: no reporter data, no internal notes (a note, a
return's reason or an extension are never public lines)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext as _

from linge.cases import messages
from linge.cases.actions import declaration
from linge.cases.models import Case, CaseEvent
from linge.cases.transitions import Action


def mask_name(name: str) -> str:
    """Surname and two stars: 王网格长 → 王**."""
    name = (name or "").strip()
    return f"{name[0]}**" if name else "**"


@dataclass(frozen=True)
class Step:
    at: datetime
    text: str


def _who(event: CaseEvent) -> str:
    duty = event.data.get("duty", "")
    name = ""
    if event.actor is not None and not event.actor.is_resident:
        name = mask_name(event.actor.display_name or event.actor_label)
    return " ".join(part for part in (str(duty), name) if part)


def step_text(event: CaseEvent) -> str | None:
    """One public event in plain words (its declaration's timeline line), or None when
    residents are not shown it."""
    template = declaration(event.action).timeline if event.action in Action.values else None
    if template is None:
        return None
    values = messages.values(event.case, event, latest_reply=False)
    values["who"] = _who(event) or (_("网格员") if event.action == Action.ACCEPT
                                    else _("处置人员"))
    return str(template) % values


def timeline(case: Case) -> list[Step]:
    events = case.events.filter(public=True).select_related("actor", "case").order_by("seq")
    steps = []
    for event in events:
        text = step_text(event)
        if text:
            steps.append(Step(event.at, text))
    return steps


# Actions that have a public line: the others are skipped in the query already.
_WITH_LINE = [a.value for a in Action if declaration(a).timeline is not None]


def latest_lines(cases: Iterable[Case]) -> dict[int, str]:
    """The latest public timeline line of each case, in one query for all of them."""
    by_pk = {case.pk: case for case in cases}
    if not by_pk:
        return {}
    events = (CaseEvent.objects.filter(case_id__in=list(by_pk), public=True,
                                       action__in=_WITH_LINE)
              .select_related("actor").order_by("case_id", "-seq"))
    lines: dict[int, str] = {}
    for event in events:
        if event.case_id in lines:
            continue
        event.case = by_pk[event.case_id]
        text = step_text(event)
        if text:
            lines[event.case_id] = text
    return lines
