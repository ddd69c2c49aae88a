"""Categories, cases, their append-only hash-chained events, supporters and attachments.

Nothing outside cases/workflow.py writes a Case or a CaseEvent.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeUnit(models.TextChoices):
    CLOCK_HOURS = "clock_hours", _("紧急时")
    WORK_HOURS = "work_hours", _("工作时")
    WORK_DAYS = "work_days", _("工作日")
    CALENDAR_DAYS = "calendar_days", _("自然日")


class Category(models.Model):
    code = models.CharField(_("编码"), max_length=8, unique=True)
    name = models.CharField(_("名称"), max_length=32)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children",
        verbose_name=_("大类"),
    )
    lane = models.ForeignKey(
        "people.Lane", on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("条线")
    )
    # Decimal so that half an hour (0.5 紧急时, e.g. a gas leak) can be said as such.
    accept_within = models.DecimalField(
        _("受理时限"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    accept_unit = models.CharField(
        _("受理时限单位"), max_length=16, choices=TimeUnit.choices, blank=True
    )
    resolve_within = models.DecimalField(
        _("处置时限"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    resolve_unit = models.CharField(
        _("处置时限单位"), max_length=16, choices=TimeUnit.choices, blank=True
    )
    photo_after_required = models.BooleanField(_("需处置后照片"), default=False)
    auto_escalate = models.BooleanField(
        _("超期自动上报"), default=False, help_text=_("网格超期未办结时自动上报镇街四平台")
    )
    keywords = models.CharField(_("关键词"), max_length=255, blank=True)
    public = models.BooleanField(
        _("公开"), default=True,
        help_text=_("此类问题是否列在网格公开页（扫码页）上；矛盾纠纷、诈骗线索等涉及个人的问题不公开"),
    )
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("问题分类")
        verbose_name_plural = _("问题分类")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def is_leaf(self) -> bool:
        return self.parent_id is not None

    @property
    def label(self) -> str:
        """How a category is named wherever it is picked or shown to staff:
        '市容环境 / 暴露垃圾' for a 小类 (select_related("parent")), the name for a 大类."""
        return f"{self.parent.name} / {self.name}" if self.parent_id else self.name


class State(models.TextChoices):
    SUBMITTED = "submitted", _("待受理")
    ACCEPTED = "accepted", _("处理中")
    ESCALATED = "escalated", _("待派遣")
    DISPATCHED = "dispatched", _("已派遣")
    VERIFYING = "verifying", _("待核查")
    SUSPENDED = "suspended", _("挂起")
    RESOLVED = "resolved", _("待评价")
    CLOSED = "closed", _("已办结")
    REJECTED = "rejected", _("不予受理")
    MERGED = "merged", _("已合并")


FINAL_STATES = {State.CLOSED, State.REJECTED, State.MERGED}


class Source(models.TextChoices):
    QR = "qr", _("扫码上报")
    RESIDENT_PAGE = "resident_page", _("群众网页")
    PATROL = "patrol", _("巡查发现")
    VISIT = "visit", _("走访发现")
    HOTLINE = "hotline", _("12345热线")
    HIGHER = "higher", _("上级交办")
    OPEN311 = "open311", _("Open311")


STAFF_SOURCES = {Source.PATROL, Source.VISIT}

# States whose deadline clock runs (a suspended case's stands still).
OPEN_CLOCK_STATES = (State.SUBMITTED, State.ACCEPTED, State.ESCALATED, State.DISPATCHED,
                     State.VERIFYING)
DONE_STATES = (State.RESOLVED, State.CLOSED, State.REJECTED, State.MERGED)


class Rating(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    BASIC = "basic", _("基本满意")
    UNSATISFIED = "unsatisfied", _("不满意")


class Light(models.TextChoices):
    GREEN = "green", _("正常")
    YELLOW = "yellow", _("临期")
    RED = "red", _("超期")


class Case(models.Model):
    number = models.CharField(_("编号"), max_length=16, unique=True)
    source = models.CharField(_("来源"), max_length=16, choices=Source.choices)
    # No single-column index on a column that leads one of Meta.indexes (the grid, its
    # village and town, the units, the category, the time): the composite index serves
    # every look-up the single one would, and each index is one more B-tree that every
    # new case and every move writes to. The state keeps its own: PostgreSQL counts a
    # tab of several states (已办结) of a large scope through it.
    category = models.ForeignKey(Category, on_delete=models.PROTECT, verbose_name=_("分类"),
                                 db_index=False)
    description = models.TextField(_("描述"))
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="reported_cases", verbose_name=_("报告人"),
    )
    reporter_phone = models.CharField(_("报告人电话"), max_length=20, blank=True)
    # Anonymous reports: the keyed digest (HMAC) of the tracking code shown once to the
    # reporter (workflow.hash_tracking_code; older cases: a bare SHA-256 until next used).
    tracking_code_hash = models.CharField(max_length=64, blank=True, db_index=True)
    # A client-generated key: a retried submit returns the case it already made.
    # Namespaced by channel ("r:…" resident page, "12345:…" hotline ticket, "o311:…").
    submit_key = models.CharField(max_length=80, null=True, blank=True, unique=True)
    lon = models.FloatField(_("经度"), null=True, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    grid = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="cases", verbose_name=_("网格"),
        db_index=False,
    )
    # The grid's village and town, kept on the case so scopes and figures filter by index.
    village = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("村社"),
        db_index=False,
    )
    town = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("镇街"),
        db_index=False,
    )
    owner_unit = models.ForeignKey(
        "people.Unit", on_delete=models.PROTECT, related_name="owned_cases",
        verbose_name=_("责任单位"), db_index=False,
    )
    dispatched_unit = models.ForeignKey(
        "people.Unit", on_delete=models.PROTECT, null=True, blank=True,
        related_name="dispatched_cases", verbose_name=_("承办单位"), db_index=False,
    )
    lane = models.ForeignKey(
        "people.Lane", on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("条线")
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="assigned_cases", verbose_name=_("处理人"),
    )
    state = models.CharField(_("状态"), max_length=16, choices=State.choices, db_index=True)
    # Where a suspended case resumes, and where an unsatisfied rating sends it back.
    resume_state = models.CharField(max_length=16, choices=State.choices, blank=True)
    rework_state = models.CharField(max_length=16, choices=State.choices, blank=True)
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged_cases"
    )

    created_at = models.DateTimeField(_("上报时间"))
    accept_due = models.DateTimeField(_("受理期限"), null=True, blank=True)
    resolve_due = models.DateTimeField(_("办结期限"), null=True, blank=True)
    # 上级交办: the date a higher level set; both deadlines are capped by it.
    required_by = models.DateTimeField(_("交办期限"), null=True, blank=True)
    # The deadline of the stage the case is in, as 数字城管 sets one per stage: 派遣时限
    # for the town to dispatch an escalated case (the category's accept time, from the
    # escalation) and 处置时限 for the unit after dispatch (the category's resolve time,
    # from the dispatch). resolve_due stays the case's overall deadline, for the figures.
    stage_due = models.DateTimeField(_("阶段期限"), null=True, blank=True)
    stage_budget = models.PositiveIntegerField(default=0)
    stage_left = models.IntegerField(null=True, blank=True)
    # Total time allowed (seconds on the deadline's own clock), for the traffic light.
    accept_budget = models.PositiveIntegerField(default=0)
    resolve_budget = models.PositiveIntegerField(default=0)
    # While suspended: time left (seconds on the deadline's clock) when the clock stopped.
    accept_left = models.IntegerField(null=True, blank=True)
    resolve_left = models.IntegerField(null=True, blank=True)
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"))

    escalated = models.BooleanField(_("曾上报"), default=False)
    overdue = models.BooleanField(_("超期"), default=False)
    rework_count = models.PositiveSmallIntegerField(_("返工次数"), default=0)
    supervised = models.BooleanField(_("督办"), default=False)
    extension_requested = models.BooleanField(_("申请延时"), default=False)
    # How much more time the pending request asks for, in the category's resolve unit.
    extension_amount = models.PositiveIntegerField(_("申请延时时长"), default=0)
    rating = models.CharField(_("评价"), max_length=16, choices=Rating.choices, blank=True)
    rating_comment = models.CharField(_("评价意见"), max_length=500, blank=True)
    support_count = models.PositiveIntegerField(_("附议人数"), default=0)
    # The handler's answer to the resident at the last resolve (the note stays internal).
    reply = models.CharField(_("答复群众"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("案件")
        verbose_name_plural = _("案件")
        ordering = ["-created_at"]
        # Every list a page or an API reads is "newest first" within a scope, so each
        # index ends in created_at: the database walks it backwards and stops at the
        # page's last row instead of sorting every case of the scope (the grid page
        # read and sorted all of a grid's cases). (scope, state, created_at) serves an
        # inbox tab and its count; (scope, created_at) serves "all of a scope", the
        # grid page (it leaves out two states) and the leaders' lists per area.
        # tests/cases/test_list_plans.py EXPLAINs each list on both databases.
        indexes = [
            models.Index(fields=["grid", "state", "created_at"], name="case_grid_state_new"),
            models.Index(fields=["village", "state", "created_at"],
                         name="case_village_state_new"),
            models.Index(fields=["town", "state", "created_at"], name="case_town_state_new"),
            models.Index(fields=["owner_unit", "state", "created_at"],
                         name="case_owner_state_new"),
            models.Index(fields=["dispatched_unit", "state", "created_at"],
                         name="case_dispatched_state_new"),
            models.Index(fields=["grid", "created_at"], name="case_grid_new"),
            models.Index(fields=["village", "created_at"], name="case_village_new"),
            models.Index(fields=["town", "created_at"], name="case_town_new"),
            models.Index(fields=["state", "created_at"], name="case_state_new"),
            models.Index(fields=["category", "created_at"], name="case_category_created"),
            # Keyset pages of every list (/api/v1, Open311): newest first, id breaks ties.
            models.Index(fields=["-created_at", "-id"], name="case_created_id"),
            # A caller who logs in with their phone finds the cases they phoned in.
            models.Index(fields=["reporter_phone"], name="case_caller_phone",
                         condition=models.Q(reporter__isnull=True)),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.state not in FINAL_STATES


class CaseEvent(models.Model):
    """One change to a case. Append-only; each event's hash covers the one before it."""

    seq = models.BigIntegerField(unique=True)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(_("动作"), max_length=24)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        verbose_name=_("操作人"),
    )
    actor_label = models.CharField(_("操作人"), max_length=64, blank=True)
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16)
    data = models.JSONField(default=dict, blank=True)
    # What the move set on the case (chain.SEALED columns that changed, photos attached):
    # `linge audit verify` rebuilds every case from these. Empty on events from before.
    fields = models.JSONField(default=dict, blank=True)
    public = models.BooleanField(default=True)
    at = models.DateTimeField(_("时间"), db_index=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("案件事件")
        verbose_name_plural = _("案件事件")
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action}"


