"""Phone number + one-time code: request a code, check it, get or create the resident.

Rules: 6 digits, valid 5 minutes, at most 5 tries per code (then it is locked and a
new one must be asked for). Asking again takes growing waits rather than a daily wall,
so someone asking for codes for another person's number is slowed down without
locking its owner out: per phone the n-th code since the last login (within a day)
waits 1, 2, 4, 8, 16 and then at most 30 minutes after the one before; per address
the first ten a day wait a minute each, then the wait doubles (2, 4, 8 … minutes,
no cap but the day). Only an HMAC of the code is stored; the delivery record keeps the
message with the code masked. The SMS goes through notify.senders.get_sender()
with the key f"otp:{id}", so a retried send is not delivered twice.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linge.notify.senders import SendFailed, get_sender
from linge.people.models import User
from linge.people.privacy import mask_phone  # noqa: F401 (used as module.mask_phone)
from linge.resident.models import OneTimeCode

VALID_FOR = timedelta(minutes=5)
RESEND_AFTER = timedelta(minutes=1)  # the first wait, for a phone and for an address
PHONE_WAIT_CAP = timedelta(minutes=30)  # the owner never waits longer than this
ADDRESS_FREE_CODES = 10  # codes a day an address asks for at RESEND_AFTER before waits grow
DAY = timedelta(days=1)
MAX_TRIES = 5
MASK = "******"  # stands for the code in every stored copy of the message
PHONE = re.compile(r"^1[3-9][0-9]{9}$")


class OtpError(Exception):
    """Refused; the message says why, in Chinese. `retry_after`: seconds to wait, when
    the refusal is a wait (the page answers 429 with Retry-After)."""

    def __init__(self, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _wait(asked: int, free: int = 1, cap: timedelta | None = None) -> timedelta:
    """The wait after the last code when `asked` codes were asked already: the first
    `free` wait RESEND_AFTER each, then it doubles."""
    if asked == 0:
        return timedelta(0)
    wait = RESEND_AFTER * 2 ** max(0, min(asked - free, 20))
    return min(wait, cap) if cap is not None else min(wait, DAY)


def _refuse_until(until, now) -> None:
    seconds = math.ceil((until - now).total_seconds())
    if seconds > 0:
        minutes = (seconds + 59) // 60
        raise OtpError(_("验证码发送过于频繁，请 %(m)s 分钟后再试") % {"m": minutes},
                       retry_after=seconds)


def _check_waits(phone: str, ip: str | None, now) -> None:
    last_login = OneTimeCode.objects.filter(phone=phone, used_at__isnull=False).order_by(
        "-used_at").values_list("used_at", flat=True).first()
    since = max(now - DAY, last_login) if last_login else now - DAY
    mine = list(OneTimeCode.objects.filter(phone=phone, created_at__gt=since).order_by(
        "-created_at").values_list("created_at", flat=True)[:64])
    if mine:
        _refuse_until(mine[0] + _wait(len(mine), cap=PHONE_WAIT_CAP), now)
    if ip:
        theirs = list(OneTimeCode.objects.filter(ip=ip, created_at__gt=now - DAY).order_by(
            "-created_at").values_list("created_at", flat=True)[:64])
        if theirs:
            _refuse_until(theirs[0] + _wait(len(theirs), free=ADDRESS_FREE_CODES), now)


def clean_phone(value: str) -> str:
    phone = re.sub(r"[\s-]", "", value or "")
    if phone.startswith("+86"):
        phone = phone[3:]
    if not PHONE.match(phone):
        raise OtpError(_("请输入正确的 11 位手机号"))
    return phone


def _hash(phone: str, code: str) -> str:
    key = (settings.SECRET_KEY + ":linge.otp").encode()
    return hmac.new(key, f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def request_code(phone: str, ip: str | None) -> OneTimeCode:
    """Make and send a code. Raises OtpError (with retry_after) while a wait runs."""
    phone = clean_phone(phone)
    now = timezone.now()
    _check_waits(phone, ip, now)
    code = f"{secrets.randbelow(1_000_000):06d}"
    row = OneTimeCode.objects.create(
        phone=phone, ip=ip or None, code_hash=_hash(phone, code), created_at=now,
        expires_at=now + VALID_FOR,
    )
    message = _("【岭格】您的验证码是 %(code)s，5 分钟内有效。如非本人操作请忽略。")
    text = message % {"code": code}
    try:
        # The SMS carries the code; the delivery record keeps the text with it masked.
        get_sender().send(phone, text, f"otp:{row.pk}", record_as=message % {"code": MASK})
    except SendFailed:
        row.delete()  # not sent: it must not block a retry for a minute
        raise OtpError(_("短信发送失败，请稍后再试")) from None
    return row


def check_code(phone: str, code: str) -> User:
    """The resident for this phone when `code` is right; raises OtpError otherwise."""
    phone = clean_phone(phone)
    code = (code or "").strip()
    now = timezone.now()
    refusal = ""
    # The counter must survive the refusal: decide inside the transaction, raise after it.
    with transaction.atomic():
        row = (
            OneTimeCode.objects.select_for_update()
            .filter(phone=phone)
            .order_by("-created_at")
            .first()
        )
        if row is None:
            refusal = _("请先点「获取验证码」，再填写短信里的验证码")
        elif row.used_at is not None or row.expires_at <= now:
            refusal = _("验证码已失效，请重新获取")
        elif row.attempts >= MAX_TRIES:
            refusal = _("验证码错误次数过多，已锁定，请重新获取")
        elif not hmac.compare_digest(row.code_hash, _hash(phone, code)):
            row.attempts += 1
            row.save(update_fields=["attempts"])
            left = MAX_TRIES - row.attempts
            if left <= 0:
                refusal = _("验证码错误次数过多，已锁定，请重新获取")
            else:
                refusal = _("验证码错误，还可尝试 %(n)s 次") % {"n": left}
        else:
            row.used_at = now
            row.save(update_fields=["used_at"])
    if refusal:
        raise OtpError(refusal)
    return resident_for(phone)


def resident_for(phone: str) -> User:
    """Get or create the resident account of a phone number (no usable password)."""
    user = User.objects.filter(phone=phone, is_resident=True).first()
    if user is not None:
        return user
    try:
        with transaction.atomic():
            user = User(username=f"r{phone}", phone=phone, is_resident=True)
            user.set_unusable_password()
            user.save()
    except IntegrityError:  # a concurrent login created it first
        user = User.objects.get(phone=phone, is_resident=True)
    return user
