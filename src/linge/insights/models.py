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
