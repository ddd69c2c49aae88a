"""What each case event tells whom, built inside the workflow's transaction from the
action's declaration (`cases.actions`); `notify` only queues and delivers the rows."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from linge.cases import owners
from linge.cases.actions import To, declaration, resident_is_told
from linge.cases.models import Case, CaseEvent, Light, Rating
from linge.cases.transitions import Action, label
from linge.notify.messages import Notice, in_site_language
from linge.notify.models import Channel, Outbox
from linge.people.models import User


def values(case: Case, event: CaseEvent, *, latest_reply: bool = True) -> dict[str, str]:
    """The values an action's texts are filled with. `reply` comes with its colon
    ("：已修复"), or empty; a verification repeats the department's reply, which the
    case keeps (`latest_reply`)."""
    data = event.data
    rating = data.get("rating", "")
    reply = data.get("reply", "") or (case.reply if latest_reply else "")
    return {
        "n": case.number,
        "reason": data.get("reason", ""),
        "note": data.get("note", ""),
        "reply": f"：{reply}" if reply else "",
        "comment": data.get("comment", ""),
        "target": data.get("into", ""),
        "grid": data.get("grid_name", ""),
        "unit": data.get("unit_name", ""),
        "rating": str(Rating(rating).label) if rating in Rating.values else rating,
        "who": "",
    }


def resident_text(case: Case, event: CaseEvent) -> str | None:
    """The sentence a reporter or supporter receives, or None when they are not told."""
    if not resident_is_told(event):
        return None
    return str(declaration(event.action).tell_resident) % values(case, event)


def staff_text(case: Case, event: CaseEvent) -> str:
    """'案件 20261130-000001「路灯不亮」已上报镇街：理由' — the move in words, then why."""
    text = _("案件 %(n)s「%(cat)s」：%(who)s%(action)s") % {
        "n": case.number, "cat": case.category.name, "action": label(event.action),
        "who": f"{event.actor_label} " if event.actor_label else "",
    }
    reason = event.data.get("reason") or event.data.get("note") or ""
    return f"{text}。{reason}"[:300] if reason else text


STAFF_GROUPS = {
    To.GRID_TEAM: owners.grid_team,
    To.GRID_ESCALATORS: owners.grid_escalators,
    To.ASSIGNEE: lambda case: [case.assignee_id] if case.assignee_id else [],
    To.PLATFORM: owners.dispatchers,
    To.UNIT: owners.unit_handlers,
    To.CURRENT: owners.handlers,
}


def staff_recipients(case: Case, event: CaseEvent) -> list[int]:
    group = declaration(event.action).staff_group(event)
    return STAFF_GROUPS[group](case) if group is not None else []


def _followers(case: Case, event: CaseEvent) -> list[User]:
    if event.action == Action.ADD_SUPPORT:
        return list(User.objects.filter(pk=event.actor_id))
    people = [case.reporter] if case.reporter_id else []
    if event.action == Action.SUBMIT:
        return people  # a case being made has no supporters yet: no query
    return people + [s.user for s in case.supporters.select_related("user")]


def _callers(case: Case, event: CaseEvent) -> list[str]:
    phones = [case.reporter_phone] if case.reporter_id is None and case.reporter_phone else []
    # Nothing is merged into a case being submitted, and 我也遇到 tells only its resident.
    if event.action not in (Action.ADD_SUPPORT, Action.SUBMIT):
        merged = (Case.objects.filter(merged_into=case, reporter__isnull=True)
                  .exclude(reporter_phone="").values_list("reporter_phone", flat=True))
        phones += sorted(set(merged) - set(phones))
    return phones


@in_site_language
def notices_for(case: Case, event: CaseEvent) -> list[Notice]:
    notices: list[Notice] = []
    text = resident_text(case, event)
    if text is not None:
        for resident in _followers(case, event):
            notices.append(Notice(resident.pk, "", Channel.INBOX, text))
            if resident.phone:
                notices.append(Notice(resident.pk, resident.phone, Channel.SMS, text))
        for phone in _callers(case, event):
            # A hotline caller without an account is told by SMS only; so are the
            # callers of cases merged into this one, who follow it now.
            notices.append(Notice(None, phone, Channel.SMS, text))
    staff = set(staff_recipients(case, event))
    staff.discard(event.actor_id)
    message = staff_text(case, event)
    notices += [Notice(user_id, "", Channel.INBOX, message, staff=True)
                for user_id in sorted(staff)]
    return notices


def links(case: Case) -> tuple[str, str]:
    """(resident link, staff link) of a case, carried by every message about it."""
    return (reverse("resident:case", args=[case.number]),
            reverse("workbench:case", args=[case.number]))


def outbox_row(case: Case, event: CaseEvent, notice: Notice,
               case_links: tuple[str, str] | None = None) -> Outbox:
    """The outbox row of a notice; `case_links`: `links(case)`, when the caller makes
    rows for several notices of one case."""
    who = notice.recipient_id if notice.recipient_id is not None else f"tel{notice.phone}"
    resident_link, staff_link = case_links or links(case)
    return Outbox(
        key=f"{event.seq}:{who}:{notice.channel}",
        subject=case.number, kind=event.action, link=staff_link if notice.staff else resident_link,
        recipient_id=notice.recipient_id, phone=notice.phone,
        channel=notice.channel, text=notice.text, created_at=event.at,
        next_attempt_at=event.at,
    )


@in_site_language
def reminder_text(case: Case, level: str, due, stage: str, supervisor: bool) -> str:
    what = {"accept": _("受理"), "dispatch": _("派遣"), "handle": _("处置")}.get(stage, _("办结"))
    if level == Light.YELLOW:
        text = _("案件 %(n)s「%(cat)s」%(what)s期限临近（%(due)s），请抓紧办理。")
    else:
        text = _("案件 %(n)s「%(cat)s」已超过%(what)s期限（%(due)s），请尽快办理。")
    message = text % {"n": case.number, "cat": case.category.name, "what": what,
                      "due": timezone.localtime(due).strftime("%m-%d %H:%M")}
    return (_("【督促】") + message) if supervisor else message

