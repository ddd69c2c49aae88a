"""API clients (one key per client, stored hashed) and the shared rate-limit counters."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    OPEN311 = "open311", _("Open311 (/open311/v2/)")
    API = "api", _("JSON API (/api/v1/)")


class ApiKey(models.Model):
    """A client's key. Only its prefix (to find it) and its SHA-256 are stored: the key
    is shown once, when it is made, and cannot be read back."""

    name = models.CharField(_("客户端名称"), max_length=80, unique=True)
    prefix = models.CharField(_("前缀"), max_length=12, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    # Comma-separated Channel values: which interfaces the key may call.
    channels = models.CharField(_("可用接口"), max_length=40, default=Channel.OPEN311)
    # Requests per minute the key may make (each interface counts against the same budget).
    rate_per_minute = models.PositiveIntegerField(_("每分钟请求上限"), default=60)
    # The account the key acts as on /api/v1/ (a staff member or a resident); Open311
    # submits with no account (as an anonymous report whose phone, if given, is kept).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name=_("代表的账号"),
    )
    created_at = models.DateTimeField(_("创建时间"))
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)

    class Meta:
        verbose_name = _("接口密钥")
        verbose_name_plural = _("接口密钥")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def channel_list(self) -> list[str]:
        return [c.strip() for c in self.channels.split(",") if c.strip()]

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class Hit(models.Model):
    """One counter: how many times `key` (a scope and a hashed identifier) was counted in
    the time slot `slot` (the window's number since the epoch). Incremented with one
    atomic upsert, so every app process counts against the same number."""

    key = models.CharField(max_length=64)
    slot = models.BigIntegerField()
    count = models.PositiveIntegerField(default=0)
    expires = models.BigIntegerField(db_index=True)  # epoch seconds after which it is dead

    class Meta:
        verbose_name = _("频率计数")
        verbose_name_plural = _("频率计数")
        constraints = [models.UniqueConstraint(fields=["key", "slot"], name="hit_key_slot")]

    def __str__(self) -> str:
        return f"{self.key[:12]}@{self.slot}: {self.count}"
