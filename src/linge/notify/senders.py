"""SMS senders, chosen by LINGE_SMS_BACKEND: `console` (log only; the default) or `http`.

Every send carries an idempotency key. The console sender records each key once in
`Delivery` and ignores a repeat; the HTTP gateway sender passes the key along
(`Idempotency-Key` header and body field) for the gateway to honour, and records the
delivery after the gateway accepted it.

What is recorded may differ from what is sent: a one-time code travels in the SMS but
is never stored (`record_as`, the text with the code masked). The console sender's log
line is the demo's stand-in for the phone, so it carries the code; production uses
`http`.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from typing import Protocol

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from linge.notify.models import Channel, Delivery

log = logging.getLogger("linge.sms")


class SendFailed(Exception):
    """The message was not accepted; the caller may retry later with the same key."""


class Sender(Protocol):
    name: str

    def send(self, phone: str, text: str, key: str, *, record_as: str | None = None) -> bool:
        """Deliver once. Returns False when `key` was delivered before (nothing sent).
        `record_as`: what `Delivery` keeps instead of `text` (a secret masked)."""


def already_sent(key: str) -> bool:
    return Delivery.objects.filter(key=key).exists()


def record(key: str, phone: str, text: str, backend: str) -> bool:
    try:
        with transaction.atomic():
            Delivery.objects.create(key=key, channel=Channel.SMS, phone=phone, text=text,
                                    backend=backend, at=timezone.now())
    except IntegrityError:
        return False
    return True


class ConsoleSender:
    """Writes the message to the log instead of a phone: for the demo and development."""

    name = "console"

    def send(self, phone: str, text: str, key: str, *, record_as: str | None = None) -> bool:
        if not record(key, phone, text if record_as is None else record_as, self.name):
            return False
        log.info("SMS to %s: %s", phone, text)
        return True


class HttpGatewaySender:
    """POSTs {"phone", "text", "key"} as JSON to LINGE_SMS_URL with a bearer token."""

    name = "http"

    def __init__(self, url: str, token: str, timeout: float = 10.0) -> None:
        self.url = url
        self.token = token
        self.timeout = timeout

    def send(self, phone: str, text: str, key: str, *, record_as: str | None = None) -> bool:
        if already_sent(key):
            return False
        body = json.dumps({"phone": phone, "text": text, "key": key}).encode()
        request = urllib.request.Request(
            self.url, data=body, method="POST",
            headers={"Content-Type": "application/json", "Idempotency-Key": key,
                     "Authorization": f"Bearer {self.token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status = response.status
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise SendFailed(f"短信网关不可用：{error}") from error
        if not 200 <= status < 300:
            raise SendFailed(f"短信网关返回 {status}")
        record(key, phone, text if record_as is None else record_as, self.name)
        return True


def get_sender() -> Sender:
    if settings.LINGE_SMS_BACKEND == "http":
        return HttpGatewaySender(settings.LINGE_SMS_URL, settings.LINGE_SMS_TOKEN)
    return ConsoleSender()
