"""Workbench records: login attempts, for the lock that stops password guessing."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class LoginAttempt(models.Model):
    username = models.CharField(_("用户名"), max_length=150)
    ip = models.GenericIPAddressField(_("地址"), null=True, blank=True)
    at = models.DateTimeField(_("时间"))
    succeeded = models.BooleanField(_("成功"), default=False)

    class Meta:
        verbose_name = _("登录尝试")
        verbose_name_plural = _("登录尝试")
        ordering = ["-at"]
        indexes = [models.Index(fields=["username", "ip", "at"], name="login_attempt_lookup")]

    def __str__(self) -> str:
        return f"{self.username}@{self.ip} {self.at:%Y-%m-%d %H:%M}"
