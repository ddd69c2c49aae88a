"""One-time codes that let a resident log in with a phone number."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class OneTimeCode(models.Model):
    """A 6-digit code sent by SMS. Only its keyed hash is stored."""

    phone = models.CharField(_("手机号"), max_length=20)
    ip = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("发送时间"))
    expires_at = models.DateTimeField(_("失效时间"))
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    used_at = models.DateTimeField(_("使用时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("验证码")
        verbose_name_plural = _("验证码")
        indexes = [
            models.Index(fields=["phone", "-created_at"], name="otp_phone_created"),
            models.Index(fields=["ip", "-created_at"], name="otp_ip_created"),
        ]

    def __str__(self) -> str:
        return f"{self.phone} {self.created_at:%Y-%m-%d %H:%M}"
