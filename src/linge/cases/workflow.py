"""The only code that changes a case.

Each public function takes the case, the actor and what the move needs. It checks
the actor's standing (cases.policy) and the move (cases.transitions.TABLE), updates
the case, appends a hash-chained event and queues notifications, all in one
transaction. A refused move raises WorkflowError and changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from linge.areas import grids
from linge.areas.models import Area, Level
from linge.cases import chain, deadlines, owners
from linge.cases.actions import declaration
from linge.cases.limits import MAX_ADDRESS, MAX_DESCRIPTION, MAX_PHOTOS, MAX_REASON
from linge.cases.models import (
    FINAL_STATES,
    STAFF_SOURCES,
    Attachment,
    AttachmentKind,
    Case,
    CaseEvent,
    Category,
    Rating,
    Source,
    State,
)
from linge.cases.photos import Photo, PhotoRejected, discard, store_all
from linge.cases.policy import Capacity, assignable_to, capacities
from linge.cases.store import Store
from linge.cases.transitions import NEW, TABLE, Action, label, refusal, rule_for, target_state
from linge.people.models import Lane, Unit, UnitKind, User
from linge.people.roles import Actor, as_actor, roles_of
from linge.plaintext import strip_controls
from linge.prepared import Prepared

__all__ = ["MAX_DESCRIPTION", "MAX_REASON", "MAX_PHOTOS"]  # re-exported for forms


MAX_HANDED_DOWN = timedelta(days=366)  # a 上级交办 deadline further off is a typing slip


class WorkflowError(Exception):
    """A refused move. Names the state, the action and the reason, in Chinese.

    `about_input`: the move is allowed but what was filled in is not (a missing note,
    a photo the category requires); the message is then the reason alone, since
    "the case is in state X" would point the user at the wrong thing.
    """

    def __init__(self, state: str, action: str, reason: str, *, about_input: bool = False) -> None:
        self.state = state
        self.action = action
        self.reason = reason
        self.about_input = about_input
        state_label = State(state).label if state else _("新建")
        action_label = label(action)
        super().__init__(
            reason if about_input else
            _("案件处于「%(state)s」，不能「%(action)s」：%(reason)s")
            % {"state": state_label, "action": action_label, "reason": reason}
        )


def _now(now: datetime | None) -> datetime:
    return now if now is not None else timezone.now()


def _text(value: str, limit: int, what: str, state: str, action: str, required: bool) -> str:
    value = strip_controls(value or "").strip()
    if required and not value:
        raise WorkflowError(state, action, _("请填写%(what)s") % {"what": what}, about_input=True)
    if len(value) > limit:
        raise WorkflowError(
            state, action, _("%(what)s不能超过 %(n)s 字") % {"what": what, "n": limit},
            about_input=True,
        )
    return value


# Which function makes each move: filled by @performs below, read by `act`.
PERFORMERS: dict[Action, Callable[..., Case]] = {}


def performs(action: Action) -> Callable[[Callable[..., Case]], Callable[..., Case]]:
    def register(function: Callable[..., Case]) -> Callable[..., Case]:
        PERFORMERS[action] = function
        return function

    return register


# The engine every move goes through.

def _move(
    case: Case,
    who: Actor | User | None,
    action: str,
    *,
    now: datetime | None,
    store: Store | None,
    data: dict | None = None,
    check: Callable[[Case, Actor], None] | None = None,
    apply: Callable[[Case, datetime], None] | None = None,
    attached: Sequence[Photo] = (),
    attached_kind: str = "",
) -> Case:
    actor = as_actor(who)
    store = store or Store()
    now = _now(now)
    with store.atomic():
        store.lock(case)
        try:
            caps = capacities(actor, case)
            reason = refusal(case, action, caps)
            if reason is not None:
                raise WorkflowError(case.state, action, reason)
            if check is not None:
                check(case, actor)
            rule = TABLE[(case.state, action)]
            from_state = case.state
            to_state = target_state(case, rule)
            before = chain.raw(case)
            if apply is not None:
                apply(case, now)
            case.state = to_state
            case.updated_at = now
            store.save(case)
            fields = chain.changes(before, case)
            if attached:
                fields[chain.PHOTOS] = [[attached_kind, p.sha256] for p in attached]
            _record(store, case, actor, action, from_state, to_state, data or {}, rule.public,
                    now, fields)
        except BaseException:
            store.undo(case)
            raise
    return case


def _record(
    store: Store, case: Case, actor: Actor, action: str, from_state: str, to_state: str,
    data: dict, public: bool, now: datetime, fields: dict,
) -> CaseEvent:
    event = _event(case, actor, action, from_state, to_state, data, public, now, fields)
    store.append_event(event, case)  # and queues its messages, in the same transaction
    return event


def _event(
    case: Case, actor: Actor, action: str, from_state: str, to_state: str, data: dict,
    public: bool, now: datetime, fields: dict,
) -> CaseEvent:
    """A move's event, not yet sealed onto the chain."""
    clean = {key: value for key, value in data.items() if value not in ("", None)}
    if actor.user is not None and not actor.user.is_resident:
        # Sealed into the chain and shown to residents: the site's language, not the
        # language of the page the staff member happens to use.
        with translation.override(settings.LANGUAGE_CODE):
            duties = roles_of(actor.user).duty_labels
        if duties:
            clean["duty"] = duties[0]
    return CaseEvent(
        case=case, action=action, actor=actor.user, actor_label=actor.label,
        from_state=from_state, to_state=to_state, data=clean, public=public, at=now,
        fields=fields,
    )


