"""resident.otp: phone + one-time code; limits per phone, per IP, per code."""

from __future__ import annotations

from datetime import timedelta

import pytest
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

    assert Delivery.objects.get(key=f"otp:{row.pk}").phone == PHONE


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
    with pytest.raises(otp.OtpError, match="频繁"):
        otp.request_code(PHONE, "10.0.0.2")
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


def test_daily_cap_per_phone() -> None:
    for _ in range(otp.MAX_CODES_PER_DAY):
        otp.request_code("13900000009", None)
        OneTimeCode.objects.update(created_at=timezone.now() - timedelta(minutes=2))
    with pytest.raises(otp.OtpError, match="上限"):
        otp.request_code("13900000009", None)


def test_gateway_down_is_a_clear_error_and_does_not_block(settings) -> None:
    settings.LINGE_SMS_BACKEND = "http"
    settings.LINGE_SMS_URL = "http://127.0.0.1:9/none"
    with pytest.raises(otp.OtpError, match="短信发送失败"):
        otp.request_code("13900000008", None)
    assert not OneTimeCode.objects.exists()
