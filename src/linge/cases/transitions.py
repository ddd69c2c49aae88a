"""The one declarative table of case moves: (state, action) → target state and who may.

`cases.workflow` enforces it; the tests generate every (state × action × persona)
combination from it. A target of PRIOR means "the state the case was suspended
from", REWORK "the state of its last handler" (an unsatisfied rating sends it back).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from linge.cases.models import State
from linge.cases.policy import Capacity as C

if TYPE_CHECKING:
    from linge.cases.models import Case


class Action(models.TextChoices):
    """Every move on a case. What each needs and tells is declared in `cases.actions`."""

    SUBMIT = "submit", _("上报")
    ACCEPT = "accept", _("受理")
    # The same words name a state; the context keeps the two translations apart.
    REJECT = "reject", pgettext_lazy("action", "不予受理")
    MERGE = "merge", _("合并")
    TRANSFER = "transfer", _("转办")
    ADD_SUPPORT = "add_support", _("我也遇到")
    SUPERVISE = "supervise", _("督办")
    ASSIGN = "assign", _("指派")
    RESOLVE = "resolve", _("办结")
    ESCALATE = "escalate", _("上报镇街")
    SUSPEND = "suspend", pgettext_lazy("action", "挂起")
    RESUME = "resume", _("恢复")
    DISPATCH = "dispatch", _("派遣")
    RETURN = "return", _("回退")
    REQUEST_EXTENSION = "request_extension", _("申请延时")
    GRANT_EXTENSION = "grant_extension", _("同意延时")
    REFUSE_EXTENSION = "refuse_extension", _("不同意延时")
    VERIFY = "verify", _("核查通过")
    FAIL_VERIFICATION = "fail_verification", _("核查不通过")
    RATE = "rate", _("评价")
    REOPEN = "reopen", _("返工")
    AUTO_CLOSE = "auto_close", _("逾期未评价自动结案")
    FLAG_OVERDUE = "flag_overdue", _("标记超期")


PRIOR = "<prior>"
REWORK = "<rework>"
NEW = ""  # the "state" before submit


@dataclass(frozen=True)
class Rule:
    to: str  # a State, PRIOR, REWORK, or "" meaning: stays where it is
    who: frozenset[C]
    # Extra condition on the case for some capacities; returns a reason when refused.
    guard: Callable[[Case, set[C]], str | None] | None = None
    public: bool = True  # shown on the resident's timeline


def _who(*caps: C) -> frozenset[C]:
    return frozenset(caps)


def _resume_guard(case: Case, caps: set[C]) -> str | None:
    # The grid side resumes what it suspended; the town may resume anything it owns.
    if C.DISPATCHER in caps:
        return None
    if case.resume_state == State.ACCEPTED:
        return None
    return str(_("该案件由镇街挂起，只能由镇街恢复"))


def _system_escalate_guard(case: Case, caps: set[C]) -> str | None:
    if caps & {C.GRID_ESCALATOR, C.VILLAGE_STAFF}:
        return None
    if not case.overdue:
        return str(_("案件未超期，不能自动上报"))
    if not case.category.auto_escalate:
        return str(_("该分类不自动上报"))
    return None


def _not_yet_flagged(case: Case, caps: set[C]) -> str | None:
    return str(_("案件已标记超期")) if case.overdue else None


def _extension_asked(case: Case, caps: set[C]) -> str | None:
    return None if case.extension_requested else str(_("没有待审批的延时申请"))


def _extension_not_asked(case: Case, caps: set[C]) -> str | None:
    return str(_("已有待审批的延时申请")) if case.extension_requested else None


def _not_supervised(case: Case, caps: set[C]) -> str | None:
    return str(_("该案件已在督办中")) if case.supervised else None


SUPPORT = _who(C.RESIDENT)
SUPERVISE = _who(C.COMMAND)
STAY = ""

TABLE: dict[tuple[str, Action], Rule] = {
    (NEW, Action.SUBMIT): Rule(State.SUBMITTED, _who(C.ANYONE)),
    # 待受理: the grid found from the QR code or the location owns it.
    (State.SUBMITTED, Action.ACCEPT): Rule(State.ACCEPTED, _who(C.GRID_MEMBER, C.VILLAGE_STAFF)),
    (State.SUBMITTED, Action.REJECT): Rule(State.REJECTED, _who(C.GRID_ESCALATOR, C.VILLAGE_STAFF)),
    (State.SUBMITTED, Action.MERGE): Rule(State.MERGED, _who(C.GRID_MEMBER, C.VILLAGE_STAFF)),
    (State.SUBMITTED, Action.TRANSFER): Rule(
        State.SUBMITTED, _who(C.GRID_MEMBER, C.VILLAGE_STAFF, C.DISPATCHER)
    ),
    (State.SUBMITTED, Action.ADD_SUPPORT): Rule(STAY, SUPPORT),
    (State.SUBMITTED, Action.SUPERVISE): Rule(STAY, SUPERVISE, guard=_not_supervised, public=False),
    # 处理中: the grid handles it, or escalates what it cannot.
    (State.ACCEPTED, Action.ASSIGN): Rule(STAY, _who(C.GRID_ESCALATOR, C.VILLAGE_STAFF), public=False),
    (State.ACCEPTED, Action.RESOLVE): Rule(State.RESOLVED, _who(C.GRID_MEMBER, C.VILLAGE_STAFF)),
    (State.ACCEPTED, Action.ESCALATE): Rule(
        State.ESCALATED, _who(C.GRID_ESCALATOR, C.VILLAGE_STAFF, C.SYSTEM),
        guard=_system_escalate_guard,
    ),
    (State.ACCEPTED, Action.SUSPEND): Rule(State.SUSPENDED, _who(C.GRID_ESCALATOR, C.VILLAGE_STAFF)),
    (State.ACCEPTED, Action.ADD_SUPPORT): Rule(STAY, SUPPORT),
    (State.ACCEPTED, Action.SUPERVISE): Rule(STAY, SUPERVISE, guard=_not_supervised, public=False),
    # 待派遣: the town platform dispatches, solves it itself, or sends it back.
    (State.ESCALATED, Action.DISPATCH): Rule(State.DISPATCHED, _who(C.DISPATCHER)),
    (State.ESCALATED, Action.RESOLVE): Rule(State.RESOLVED, _who(C.DISPATCHER)),
    (State.ESCALATED, Action.RETURN): Rule(State.ACCEPTED, _who(C.DISPATCHER)),
    (State.ESCALATED, Action.SUSPEND): Rule(State.SUSPENDED, _who(C.DISPATCHER)),
    (State.ESCALATED, Action.ADD_SUPPORT): Rule(STAY, SUPPORT),
    (State.ESCALATED, Action.SUPERVISE): Rule(STAY, SUPERVISE, guard=_not_supervised, public=False),
    # 已派遣: the office or department handles and feeds back, or returns it.
    (State.DISPATCHED, Action.RESOLVE): Rule(State.VERIFYING, _who(C.HANDLER), public=False),
    (State.DISPATCHED, Action.RETURN): Rule(State.ESCALATED, _who(C.HANDLER), public=False),
    (State.DISPATCHED, Action.REQUEST_EXTENSION): Rule(
        STAY, _who(C.HANDLER), guard=_extension_not_asked, public=False
    ),
    (State.DISPATCHED, Action.GRANT_EXTENSION): Rule(
        STAY, _who(C.DISPATCHER), guard=_extension_asked, public=False
    ),
    (State.DISPATCHED, Action.REFUSE_EXTENSION): Rule(
        STAY, _who(C.DISPATCHER), guard=_extension_asked, public=False
    ),
    (State.DISPATCHED, Action.SUSPEND): Rule(State.SUSPENDED, _who(C.DISPATCHER)),
    (State.DISPATCHED, Action.ADD_SUPPORT): Rule(STAY, SUPPORT),
    (State.DISPATCHED, Action.SUPERVISE): Rule(STAY, SUPERVISE, guard=_not_supervised, public=False),
    # 待核查: the town checks the department's feedback before the resident sees it.
    (State.VERIFYING, Action.VERIFY): Rule(State.RESOLVED, _who(C.DISPATCHER)),
    (State.VERIFYING, Action.FAIL_VERIFICATION): Rule(
        State.DISPATCHED, _who(C.DISPATCHER), public=False
    ),
    (State.VERIFYING, Action.ADD_SUPPORT): Rule(STAY, SUPPORT),
    (State.VERIFYING, Action.SUPERVISE): Rule(STAY, SUPERVISE, guard=_not_supervised, public=False),
    # 挂起: waiting for budget or season; the clock stops and the reason is public.
    (State.SUSPENDED, Action.RESUME): Rule(
        PRIOR, _who(C.GRID_ESCALATOR, C.VILLAGE_STAFF, C.DISPATCHER), guard=_resume_guard
    ),
    (State.SUSPENDED, Action.ADD_SUPPORT): Rule(STAY, SUPPORT),
    (State.SUSPENDED, Action.SUPERVISE): Rule(STAY, SUPERVISE, guard=_not_supervised, public=False),
    # 待评价: the reporter rates; unsatisfied sends it back to the last handler.
    (State.RESOLVED, Action.RATE): Rule(State.CLOSED, _who(C.REPORTER)),
    (State.RESOLVED, Action.REOPEN): Rule(REWORK, _who(C.REPORTER)),
    (State.RESOLVED, Action.AUTO_CLOSE): Rule(State.CLOSED, _who(C.SYSTEM)),
    # The worker's deadline sweep marks an open case overdue (a case write, so an event).
    **{
        (state, Action.FLAG_OVERDUE): Rule(STAY, _who(C.SYSTEM), guard=_not_yet_flagged, public=False)
        for state in (State.SUBMITTED, State.ACCEPTED, State.ESCALATED, State.DISPATCHED,
                      State.VERIFYING)
    },
}

ACTIONS: list[Action] = sorted({action for _state, action in TABLE})


def label(action: str) -> str:
    """The action's name in the active language; an unknown code is shown as it is."""
    return str(Action(action).label) if action in Action.values else action


def rule_for(state: str, action: str) -> Rule | None:
    return TABLE.get((state, action))


def refusal(case: Case, action: str, caps: set[C]) -> str | None:
    """Why `action` is refused on `case` for an actor with `caps`; None when allowed."""
    rule = rule_for(case.state, action)
    if rule is None:
        return str(_("当前状态不允许此操作"))
    if not caps & rule.who:
        return str(_("无权执行此操作"))
    if rule.guard is not None:
        return rule.guard(case, caps)
    return None


def target_state(case: Case, rule: Rule) -> str:
    if rule.to == PRIOR:
        return case.resume_state
    if rule.to == REWORK:
        return case.rework_state
    return rule.to or case.state