class ChainHead(models.Model):
    """The last event of the chain: locked to append, and read to detect a deleted tail."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)
    # HMAC of seq and hash with the audit key (chain.head_seal), which is not in the database.
    seal = models.CharField(max_length=64, blank=True, default="")

    def __str__(self) -> str:
        return f"#{self.seq} {self.hash[:12]}"


class DailyCounter(models.Model):
    """Per-day serial behind readable case numbers (20261129-000123)."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day}: {self.last}"


class Supporter(models.Model):
    """A resident who reported the same problem (我也遇到) and is told like the reporter."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="supporters")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    at = models.DateTimeField()

    class Meta:
        verbose_name = _("附议人")
        verbose_name_plural = _("附议人")
        constraints = [
            models.UniqueConstraint(fields=["case", "user"], name="support_once_per_case")
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.case}"


class AttachmentKind(models.TextChoices):
    BEFORE = "before", _("处置前")
    AFTER = "after", _("处置后")


class Attachment(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="attachments")
    kind = models.CharField(max_length=8, choices=AttachmentKind.choices)
    file = models.FileField(upload_to="cases/%Y/%m/")
    thumbnail = models.FileField(upload_to="cases/%Y/%m/thumbs/", blank=True)
    sha256 = models.CharField(max_length=64)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True
    )
    at = models.DateTimeField()

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")

    def __str__(self) -> str:
        return f"{self.case} {self.get_kind_display()} {self.file.name}"


class Reminder(models.Model):
    """A deadline reminder already queued: one per (case, deadline, level), whoever sweeps."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    stage = models.CharField(max_length=8)  # accept / resolve
    due = models.DateTimeField()
    level = models.CharField(max_length=8)  # yellow / red
    at = models.DateTimeField()

    class Meta:
        verbose_name = _("时限提醒")
        verbose_name_plural = _("时限提醒")
        constraints = [
            models.UniqueConstraint(fields=["case", "stage", "due", "level"],
                                    name="one_case_reminder_per_deadline_level")
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.stage} {self.level}"


class CalendarDay(models.Model):
    """A day that breaks the Monday–Friday rule: a public holiday (休) or a make-up
    working day (调休上班). Working-time deadlines read these; a year with none is not
    known yet and counts Monday–Friday (the worker's log and the admin say so).
    Seeded from `chinesecalendar`; the State Council announces each next year around
    November, and an administrator enters it here."""

    day = models.DateField(_("日期"), unique=True)
    workday = models.BooleanField(
        _("上班"), default=False, help_text=_("勾选：调休上班日；不勾选：放假"))
    name = models.CharField(_("节日"), max_length=32, blank=True)
    source = models.CharField(_("来源"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("节假日与调休")
        verbose_name_plural = _("节假日与调休")
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day} {self.name} {'上班' if self.workday else '放假'}"