# Deadlines.

def _deadline(amount, unit: str, start: datetime) -> tuple[datetime | None, int]:
    """(due, budget seconds) for a category's time limit; (None, 0) when it has none."""
    if not amount or not unit:
        return None, 0
    seconds, clock = deadlines.budget(amount, unit)
    return deadlines.calendar().add(start, seconds, clock), seconds


def _set_accept_deadline(case: Case, start: datetime) -> None:
    category = case.category
    case.accept_due, case.accept_budget = _capped(case, *_deadline(
        category.accept_within, category.accept_unit, start
    ), category.accept_unit, start)


def _set_resolve_deadline(case: Case, start: datetime) -> None:
    category = case.category
    case.resolve_due, case.resolve_budget = _capped(case, *_deadline(
        category.resolve_within, category.resolve_unit, start
    ), category.resolve_unit, start)


def _set_stage(case: Case, start: datetime, amount, unit: str) -> None:
    """Start the deadline of the stage the case enters (派遣时限 or 处置时限)."""
    case.stage_due, case.stage_budget = _capped(case, *_deadline(amount, unit, start), unit,
                                                start)
    case.stage_left = None


def _stage_unit(case: Case) -> str:
    return (case.category.accept_unit if case.state == State.ESCALATED
            else case.category.resolve_unit)


def _capped(
    case: Case, due: datetime | None, budget: int, unit: str, start: datetime
) -> tuple[datetime | None, int]:
    """A case handed down with a date (上级交办) is due by that date at the latest."""
    limit = case.required_by
    if limit is None or (due is not None and due <= limit):
        return due, budget
    clock = _clock(unit) if unit else deadlines.WALL
    return limit, max(deadlines.calendar().between(start, limit, clock), 0)


def _clock(unit: str) -> str:
    return deadlines.budget(0, unit)[1]


def _mark_late(case: Case, due: datetime | None, now: datetime) -> None:
    if due is not None and now > due:
        case.overdue = True


# Submit.

