"""Phone number + one-time code: request a code, check it, get or create the resident.

Rules: 6 digits, valid 5 minutes, at most 5 tries per code (then it is locked and a
new one must be asked for), at most one code a minute per phone and per IP address.
Only an HMAC of the code is stored. The SMS goes through notify.senders.get_sender()
with the key f"otp:{id}", so a retried send is not delivered twice.
"""

from __future__ import annotations

import hashlib
import hmac
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
RESEND_AFTER = timedelta(minutes=1)
MAX_TRIES = 5
MAX_CODES_PER_DAY = 10  # per phone
MAX_CODES_PER_IP_PER_DAY = 50
PHONE = re.compile(r"^1[3-9][0-9]{9}$")


class OtpError(Exception):
    """Refused; the message says why, in Chinese."""


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
    """Make and send a code. Raises OtpError when asked again within a minute."""
    phone = clean_phone(phone)
    now = timezone.now()
    recent = OneTimeCode.objects.filter(created_at__gt=now - RESEND_AFTER)
    if recent.filter(phone=phone).exists() or (ip and recent.filter(ip=ip).exists()):
        raise OtpError(_("验证码发送过于频繁，请一分钟后再试"))
    # Without a daily cap, 5 guesses a minute add up, and a victim's phone gets flooded.
    today = OneTimeCode.objects.filter(created_at__gt=now - timedelta(days=1))
    if today.filter(phone=phone).count() >= MAX_CODES_PER_DAY or (
        ip and today.filter(ip=ip).count() >= MAX_CODES_PER_IP_PER_DAY
    ):
        raise OtpError(_("今天获取验证码的次数已达上限，请明天再试"))
    code = f"{secrets.randbelow(1_000_000):06d}"
    row = OneTimeCode.objects.create(
        phone=phone, ip=ip or None, code_hash=_hash(phone, code), created_at=now,
        expires_at=now + VALID_FOR,
    )
    text = _("【岭格】您的验证码是 %(code)s，5 分钟内有效。如非本人操作请忽略。") % {"code": code}
    try:
        get_sender().send(phone, text, f"otp:{row.pk}")
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
