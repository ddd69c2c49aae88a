"""Households of a grid and the visits (入户走访) grid workers log there."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

# Tags the register knows; others are refused on import so that lists stay comparable.
KNOWN_TAGS = ["独居老人", "空巢老人", "留守儿童", "残疾人", "低保", "特困", "退役军人",
              "出租房", "外来人口", "重点人员", "党员户"]


class Household(models.Model):
    grid = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="household_set",
                             verbose_name=_("网格"))
    address = models.CharField(_("地址"), max_length=200)
    head = models.CharField(_("户主"), max_length=32)
    people = models.PositiveSmallIntegerField(_("人数"), default=1)
    tags = models.JSONField(_("标签"), default=list, blank=True)
    updated_at = models.DateTimeField(_("更新时间"))

    class Meta:
        verbose_name = _("住户")
        verbose_name_plural = _("住户")
        ordering = ["grid", "address"]
        constraints = [
            models.UniqueConstraint(fields=["grid", "address"], name="one_household_per_address")
        ]

    def __str__(self) -> str:
        return f"{self.address} {self.head}"


class Visit(models.Model):
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="visits",
                                  verbose_name=_("住户"))
    grid = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("网格"))
    visitor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                verbose_name=_("走访人"))
    at = models.DateTimeField(_("走访时间"), db_index=True)
    note = models.TextField(_("走访情况"), max_length=1000)
    follow_up_on = models.DateField(_("回访日期"), null=True, blank=True)
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, null=True, blank=True,
                             related_name="+", verbose_name=_("发现的问题"))
    # The form's one-time key: a double-tapped or retried save makes one visit (and one case).
    submit_key = models.CharField(_("提交标识"), max_length=64, null=True, blank=True,
                                  unique=True, editable=False)

    class Meta:
        verbose_name = _("走访记录")
        verbose_name_plural = _("走访记录")
        ordering = ["-at"]
        indexes = [models.Index(fields=["grid", "at"], name="visit_grid_at")]

    def __str__(self) -> str:
        return f"{self.household} {self.at:%Y-%m-%d}"
