"""One declaration per move on a case: its form, what residents read, whom staff tell.

The case page, the API, the workflow's dispatcher (`workflow.act`), notifications
(`cases.messages`) and the resident timeline (`resident.present`) all read this
registry. Adding a move means a row in `transitions.TABLE`, a declaration here and
the workflow function that makes it (`@workflow.performs`).

Texts are %-templates over these values: n (case number), who (the actor's duty and
masked name, timeline only), reason, note, reply, comment, target (merged into), grid
(name), unit (name), rating (label).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from linge.cases import forms as F
from linge.cases.models import CaseEvent, State
from linge.cases.transitions import Action


class To(StrEnum):
    """Which staff hear of a move (resolved to people in `cases.owners`)."""

    GRID_TEAM = "grid_team"  # the hands of the case's grid
    GRID_ESCALATORS = "grid_escalators"  # its 网格长 and 专职
    ASSIGNEE = "assignee"
    PLATFORM = "platform"  # the town's dispatchers
    UNIT = "unit"  # handlers and leaders of the unit it is dispatched to
    CURRENT = "current"  # whoever handles it in its state now


@dataclass(frozen=True)
class Declaration:
    action: Action
    # The form a page or API binds; None for moves no person makes on a page.
    form: type[F.ActionForm] | None = None
    # What the reporter and supporters are told (inbox and SMS); None: not told.
    tell_resident: str | None = None
    # The resident timeline's line for this move (public events only).
    timeline: str | None = None
    # Which staff are told, or a function of the event deciding it.
    tell_staff: To | Callable[[CaseEvent], To | None] | None = None
    # A turn for the worse: shown in a quieter colour, after the forward moves.
    secondary: bool = False

    @property
    def label(self) -> str:
        return str(self.action.label)

    def staff_group(self, event: CaseEvent) -> To | None:
        if callable(self.tell_staff):
            return self.tell_staff(event)
        return self.tell_staff


def _resolve_staff(event: CaseEvent) -> To | None:
    # A department's feedback goes to the town to be checked.
    return To.PLATFORM if event.to_state == State.VERIFYING else None


def _return_staff(event: CaseEvent) -> To | None:
    return To.PLATFORM if event.to_state == State.ESCALATED else To.GRID_ESCALATORS


def _resolve_tells(event: CaseEvent) -> bool:
    # The resident hears of the result once the town checked a department's work.
    return event.to_state == State.RESOLVED


A = Action
DONE = _("您反映的问题（%(n)s）已办结%(reply)s。请您评价。")

DECLARATIONS: dict[Action, Declaration] = {d.action: d for d in [
    Declaration(
        A.SUBMIT,
        tell_resident=_("您反映的问题已登记，编号 %(n)s。用本手机号登录岭格即可查看进展。"),
        timeline=_("问题已登记上报"), tell_staff=To.GRID_TEAM,
    ),
    Declaration(
        A.ACCEPT, F.NoteForm,
        tell_resident=_("您反映的问题（%(n)s）已受理，正在处理。"),
        timeline=_("%(who)s 已受理"),
    ),
    Declaration(
        A.REJECT, F.ReasonForm, secondary=True,
        tell_resident=_("您反映的问题（%(n)s）不予受理，原因：%(reason)s"),
        timeline=_("不予受理，原因：%(reason)s"),
    ),
    Declaration(
        A.MERGE, F.MergeForm, secondary=True,
        tell_resident=_("您反映的问题（%(n)s）与问题 %(target)s 相同，已合并办理，进展会一并告知您。"),
        timeline=_("与问题 %(target)s 相同，已合并办理"),
    ),
    Declaration(
        A.TRANSFER, F.TransferForm,
        tell_resident=_("您反映的问题（%(n)s）已转至%(grid)s办理。"),
        timeline=_("已转至%(grid)s办理"), tell_staff=To.GRID_TEAM,
    ),
    Declaration(
        A.ADD_SUPPORT, F.NoForm,
        tell_resident=_("您已附议问题（%(n)s），后续进展会同步告知您。"),
        timeline=_("又有一位群众反映了同一问题"),
    ),
    Declaration(A.SUPERVISE, F.NoteForm, tell_staff=To.CURRENT),
    Declaration(A.ASSIGN, F.AssignForm, tell_staff=To.ASSIGNEE),
    Declaration(
        A.RESOLVE, F.ResolveForm,
        tell_resident=DONE, timeline=_("%(who)s 已办结%(reply)s"), tell_staff=_resolve_staff,
    ),
    Declaration(
        A.ESCALATE, F.ReasonForm,
        tell_resident=_("您反映的问题（%(n)s）已上报镇街四平台。"),
        timeline=_("已上报镇街四平台"), tell_staff=To.PLATFORM,
    ),
    Declaration(
        A.SUSPEND, F.ReasonForm, secondary=True,
        tell_resident=_("您反映的问题（%(n)s）暂时挂起，原因：%(reason)s"),
        timeline=_("暂时挂起，原因：%(reason)s"),
    ),
    Declaration(
        A.RESUME, F.NoteForm,
        tell_resident=_("您反映的问题（%(n)s）已恢复办理。"), timeline=_("已恢复办理"),
    ),
    Declaration(
        A.DISPATCH, F.DispatchForm,
        tell_resident=_("您反映的问题（%(n)s）已派至%(unit)s办理。"),
        timeline=_("已派至%(unit)s办理"), tell_staff=To.UNIT,
    ),
    Declaration(A.RETURN, F.ReasonForm, secondary=True, tell_staff=_return_staff),
    Declaration(A.REQUEST_EXTENSION, F.ExtensionForm, tell_staff=To.PLATFORM),
    Declaration(A.GRANT_EXTENSION, F.NoteForm, tell_staff=To.UNIT),
    Declaration(A.REFUSE_EXTENSION, F.ReasonForm, secondary=True, tell_staff=To.UNIT),
    Declaration(
        A.VERIFY, F.NoteForm,
        tell_resident=DONE, timeline=_("镇街四平台核查通过，已办结"),
    ),
    Declaration(A.FAIL_VERIFICATION, F.ReasonForm, secondary=True, tell_staff=To.UNIT),
    Declaration(
        A.RATE, F.RateForm,
        tell_resident=_("感谢您的评价，问题（%(n)s）已办结。"), timeline=_("群众评价：%(rating)s"),
    ),
    Declaration(
        A.REOPEN, F.CommentForm,
        tell_resident=_("您对问题（%(n)s）的评价为不满意，已退回重新办理。"),
        timeline=_("群众评价不满意，已退回重新办理"), tell_staff=To.CURRENT,
    ),
    Declaration(
        A.AUTO_CLOSE,
        tell_resident=_("问题（%(n)s）逾期未评价，已自动结案。"), timeline=_("逾期未评价，已自动结案"),
    ),
    Declaration(A.FLAG_OVERDUE),
]}


def declaration(action: str) -> Declaration:
    return DECLARATIONS[Action(action)]


def resident_is_told(event: CaseEvent) -> bool:
    if not event.public:
        return False
    if event.action == Action.RESOLVE and not _resolve_tells(event):
        return False
    return declaration(event.action).tell_resident is not None


# Forward moves first (the likely next step), then the turns for the worse.
def in_page_order(actions: list[str]) -> list[str]:
    return sorted(actions, key=lambda a: (declaration(a).secondary, PAGE_ORDER.get(a, 99)))


PAGE_ORDER = {action: i for i, action in enumerate([
    A.ACCEPT, A.RESOLVE, A.VERIFY, A.DISPATCH, A.ESCALATE, A.ASSIGN, A.TRANSFER,
    A.REQUEST_EXTENSION, A.GRANT_EXTENSION, A.RESUME, A.RATE, A.REOPEN, A.SUPERVISE,
    A.ADD_SUPPORT, A.MERGE, A.REJECT, A.RETURN, A.SUSPEND, A.REFUSE_EXTENSION,
    A.FAIL_VERIFICATION,
])}
