"""Hot and hard issues (热点难点) put on the agenda of a deliberation meeting (民主恳谈)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Deliberation(models.Model):
    village = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("村社"))
    title = models.CharField(_("议题"), max_length=100)
    category = models.ForeignKey("cases.Category", on_delete=models.PROTECT, null=True,
                                 blank=True, verbose_name=_("问题分类"))
    keywords = models.CharField(_("关键词"), max_length=100, blank=True)
    case_numbers = models.JSONField(_("相关案件"), default=list, blank=True)
    meeting_on = models.DateField(_("恳谈日期"))
    outcome = models.TextField(_("恳谈结果"), blank=True, max_length=2000)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   verbose_name=_("登记人"))
    created_at = models.DateTimeField(_("登记时间"))
    updated_at = models.DateTimeField(_("更新时间"))

    class Meta:
        verbose_name = _("民主恳谈议题")
        verbose_name_plural = _("民主恳谈议题")
        ordering = ["-meeting_on", "-pk"]
        indexes = [models.Index(fields=["village", "meeting_on"], name="deliberation_village")]
        constraints = [
            # A double tap on 列入议题 must not put the same item on the agenda twice.
            models.UniqueConstraint(fields=["village", "meeting_on", "title"],
                                    name="one_agenda_item_per_meeting"),
        ]

    def __str__(self) -> str:
        return f"{self.meeting_on} {self.title}"


# Rollups: a projection of the case event log (insights/rollups.py). Nothing but
# rollups.py writes these tables; `linge insights rebuild` can always recreate them.

class RollupMark(models.Model):
    """The high-water mark: the last CaseEvent.seq folded into the rollups.

    Locked (UPDATE first) by every catch-up, so two workers never fold the same events.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"#{self.seq}"


# The integer measures kept per case (CaseFact) and summed per rollup row (Rollup).
MEASURES = [
    "received", "rejected", "merged", "closed", "closed_on_time", "closed_in_grid",
    "reopened", "staff_reported", "rated", "satisfied", "basic_satisfied", "unsatisfied",
    "closed_rated", "open", "overdue_open", "solved_grid", "solved_village", "solved_town",
    "solved_department",
]


class CaseFact(models.Model):
    """One case's current contribution to the rollups, keyed by its cohort day.

    Kept so that when a later event changes the contribution, the old one can be
    subtracted from the rollup rows and the new one added (deltas, not recounts).
    """

    case_id = models.BigIntegerField(primary_key=True)
    day = models.DateField()  # the local date the case was received (its cohort)
    grid_id = models.IntegerField()
    village_id = models.IntegerField()
    town_id = models.IntegerField()
    category_id = models.IntegerField()
    worker_id = models.IntegerField(null=True)
    response_bucket = models.SmallIntegerField(null=True)
    resolution_bucket = models.SmallIntegerField(null=True)
    received = models.SmallIntegerField(default=0)
    rejected = models.SmallIntegerField(default=0)
    merged = models.SmallIntegerField(default=0)
    closed = models.SmallIntegerField(default=0)
    closed_on_time = models.SmallIntegerField(default=0)
    closed_in_grid = models.SmallIntegerField(default=0)
    reopened = models.SmallIntegerField(default=0)
    staff_reported = models.SmallIntegerField(default=0)
    rated = models.SmallIntegerField(default=0)
    satisfied = models.SmallIntegerField(default=0)
    basic_satisfied = models.SmallIntegerField(default=0)
    unsatisfied = models.SmallIntegerField(default=0)
    closed_rated = models.SmallIntegerField(default=0)
    open = models.SmallIntegerField(default=0)
    overdue_open = models.SmallIntegerField(default=0)
    solved_grid = models.SmallIntegerField(default=0)
    solved_village = models.SmallIntegerField(default=0)
    solved_town = models.SmallIntegerField(default=0)
    solved_department = models.SmallIntegerField(default=0)

    class Meta:
        # The cases behind a number (insights/behind.py): an area's or a worker's facts
        # over a period, newest cohort day and case first. A fold mostly changes only
        # measures, which no index holds; the worker changes when a case is assigned.
        indexes = [
            models.Index(fields=["day", "case_id"], name="casefact_day"),
            models.Index(fields=["grid_id", "day", "case_id"], name="casefact_grid_day"),
            models.Index(fields=["village_id", "day", "case_id"], name="casefact_village_day"),
            models.Index(fields=["town_id", "day", "case_id"], name="casefact_town_day"),
            models.Index(fields=["worker_id", "day", "case_id"], name="casefact_worker_day"),
        ]

    def __str__(self) -> str:
        return f"case {self.case_id} @ {self.day}"


class Scope(models.TextChoices):
    CITY = "c", "city"
    TOWN = "t", "town"
    VILLAGE = "v", "village"
    GRID = "g", "grid"
    WORKER = "w", "worker"
    TOWN_CATEGORY = "tc", "town × category"


class Grain(models.TextChoices):
    DAY = "d", "day"
    MONTH = "m", "month"
    YEAR = "y", "year"


class Rollup(models.Model):
    """Sums of CaseFact over one scope key and one cohort day or month.

    `key` is the area id (city, town, village, grid), the worker's user id, or for
    town × category the town id with `category_id` set. Month rows start on the 1st.
    The histograms map a log-spaced bucket index (figures.bucket) to a count.
    """

    scope = models.CharField(max_length=2, choices=Scope.choices)
    key = models.IntegerField()
    category_id = models.IntegerField(default=0)  # 0 = all categories
    grain = models.CharField(max_length=1, choices=Grain.choices)
    start = models.DateField()
    response_hist = models.JSONField(default=dict)
    resolution_hist = models.JSONField(default=dict)
    received = models.IntegerField(default=0)
    rejected = models.IntegerField(default=0)
    merged = models.IntegerField(default=0)
    closed = models.IntegerField(default=0)
    closed_on_time = models.IntegerField(default=0)
    closed_in_grid = models.IntegerField(default=0)
    reopened = models.IntegerField(default=0)
    staff_reported = models.IntegerField(default=0)
    rated = models.IntegerField(default=0)
    satisfied = models.IntegerField(default=0)
    basic_satisfied = models.IntegerField(default=0)
    unsatisfied = models.IntegerField(default=0)
    closed_rated = models.IntegerField(default=0)
    open = models.IntegerField(default=0)
    overdue_open = models.IntegerField(default=0)
    solved_grid = models.IntegerField(default=0)
    solved_village = models.IntegerField(default=0)
    solved_town = models.IntegerField(default=0)
    solved_department = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key", "category_id", "grain", "start"],
                                    name="one_rollup_row_per_key")
        ]
        indexes = [
            # Figures read one key over a date range; rankings read a scope over one.
            models.Index(fields=["scope", "grain", "start", "key"], name="rollup_scope_start"),
        ]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}/{self.category_id} {self.grain} {self.start}"
