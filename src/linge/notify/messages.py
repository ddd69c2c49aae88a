"""What each case event tells whom: built by the workflow inside its transaction."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from linge.cases.models import Case, CaseEvent, State
from linge.people.models import Duty, Membership, User
from linge.people.scope import GRID_ESCALATORS, GRID_HANDS

P = ParamSpec("P")
R = TypeVar("R")

HANDLER_DUTIES = {Duty.HANDLER, Duty.LEADER}


def in_site_language(make: Callable[P, R]) -> Callable[P, R]:
    """Messages are written in the site's language (LINGE_LANGUAGE), whatever language
    the page of the staff member whose move triggers them is in: a resident told of
    progress must not get English because the dispatcher reads the workbench in English."""

    @functools.wraps(make)
    def made(*args: P.args, **kwargs: P.kwargs) -> R:
        with translation.override(settings.LANGUAGE_CODE):
            return make(*args, **kwargs)

    return made


@dataclass(frozen=True)
class Notice:
    recipient_id: int | None
    phone: str
    channel: str
    text: str


def resident_text(case: Case, event: CaseEvent) -> str | None:
    """The sentence a reporter or supporter receives, or None when they are not told."""
    n = case.number
    data = event.data
    texts = {
        "submit": _("您反映的问题已登记，编号 %(n)s。用本手机号登录岭格即可查看进展。"),
        "accept": _("您反映的问题（%(n)s）已受理，正在处理。"),
        "reject": _("您反映的问题（%(n)s）不予受理，原因：%(reason)s"),
        "merge": _("您反映的问题（%(n)s）与问题 %(target)s 相同，已合并办理，进展会一并告知您。"),
        "transfer": _("您反映的问题（%(n)s）已转至%(grid)s办理。"),
        "escalate": _("您反映的问题（%(n)s）已上报镇街四平台。"),
        "dispatch": _("您反映的问题（%(n)s）已派至%(unit)s办理。"),
        "suspend": _("您反映的问题（%(n)s）暂时挂起，原因：%(reason)s"),
        "resume": _("您反映的问题（%(n)s）已恢复办理。"),
        "resolve": _("您反映的问题（%(n)s）已办结，请您评价。"),
        "verify": _("您反映的问题（%(n)s）已办结，请您评价。"),
        "reopen": _("您对问题（%(n)s）的评价为不满意，已退回重新办理。"),
        "rate": _("感谢您的评价，问题（%(n)s）已办结。"),
        "auto_close": _("问题（%(n)s）逾期未评价，已自动结案。"),
        "add_support": _("您已附议问题（%(n)s），后续进展会同步告知您。"),
    }
    template = texts.get(event.action)
    if template is None or not event.public:
        return None
    if event.action == "resolve" and event.to_state != State.RESOLVED:
        return None
    values = {
        "n": n,
        "reason": data.get("reason", ""),
        "target": data.get("into", ""),
        "grid": data.get("grid_name", ""),
        "unit": data.get("unit_name", ""),
    }
    return template % values


def staff_text(case: Case, event: CaseEvent) -> str:
    from linge.cases.transitions import ACTION_LABELS

    label = ACTION_LABELS.get(event.action, event.action)
    reason = event.data.get("reason") or event.data.get("note") or ""
    text = _("案件 %(n)s「%(cat)s」：%(action)s") % {
        "n": case.number, "cat": case.category.name, "action": label,
    }
    return f"{text}。{reason}"[:300] if reason else text


def _members(unit_id: int | None, duties: set[str]) -> list[int]:
    if unit_id is None:
        return []
    return list(
        Membership.objects.filter(unit_id=unit_id, duty__in=duties)
        .values_list("user_id", flat=True)
        .distinct()
    )


def staff_recipients(case: Case, event: CaseEvent, grid_team_id: int, platform_id: int) -> list[int]:
    action, to_state = event.action, event.to_state
    if action in ("submit", "transfer"):
        return _members(grid_team_id, GRID_HANDS)
    if action == "assign":
        return [case.assignee_id] if case.assignee_id else []
    if action in ("escalate", "request_extension") or (
        action in ("return", "resolve") and to_state in (State.ESCALATED, State.VERIFYING)
    ):
        return _members(platform_id, {Duty.DISPATCHER})
    if action in ("dispatch", "grant_extension", "refuse_extension", "fail_verification"):
        return _members(case.dispatched_unit_id, HANDLER_DUTIES)
    if action == "return" and to_state == State.ACCEPTED:
        return _members(grid_team_id, GRID_ESCALATORS)
    if action in ("reopen", "supervise"):
        if case.state == State.ACCEPTED or case.state == State.SUBMITTED:
            return _members(grid_team_id, GRID_HANDS)
        if case.state in (State.ESCALATED, State.VERIFYING):
            return _members(platform_id, {Duty.DISPATCHER})
        return _members(case.dispatched_unit_id, HANDLER_DUTIES)
    return []


@in_site_language
def notices_for(case: Case, event: CaseEvent, grid_team_id: int, platform_id: int) -> list[Notice]:
    notices: list[Notice] = []
    text = resident_text(case, event)
    if text is not None:
        if event.action == "add_support":
            residents = list(User.objects.filter(pk=event.actor_id))
        else:
            residents = []
            if case.reporter_id:
                residents.append(case.reporter)
            residents += [s.user for s in case.supporters.select_related("user")]
        for resident in residents:
            notices.append(Notice(resident.pk, "", "inbox", text))
            if resident.phone:
                notices.append(Notice(resident.pk, resident.phone, "sms", text))
        if case.reporter_id is None and case.reporter_phone:
            # A hotline caller without an account is told by SMS only.
            notices.append(Notice(None, case.reporter_phone, "sms", text))
    staff = set(staff_recipients(case, event, grid_team_id, platform_id))
    staff.discard(event.actor_id)
    staff_message = staff_text(case, event)
    notices += [Notice(user_id, "", "inbox", staff_message) for user_id in sorted(staff)]
    return notices
