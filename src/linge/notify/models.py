"""The outbox: notifications written in the same transaction as the change they announce."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    INBOX = "inbox", _("站内消息")
    SMS = "sms", _("短信")


class Status(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")


class Outbox(models.Model):
    # Unique per (event, recipient, channel): the sender uses it to refuse a second delivery.
    key = models.CharField(max_length=96, unique=True)
    # What the message is about, what happened, and where to read more: plain values, so
    # that the outbox serves any feature (cases, visits) without knowing it.
    subject = models.CharField(max_length=40, blank=True, db_index=True)
    kind = models.CharField(max_length=32, blank=True)
    link = models.CharField(max_length=200, blank=True)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True
    )
    phone = models.CharField(max_length=20, blank=True)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    text = models.CharField(max_length=300)
    status = models.CharField(
        max_length=8, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    # A worker claims a row by writing its token and a lease; a killed worker's lease
    # runs out and another takes the row over (the sender's key prevents a second send).
    claim_token = models.CharField(max_length=32, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["recipient", "channel", "-created_at"], name="outbox_inbox")]

    def __str__(self) -> str:
        return f"{self.key} {self.get_status_display()}"


class Delivery(models.Model):
    """What a sender delivered, once per key: the record that makes a retry harmless."""

    key = models.CharField(max_length=128, unique=True)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    phone = models.CharField(max_length=20, blank=True)
    text = models.CharField(max_length=300)
    backend = models.CharField(max_length=16)
    at = models.DateTimeField()

    class Meta:
        verbose_name = _("发送记录")
        verbose_name_plural = _("发送记录")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.key} → {self.phone}"


class WorkerRun(models.Model):
    """One pass of `linge worker`: what it did, for the record and for monitoring."""

    pid = models.PositiveIntegerField()
    host = models.CharField(max_length=64, blank=True)
    started_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    sent = models.PositiveIntegerField(_("已发送"), default=0)
    retried = models.PositiveIntegerField(_("待重试"), default=0)
    failed = models.PositiveIntegerField(_("发送失败"), default=0)
    warned = models.PositiveIntegerField(_("临期提醒"), default=0)
    flagged = models.PositiveIntegerField(_("标记超期"), default=0)
    escalated = models.PositiveIntegerField(_("自动上报"), default=0)
    closed = models.PositiveIntegerField(_("自动结案"), default=0)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("后台任务记录")
        verbose_name_plural = _("后台任务记录")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M:%S} pid {self.pid}"
