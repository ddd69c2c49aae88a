"""Open311: the extra questions a category asks (its service definition), and which
client submitted which case with which token."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Datatype(models.TextChoices):
    STRING = "string", _("单行文字")
    NUMBER = "number", _("数字")
    DATETIME = "datetime", _("日期时间")
    TEXT = "text", _("多行文字")
    SINGLEVALUELIST = "singlevaluelist", _("单选")
    MULTIVALUELIST = "multivaluelist", _("多选")


class ServiceAttribute(models.Model):
    """One extra question of a 小类 (an Open311 attribute). A category with at least one
    has metadata=true and a service definition."""

    category = models.ForeignKey("cases.Category", on_delete=models.CASCADE,
                                 related_name="open311_attributes", verbose_name=_("小类"))
    code = models.CharField(_("编码"), max_length=32,
                            help_text=_("字母、数字、下划线；客户端以 attribute[编码] 提交"))
    description = models.CharField(_("问题"), max_length=200)
    datatype = models.CharField(_("类型"), max_length=16, choices=Datatype.choices,
                                default=Datatype.STRING)
    datatype_description = models.CharField(_("填写说明"), max_length=200, blank=True)
    required = models.BooleanField(_("必填"), default=False)
    order = models.PositiveSmallIntegerField(_("顺序"), default=1)
    # For the list types: one choice a line, "key=名称".
    choices = models.TextField(_("选项"), blank=True, help_text=_("单选、多选：每行一项，写作 key=名称"))

    class Meta:
        verbose_name = _("Open311 附加问题")
        verbose_name_plural = _("Open311 附加问题")
        ordering = ["category", "order", "code"]
        constraints = [models.UniqueConstraint(fields=["category", "code"],
                                               name="open311_attribute_code_once")]

    def __str__(self) -> str:
        return f"{self.category.code} {self.code}"

    @property
    def values(self) -> list[tuple[str, str]]:
        pairs = []
        for line in self.choices.splitlines():
            key, _sep, name = line.strip().partition("=")
            if key.strip():
                pairs.append((key.strip(), (name or key).strip()))
        return pairs


class Submission(models.Model):
    """A case made through Open311: the client's key and the token it was given."""

    case = models.OneToOneField("cases.Case", on_delete=models.PROTECT, related_name="+")
    token = models.CharField(max_length=32, unique=True)
    api_key = models.ForeignKey("clients.ApiKey", on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("Open311 提交")
        verbose_name_plural = _("Open311 提交")

    def __str__(self) -> str:
        return self.token