def _whole(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None


def _grid_area(grid: Area | int, state: str) -> Area:
    pk = None if isinstance(grid, Area) else _whole(grid)
    area = grid if isinstance(grid, Area) else (grids.area_by_id(pk) if pk is not None else None)
    if area is None or area.level != Level.GRID:
        raise WorkflowError(state, Action.SUBMIT, _("所选区域不是网格"))
    return area


_CATEGORY_BY_ID = Prepared(lambda pk: Category.objects.filter(pk=pk)[:1], -7_000_002)


def _category(category: Category | int, action: str) -> Category:
    pk = None if isinstance(category, Category) else _whole(category)
    found = category if isinstance(category, Category) else (
        _CATEGORY_BY_ID.first(pk) if pk is not None else None)
    if found is None or found.parent_id is None or not found.active:
        raise WorkflowError(NEW, action, _("请选择具体的问题小类"), about_input=True)
    return found


def _tracking_key() -> bytes:
    return hashlib.sha256(f"{settings.SECRET_KEY}:linge.tracking".encode()).digest()


def hash_tracking_code(code: str) -> str:
    """The keyed digest (HMAC-SHA256, key derived from LINGE_SECRET_KEY) a tracking code is
    stored as: a copy of the database alone does not let anyone test guesses offline."""
    return hmac.new(_tracking_key(), code.strip().upper().encode(), hashlib.sha256).hexdigest()


def legacy_tracking_hash(code: str) -> str:
    """How codes were stored before: a bare SHA-256, which a database copy can test."""
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


def find_by_tracking_code(code: str) -> Case | None:
    """The case this tracking code opens. A case made before codes were keyed is found by
    its old digest, and its row then takes the keyed one (no event: the code and the
    case are unchanged, only how the code is kept)."""
    keyed = hash_tracking_code(code)
    case = Case.objects.filter(tracking_code_hash=keyed).first()
    if case is None:
        case = Case.objects.filter(tracking_code_hash=legacy_tracking_hash(code)).first()
        if case is not None:
            Case.objects.filter(pk=case.pk).update(tracking_code_hash=keyed)
            case.tracking_code_hash = keyed
    return case


@dataclass
class Submitted:
    case: Case
    created: bool  # False when the submit key had already made this case
    tracking_code: str = ""  # shown once, for anonymous reports


@performs(Action.SUBMIT)
def submit(
    who: Actor | User | None,
    *,
    category: Category | int,
    description: str,
    grid: Area | int,
    source: str = Source.RESIDENT_PAGE,
    lon: float | None = None,
    lat: float | None = None,
    address: str = "",
    reporter_phone: str = "",
    anonymous: bool = False,
    submit_key: str | None = None,
    photos: Sequence[Photo] = (),
    now: datetime | None = None,
    store: Store | None = None,
    required_by: datetime | None = None,
    also: Callable[[Submitted], object] | None = None,
) -> Submitted:
    """Register a new case, or return the one this submit key already made.

    `required_by`: the date a higher level hands the case down with (source 上级交办);
    the accept and resolve deadlines never fall after it. `also(submitted)` writes what
    a channel keeps beside a new case (an Open311 token, the session that lets an
    anonymous reporter follow the case and see its tracking code once) in the case's
    own transaction: both or neither, without an outer transaction that would hold the
    writers' lock while the case is composed."""
    actor = as_actor(who)
    if anonymous and actor.user is not None and actor.user.is_resident:
        actor = Actor()  # an anonymous report names nobody, not even in its events
    store = store or Store()
    now = _now(now)
    # No look-up of the submit key first: the unique index on it is what guarantees one
    # case per key, and a retry that loses to it is answered below. Callers that may
    # see retries often (intake) look the key up before storing photos.
    leaf = _category(category, Action.SUBMIT)
    description = _text(description, MAX_DESCRIPTION, _("问题描述"), NEW, Action.SUBMIT, True)
    if len(photos) > MAX_PHOTOS:
        raise WorkflowError(NEW, Action.SUBMIT, _("最多上传 9 张照片"), about_input=True)
    if source not in Source.values:
        raise WorkflowError(NEW, Action.SUBMIT, _("未知的来源"))
    if source in STAFF_SOURCES and not _is_staff(actor):
        raise WorkflowError(NEW, Action.SUBMIT, _("只有工作人员可以登记巡查或走访发现的问题"))
    if (lon is None) != (lat is None) or (
        lon is not None and not (-180 <= lon <= 180 and -90 <= lat <= 90)
    ):
        raise WorkflowError(NEW, Action.SUBMIT, _("位置坐标无效"), about_input=True)
    if required_by is not None and (
        source != Source.HIGHER or not now < required_by <= now + MAX_HANDED_DOWN
    ):
        raise WorkflowError(NEW, Action.SUBMIT, _("只有上级交办可以指定办结期限，且期限须在今后一年之内"), about_input=True)
    area = _grid_area(grid, NEW)
    reporter = None if anonymous or actor.user is None or not actor.user.is_resident else actor.user
    code = store.new_tracking_code() if reporter is None and source != Source.HOTLINE else ""
    try:
        return _create(
            store, actor, leaf, area, description, source, lon, lat, address,
            reporter, reporter_phone, code, submit_key, photos, now, required_by=required_by,
            also=also,
        )
    except IntegrityError:
        # A concurrent retry with the same key won the race: that case is the answer.
        existing = store.find_submitted(submit_key) if submit_key else None
        if existing is None:
            raise
        return Submitted(existing, created=False)


def _create(
    store: Store, actor: Actor, leaf: Category, area: Area, description: str,
    source: str, lon: float | None, lat: float | None, address: str, reporter: User | None,
    reporter_phone: str, code: str, submit_key: str | None, photos: Sequence[Photo],
    now: datetime, required_by: datetime | None = None,
    also: Callable[[Submitted], object] | None = None,
) -> Submitted:
    address = _text(address, MAX_ADDRESS, _("地址"), NEW, Action.SUBMIT, False)
    village_id, town_id, team_id = store.grid_setting(area.pk)
    # The case, its deadline, its event and whom it tells are composed before the
    # transaction, which then only writes (see Store.next_number).
    case = Case(
        number=store.next_number(timezone.localtime(now).date()),
        source=source, category=leaf, description=description,
        reporter=reporter,
        reporter_phone=reporter_phone or (reporter.phone if reporter else ""),
        tracking_code_hash=hash_tracking_code(code) if code else "",
        submit_key=submit_key or None, lon=lon, lat=lat,
        address=address, grid=area, village_id=village_id, town_id=town_id,
        owner_unit_id=team_id,
        state=State.SUBMITTED, created_at=now, updated_at=now, required_by=required_by,
    )
    _set_accept_deadline(case, now)
    fields = chain.snapshot(case)
    if photos:
        fields[chain.PHOTOS] = [[AttachmentKind.BEFORE.value, p.sha256] for p in photos]
    event = _event(
        case, actor, Action.SUBMIT, NEW, State.SUBMITTED,
        {"source": source, "category": leaf.code, "photos": len(photos),
         **({"required_by": required_by.isoformat()} if required_by else {})}, True, now,
        fields,
    )
    notices = store.notices(case, event)
    done = Submitted(case, created=True, tracking_code=code)
    with store.atomic():
        store.create(case)
        _attach(store, case, photos, AttachmentKind.BEFORE, actor, now)
        event.case = case  # now with its id
        store.append_event(event, case, notices)
        if also is not None:
            also(done)
    return done


def _is_staff(actor: Actor) -> bool:
    return actor.user is not None and roles_of(actor.user).is_staff_member


def _attach(
    store: Store, case: Case, photos: Sequence[Photo], kind: str, actor: Actor, now: datetime
) -> None:
    if photos:
        store.add_attachments([
            Attachment(
                case=case, kind=kind, file=p.path, thumbnail=p.thumbnail, sha256=p.sha256,
                width=p.width, height=p.height, uploaded_by=actor.user, at=now,
            )
            for p in photos
        ])


# 待受理.

def _note(case: Case, note: str, action: str) -> str:
    return _text(note, MAX_REASON, _("说明"), case.state, action, False)


@performs(Action.ACCEPT)
def accept(case: Case, who, *, note: str = "", now=None, store=None) -> Case:
    note = _note(case, note, Action.ACCEPT)
    def apply(c: Case, at: datetime) -> None:
        _mark_late(c, c.accept_due, at)
        c.accepted_at = at
        _set_resolve_deadline(c, at)

    return _move(case, who, Action.ACCEPT, now=now, store=store, data={"note": note}, apply=apply)


@performs(Action.REJECT)
def reject(case: Case, who, *, reason: str, now=None, store=None) -> Case:
    reason = _text(reason, MAX_REASON, _("不予受理的理由"), case.state, Action.REJECT, True)

    def apply(c: Case, at: datetime) -> None:
        c.closed_at = at

    return _move(case, who, Action.REJECT, now=now, store=store, data={"reason": reason}, apply=apply)


@performs(Action.MERGE)
def merge(case: Case, who, *, into: Case, note: str = "", now=None, store=None) -> Case:
    """Merge a duplicate into the case it repeats.

    Its reporter and its supporters become supporters there, so they hear of the
    progress as the merge message promises.
    """
    note = _note(case, note, Action.MERGE)

    def check(c: Case, actor: Actor) -> None:
        if into.pk == c.pk:
            raise WorkflowError(c.state, Action.MERGE, _("不能与自身合并"))
        if into.state in FINAL_STATES:
            raise WorkflowError(c.state, Action.MERGE, _("目标案件已结束，不能合并"))
        if rule_for(into.state, Action.ADD_SUPPORT) is None:
            raise WorkflowError(c.state, Action.MERGE, _("目标案件已办结待评价，不能合并"))

    def apply(c: Case, at: datetime) -> None:
        c.merged_into = into
        c.closed_at = at

    store = store or Store()
    now = _now(now)
    with store.atomic():
        merged = _move(
            case, who, Action.MERGE, now=now, store=store, check=check, apply=apply,
            data={"into": into.number, "note": note},
        )
        for person in _people_of(merged, store):
            # Those already following the target (its reporter or caller, a supporter)
            # are told of it anyway.
            if Capacity.REPORTER not in capacities(Actor(user=person), into) and (
                    not store.is_supporter(into, person.pk)):
                _support(into, person, now=now, store=store, merged=True)
    return merged


def _people_of(case: Case, store: Store) -> list[User]:
    """The residents following a case: its reporter, then its supporters."""
    people = [case.reporter] if case.reporter_id else []
    others = [pk for pk in store.supporter_ids(case) if pk != case.reporter_id]
    if others:
        people += list(User.objects.filter(pk__in=others).order_by("pk"))
    return people


@performs(Action.TRANSFER)
def transfer(case: Case, who, *, grid: Area, reason: str, now=None, store=None) -> Case:
    store = store or Store()
    reason = _text(reason, MAX_REASON, _("转办理由"), case.state, Action.TRANSFER, True)

    def check(c: Case, actor: Actor) -> None:
        if grid.level != Level.GRID:
            raise WorkflowError(c.state, Action.TRANSFER, _("只能转办给网格"))
        if grid.pk == c.grid_id:
            raise WorkflowError(c.state, Action.TRANSFER, _("已在该网格"))

    def apply(c: Case, at: datetime) -> None:
        c.grid = grid
        c.village_id = store.parent_id(grid.pk)
        c.town_id = store.parent_id(c.village_id)
        c.owner_unit_id = store.unit_id(grid.pk, UnitKind.GRID_TEAM)
        c.assignee = None
        _set_accept_deadline(c, at)

    return _move(
        case, who, Action.TRANSFER, now=now, store=store, check=check, apply=apply,
        data={"reason": reason, "grid": grid.code, "grid_name": grid.name},
    )


@performs(Action.ADD_SUPPORT)
def add_support(case: Case, who, *, now=None, store=None) -> Case:
    """我也遇到: a resident joins the case and is told at every step like the reporter."""
    actor = as_actor(who)
    return _support(case, actor.user, now=_now(now), store=store or Store(), merged=False)


def _support(case: Case, user: User | None, *, now, store: Store, merged: bool) -> Case:
    def check(c: Case, actor: Actor) -> None:
        if actor.user is None or store.is_supporter(c, actor.user.pk):
            raise WorkflowError(c.state, Action.ADD_SUPPORT, _("您已附议过该问题"))

    def apply(c: Case, at: datetime) -> None:
        store.add_supporter(c, user.pk, at)
        c.support_count += 1

    return _move(
        case, Actor(user=user), Action.ADD_SUPPORT, now=now, store=store, check=check, apply=apply,
        data={"merged": 1 if merged else 0},
    )


@performs(Action.SUPERVISE)
def supervise(case: Case, who, *, note: str = "", now=None, store=None) -> Case:
    note = _note(case, note, Action.SUPERVISE)
    def apply(c: Case, at: datetime) -> None:
        c.supervised = True

    return _move(case, who, Action.SUPERVISE, now=now, store=store, apply=apply, data={"note": note})


# 处理中.

@performs(Action.ASSIGN)
def assign(case: Case, who, *, assignee: User, now=None, store=None) -> Case:
    def check(c: Case, actor: Actor) -> None:
        if not assignable_to(assignee, c.grid_id):
            raise WorkflowError(c.state, Action.ASSIGN, _("只能指派给本网格的网格员"))

    def apply(c: Case, at: datetime) -> None:
        c.assignee = assignee

    return _move(
        case, who, Action.ASSIGN, now=now, store=store, check=check, apply=apply,
        data={"assignee": assignee.pk, "assignee_name": str(assignee)},
    )


@performs(Action.ESCALATE)
def escalate(case: Case, who, *, reason: str, now=None, store=None) -> Case:
    store = store or Store()
    reason = _text(reason, MAX_REASON, _("上报理由"), case.state, Action.ESCALATE, True)

    def apply(c: Case, at: datetime) -> None:
        c.escalated = True
        c.owner_unit_id = store.unit_id(c.town_id, UnitKind.TOWN_PLATFORM)
        # 派遣时限: the town's time to dispatch, the category's time to take a case up.
        _set_stage(c, at, c.category.accept_within, c.category.accept_unit)

    return _move(case, who, Action.ESCALATE, now=now, store=store, apply=apply, data={"reason": reason})


@performs(Action.SUSPEND)
def suspend(case: Case, who, *, reason: str, now=None, store=None) -> Case:
    reason = _text(reason, MAX_REASON, _("挂起理由"), case.state, Action.SUSPEND, True)

    def apply(c: Case, at: datetime) -> None:
        c.resume_state = c.state
        calendar = deadlines.calendar()
        if c.accept_due is not None and c.accepted_at is None:
            c.accept_left = calendar.between(at, c.accept_due, _clock(c.category.accept_unit))
        if c.resolve_due is not None:
            c.resolve_left = calendar.between(at, c.resolve_due, _clock(c.category.resolve_unit))
        if c.stage_due is not None and c.state in deadlines.STAGES:
            c.stage_left = calendar.between(at, c.stage_due, _clock(_stage_unit(c)))

    return _move(case, who, Action.SUSPEND, now=now, store=store, apply=apply, data={"reason": reason})


@performs(Action.RESUME)
def resume(case: Case, who, *, note: str = "", now=None, store=None) -> Case:
    note = _note(case, note, Action.RESUME)
    def apply(c: Case, at: datetime) -> None:
        # The clock stood still while suspended: the time left runs again from now.
        calendar = deadlines.calendar()
        if c.accept_left is not None:
            c.accept_due = calendar.add(at, max(c.accept_left, 0), _clock(c.category.accept_unit))
        if c.resolve_left is not None:
            clock = _clock(c.category.resolve_unit)
            c.resolve_due = calendar.add(at, max(c.resolve_left, 0), clock)
        if c.stage_left is not None:
            unit = (c.category.accept_unit if c.resume_state == State.ESCALATED
                    else c.category.resolve_unit)
            c.stage_due = calendar.add(at, max(c.stage_left, 0), _clock(unit))
        c.accept_left = c.resolve_left = c.stage_left = None
        c.resume_state = ""

    return _move(case, who, Action.RESUME, now=now, store=store, apply=apply, data={"note": note})


@performs(Action.RESOLVE)
def resolve(
    case: Case, who, *, note: str, reply: str = "", after_photos: Sequence[Photo] = (),
    now=None, store=None,
) -> Case:
    """Finish the handling. A department's feedback goes to the town's check first.

    `note` (处置情况) stays with the staff; `reply` is what the resident reads, with the
    after-photos, before rating."""
    store = store or Store()
    note = _text(note, MAX_REASON, _("处置情况"), case.state, Action.RESOLVE, True)
    reply = _text(reply, MAX_REASON, _("答复群众"), case.state, Action.RESOLVE, False)
    actor = as_actor(who)

    def check(c: Case, _actor: Actor) -> None:
        if c.category.photo_after_required and not after_photos and not store.count_attachments(
            c, AttachmentKind.AFTER
        ):
            raise WorkflowError(c.state, Action.RESOLVE, _("该类问题办结时须上传处置后照片"), about_input=True)

    def apply(c: Case, at: datetime) -> None:
        _attach(store, c, after_photos, AttachmentKind.AFTER, actor, at)
        _mark_late(c, c.resolve_due, at)
        c.rework_state = c.state
        c.extension_requested = False
        c.reply = reply
        if c.state != State.DISPATCHED:
            c.resolved_at = at

    return _move(
        case, actor, "resolve", now=now, store=store, check=check, apply=apply,
        data={"note": note, "reply": reply, "photos": len(after_photos)},
        attached=after_photos, attached_kind=AttachmentKind.AFTER.value,
    )


# 待派遣 and 已派遣.

@performs(Action.DISPATCH)
def dispatch(
    case: Case, who, *, unit: Unit, lane: Lane | None = None, note: str = "", now=None, store=None
) -> Case:
    note = _note(case, note, Action.DISPATCH)
    def check(c: Case, actor: Actor) -> None:
        town_office = unit.kind == UnitKind.OFFICE and unit.area_id == c.town_id
        if not (town_office or unit.kind == UnitKind.DEPARTMENT):
            raise WorkflowError(c.state, Action.DISPATCH, _("只能派遣给本镇街科室或市级部门"))

    chosen_lane = lane or unit.lane or case.category.lane

    def apply(c: Case, at: datetime) -> None:
        c.dispatched_unit = unit
        c.owner_unit = unit
        c.lane = chosen_lane
        # 处置时限: the unit's own time, the category's time to resolve, from now.
        _set_stage(c, at, c.category.resolve_within, c.category.resolve_unit)

    return _move(
        case, who, Action.DISPATCH, now=now, store=store, check=check, apply=apply,
        data={
            "unit": unit.pk, "unit_name": unit.name,
            "lane": chosen_lane.code if chosen_lane else "", "note": note,
        },
    )


@performs(Action.RETURN)
def return_case(case: Case, who, *, reason: str, now=None, store=None) -> Case:
    """回退: a department returns a misrouted case to the town, the town to the grid."""
    store = store or Store()
    reason = _text(reason, MAX_REASON, _("回退理由"), case.state, Action.RETURN, True)

    def apply(c: Case, at: datetime) -> None:
        if c.state == State.DISPATCHED:
            c.owner_unit_id = store.unit_id(c.town_id, UnitKind.TOWN_PLATFORM)
            c.extension_requested = False
            # The unit is off the case: it no longer sees it, nor the reporter's phone.
            # The event keeps who returned it.
            c.dispatched_unit = None
            # Back with the town: a new 派遣时限 to send it to the right unit.
            _set_stage(c, at, c.category.accept_within, c.category.accept_unit)
        else:
            c.owner_unit_id = store.unit_id(c.grid_id, UnitKind.GRID_TEAM)

    return _move(case, who, Action.RETURN, now=now, store=store, apply=apply, data={"reason": reason})


@performs(Action.REQUEST_EXTENSION)
def request_extension(case: Case, who, *, amount: int, reason: str, now=None, store=None) -> Case:
    """Ask for more time, counted in the category's own resolve unit."""
    reason = _text(reason, MAX_REASON, _("延时理由"), case.state, Action.REQUEST_EXTENSION, True)
    if not 1 <= amount <= 365:
        raise WorkflowError(case.state, Action.REQUEST_EXTENSION, _("延时时长应为 1 到 365"), about_input=True)

    def apply(c: Case, at: datetime) -> None:
        c.extension_requested = True
        c.extension_amount = amount

    return _move(
        case, who, Action.REQUEST_EXTENSION, now=now, store=store, apply=apply,
        data={"amount": amount, "unit": case.category.resolve_unit, "reason": reason},
    )


@performs(Action.GRANT_EXTENSION)
def grant_extension(case: Case, who, *, note: str = "", now=None, store=None) -> Case:
    note = _note(case, note, Action.GRANT_EXTENSION)
    def apply(c: Case, at: datetime) -> None:
        seconds, clock = deadlines.budget(c.extension_amount, c.category.resolve_unit)
        base = c.resolve_due or at
        c.resolve_due = deadlines.calendar().add(base, seconds, clock)
        c.resolve_budget += seconds
        if c.stage_due is not None:  # the unit asked: its own 处置时限 moves too
            c.stage_due = deadlines.calendar().add(c.stage_due, seconds, clock)
            c.stage_budget += seconds
        c.extension_requested = False
        c.extension_amount = 0

    return _move(case, who, Action.GRANT_EXTENSION, now=now, store=store, apply=apply,
                 data={"note": note, "amount": case.extension_amount})


@performs(Action.REFUSE_EXTENSION)
def refuse_extension(case: Case, who, *, reason: str, now=None, store=None) -> Case:
    reason = _text(reason, MAX_REASON, _("不同意的理由"), case.state, Action.REFUSE_EXTENSION, True)

    def apply(c: Case, at: datetime) -> None:
        c.extension_requested = False
        c.extension_amount = 0

    return _move(
        case, who, Action.REFUSE_EXTENSION, now=now, store=store, apply=apply, data={"reason": reason}
    )


# 待核查.

@performs(Action.VERIFY)
def verify(case: Case, who, *, note: str = "", now=None, store=None) -> Case:
    note = _note(case, note, Action.VERIFY)
    def apply(c: Case, at: datetime) -> None:
        c.resolved_at = at

    return _move(case, who, Action.VERIFY, now=now, store=store, apply=apply, data={"note": note})


@performs(Action.FAIL_VERIFICATION)
def fail_verification(case: Case, who, *, reason: str, now=None, store=None) -> Case:
    reason = _text(reason, MAX_REASON, _("核查不通过的理由"), case.state, Action.FAIL_VERIFICATION, True)
    return _move(case, who, Action.FAIL_VERIFICATION, now=now, store=store, data={"reason": reason})


# 待评价.

@performs(Action.RATE)
def rate(case: Case, who, *, rating: str, comment: str = "", now=None, store=None) -> Case:
    """The reporter's rating. 不满意 reopens the case to its last handler (返工)."""
    if rating not in Rating.values:
        raise WorkflowError(case.state, Action.RATE, _("请选择满意、基本满意或不满意"), about_input=True)
    comment = _text(comment, MAX_REASON, _("评价意见"), case.state, Action.RATE, False)
    if rating == Rating.UNSATISFIED:
        return reopen(case, who, comment=comment, now=now, store=store)

    def apply(c: Case, at: datetime) -> None:
        c.rating, c.rating_comment, c.closed_at = rating, comment, at

    return _move(case, who, Action.RATE, now=now, store=store, apply=apply,
                 data={"rating": rating, "comment": comment})


@performs(Action.REOPEN)
def reopen(case: Case, who, *, comment: str = "", now=None, store=None) -> Case:
    store = store or Store()

    def apply(c: Case, at: datetime) -> None:
        c.rework_count += 1
        c.rating, c.rating_comment = Rating.UNSATISFIED, comment
        c.resolved_at = None
        stage = owners.stage_of(c.rework_state)
        if stage == "grid":
            c.owner_unit_id = store.unit_id(c.grid_id, UnitKind.GRID_TEAM)
        elif stage == "town":
            c.owner_unit_id = store.unit_id(c.town_id, UnitKind.TOWN_PLATFORM)
        else:
            c.owner_unit_id = c.dispatched_unit_id
        _set_resolve_deadline(c, at)
        if stage == "town":
            _set_stage(c, at, c.category.accept_within, c.category.accept_unit)
        elif stage == "unit" and c.dispatched_unit_id:
            _set_stage(c, at, c.category.resolve_within, c.category.resolve_unit)

    return _move(case, who, Action.REOPEN, now=now, store=store, apply=apply,
                 data={"rating": Rating.UNSATISFIED, "comment": comment})


@performs(Action.AUTO_CLOSE)
def auto_close(case: Case, who: Actor, *, now=None, store=None) -> Case:
    """Close a case the reporter did not rate in time: as unrated, never as satisfied."""
    days = settings.LINGE_AUTO_CLOSE_DAYS

    def check(c: Case, actor: Actor) -> None:
        if c.resolved_at is None or _now(now) < c.resolved_at + timedelta(days=days):
            raise WorkflowError(c.state, Action.AUTO_CLOSE, _("评价期限未到"))

    def apply(c: Case, at: datetime) -> None:
        c.closed_at = at
        c.rating = ""

    return _move(case, who, Action.AUTO_CLOSE, now=now, store=store, check=check, apply=apply,
                 data={"days": days})


@performs(Action.FLAG_OVERDUE)
def flag_overdue(case: Case, who: Actor, *, now=None, store=None) -> Case:
    """Mark an open case overdue once its overall deadline has passed (the worker's
    sweep); a stage deadline (派遣时限, 处置时限) passing alone does not."""

    def check(c: Case, actor: Actor) -> None:
        deadline = deadlines.overall(c)
        if deadline is None or not deadline.overdue(_now(now)):
            raise WorkflowError(c.state, Action.FLAG_OVERDUE, _("案件尚未超期"))

    def apply(c: Case, at: datetime) -> None:
        c.overdue = True

    deadline = deadlines.overall(case)
    stage = deadline.stage if deadline else ""
    return _move(case, who, Action.FLAG_OVERDUE, now=now, store=store, check=check, apply=apply,
                 data={"stage": stage})


def allowed_actions(case: Case, who: Actor | User | None) -> list[str]:
    """The moves this actor may make on this case now (for showing buttons)."""
    caps = capacities(as_actor(who), case)
    return [
        action for (state, action) in TABLE
        if state == case.state and refusal(case, action, caps) is None
    ]


# Moves made from a form (the case page, the API): one path for all of them.

class InputRefused(WorkflowError):
    """The move's form did not validate; `form` keeps everything the person typed."""

    def __init__(self, case: Case, action: str, form, reason: str) -> None:
        self.form = form
        super().__init__(case.state, action, reason, about_input=True)


def first_error(form) -> str:
    for field, errors in form.errors.items():
        name = form.fields[field].label if field in form.fields else ""
        return f"{name}：{errors[0]}" if name else str(errors[0])
    return _("请检查填写的内容")


def bind(action: str, case: Case, who, data=None, files=None):
    """The declared form of `action` for this case and actor (bound when data is given)."""
    form_class = declaration(action).form
    if form_class is None:
        raise WorkflowError(case.state, action, _("该操作不能在页面上办理"))
    actor = as_actor(who)
    return form_class(data, files, case=case, user=actor.user)


def act(action: str, case: Case, who, data, files=None) -> Case:
    """Validate the declared form of `action` and make the move; photos the form
    carries are stored first and removed again when the move is refused."""
    form = bind(action, case, who, data, files)
    if not form.is_valid():
        raise InputRefused(case, action, form, first_error(form))
    arguments = form.arguments()
    try:
        photos = store_all(form.cleaned_data.get("photos") or [])
    except PhotoRejected as refused:
        raise InputRefused(case, action, form, str(refused)) from refused
    if photos:
        arguments["after_photos"] = photos
    try:
        return PERFORMERS[Action(action)](case, who, **arguments)
    except WorkflowError as error:
        discard(photos)  # refused: the move rolled back, no case took them
        if error.about_input:
            raise InputRefused(case, action, form, error.reason) from error
        raise
    except BaseException:
        discard(photos)
        raise
