"""resident.otp: phone + one-time code; limits per phone, per IP, per code."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone

from linge.people.models import User
from linge.resident import otp
from linge.resident.models import OneTimeCode
from tests.resident.conftest import last_code

pytestmark = pytest.mark.django_db
PHONE = "13912345678"


def test_code_is_sent_and_only_its_hash_stored() -> None:
    row = otp.request_code(PHONE, "10.0.0.1")
    code = last_code(PHONE)
    assert len(code) == 6 and code.isdigit()
    assert code not in row.code_hash and len(row.code_hash) == 64
    assert (row.expires_at - row.created_at) == timedelta(minutes=5)
    from linge.notify.models import Delivery

    delivery = Delivery.objects.get(key=f"otp:{row.pk}")
    assert delivery.phone == PHONE
    # The phone got the code; nothing stored holds it.
    assert delivery.text == "【岭格】您的验证码是 ******，5 分钟内有效。如非本人操作请忽略。"
    assert code not in delivery.text


def test_the_http_gateway_gets_the_code_and_records_it_masked(settings) -> None:
    from linge.notify.models import Delivery
    from tests.notify.test_senders import Gateway

    gateway = Gateway()
    try:
        settings.LINGE_SMS_BACKEND, settings.LINGE_SMS_URL = "http", gateway.url
        row = otp.request_code(PHONE, "10.0.0.1")
        sent = gateway.received[0][0]["text"]
        code = re.search(r"\d{6}", sent).group(0)
        assert sent == f"【岭格】您的验证码是 {code}，5 分钟内有效。如非本人操作请忽略。"
        stored = Delivery.objects.get(key=f"otp:{row.pk}").text
        assert code not in stored and "******" in stored
        assert otp.check_code(PHONE, code).phone == PHONE
    finally:
        gateway.close()


def test_right_code_creates_the_resident() -> None:
    otp.request_code(PHONE, "10.0.0.1")
    user = otp.check_code(PHONE, last_code(PHONE))
    assert user.is_resident and user.username == f"r{PHONE}" and user.phone == PHONE
    assert not user.has_usable_password()
    with pytest.raises(otp.OtpError, match="失效"):  # used once only
        otp.check_code(PHONE, last_code(PHONE))
    with pytest.raises(otp.OtpError, match="请先点「获取验证码」"):  # never asked for one
        otp.check_code("13900000077", "123456")


def test_existing_resident_is_reused(city) -> None:
    otp.request_code("13900000001", None)
    assert otp.check_code("13900000001", last_code("13900000001")) == city["resident"]
    assert User.objects.filter(phone="13900000001", is_resident=True).count() == 1


def test_one_code_a_minute_per_phone_and_per_ip() -> None:
    otp.request_code(PHONE, "10.0.0.1")
    with pytest.raises(otp.OtpError, match="频繁") as refused:
        otp.request_code(PHONE, "10.0.0.2")
    assert 0 < refused.value.retry_after <= 61
    with pytest.raises(otp.OtpError, match="频繁"):
        otp.request_code("13912345679", "10.0.0.1")
    otp.request_code("13912345679", "10.0.0.3")
    OneTimeCode.objects.update(created_at=timezone.now() - timedelta(seconds=61))
    otp.request_code(PHONE, "10.0.0.1")


def test_expired_code() -> None:
    otp.request_code(PHONE, None)
    OneTimeCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(otp.OtpError, match="失效"):
        otp.check_code(PHONE, last_code(PHONE))


def test_five_tries_then_locked() -> None:
    otp.request_code(PHONE, None)
    right = last_code(PHONE)
    wrong = "000000" if right != "000000" else "111111"
    for left in (4, 3, 2, 1):
        with pytest.raises(otp.OtpError, match=f"还可尝试 {left} 次"):
            otp.check_code(PHONE, wrong)
    with pytest.raises(otp.OtpError, match="锁定"):
        otp.check_code(PHONE, wrong)
    with pytest.raises(otp.OtpError, match="锁定"):  # even the right code, now
        otp.check_code(PHONE, right)
    assert not User.objects.filter(phone=PHONE).exists()


@pytest.mark.parametrize("phone", ["", "12345", "23912345678", "1391234567a"])
def test_bad_phone_numbers(phone: str) -> None:
    with pytest.raises(otp.OtpError, match="手机号"):
        otp.request_code(phone, None)


def test_phone_is_normalised() -> None:
    assert otp.clean_phone("+86 139-1234-5678") == PHONE
    assert otp.mask_phone(PHONE) == "139****5678"


def _age_codes(minutes: float) -> None:
    OneTimeCode.objects.update(created_at=F("created_at") - timedelta(minutes=minutes))


def wait_of(phone: str, ip: str | None) -> int:
    with pytest.raises(otp.OtpError) as refused:
        otp.request_code(phone, ip)
    return refused.value.retry_after


def test_waits_per_phone_grow_but_never_lock_the_owner_out() -> None:
    """Someone asks for codes for another person's number from many addresses: each
    code waits twice as long as the one before, up to 30 minutes, never a daily wall."""
    waits = []
    for i in range(10):
        otp.request_code("13900000009", f"10.0.1.{i}")
        waits.append(wait_of("13900000009", f"10.0.2.{i}"))
        _age_codes(waits[-1] / 60)
    assert [round(w / 60) for w in waits] == [1, 2, 4, 8, 16, 30, 30, 30, 30, 30]
    assert OneTimeCode.objects.filter(phone="13900000009").count() == 10
    otp.request_code("13900000009", "10.0.9.9")  # the owner, after the wait


def test_a_login_resets_the_phone_waits() -> None:
    for _ in range(4):
        otp.request_code(PHONE, None)
        _age_codes(10)
    otp.check_code(PHONE, last_code(PHONE))
    otp.request_code(PHONE, None)  # the first since the login: no wait
    assert round(wait_of(PHONE, None) / 60) == 1


def test_waits_per_address_grow_past_ten_codes_a_day() -> None:
    for i in range(otp.ADDRESS_FREE_CODES):
        otp.request_code(f"1390000{i:04d}", "10.9.9.9")
        assert 0 < wait_of(f"1391111{i:04d}", "10.9.9.9") <= 61
        _age_codes(1.05)
    otp.request_code("13922220000", "10.9.9.9")
    assert 119 <= wait_of("13922220001", "10.9.9.9") <= 121
    _age_codes(2.05)
    otp.request_code("13922220001", "10.9.9.9")
    assert 239 <= wait_of("13922220002", "10.9.9.9") <= 241


def test_gateway_down_is_a_clear_error_and_does_not_block(settings) -> None:
    settings.LINGE_SMS_BACKEND = "http"
    settings.LINGE_SMS_URL = "http://127.0.0.1:9/none"
    with pytest.raises(otp.OtpError, match="短信发送失败"):
        otp.request_code("13900000008", None)
    assert not OneTimeCode.objects.exists()


def test_codes_stored_before_are_masked_by_the_migration() -> None:
    import importlib

    from django.apps import apps
    from django.utils import timezone

    from linge.notify.models import Channel, Delivery

    migration = importlib.import_module(
        "linge.notify.migrations.0005_mask_codes_in_stored_deliveries")
    old = Delivery.objects.create(key="otp:9", channel=Channel.SMS, phone=PHONE, backend="http",
                                  text="【岭格】您的验证码是 219388，5 分钟内有效。", at=timezone.now())
    other = Delivery.objects.create(key="12:3:sms", channel=Channel.SMS, phone=PHONE,
                                    backend="http", text="案件 20261102-000123 已受理",
                                    at=timezone.now())
    migration.mask(apps, None)
    old.refresh_from_db()
    other.refresh_from_db()
    assert old.text == "【岭格】您的验证码是 ******，5 分钟内有效。"
    assert other.text == "案件 20261102-000123 已受理"
