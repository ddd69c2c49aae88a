"""GET/POST /login: the page around resident.otp; logs the resident in."""

from __future__ import annotations

import pytest

from linge.people.models import User
from tests.resident.conftest import last_code

pytestmark = pytest.mark.django_db
PHONE = "13912345678"


def test_login_with_a_code(client) -> None:
    assert client.get("/login").status_code == 200
    sent = client.post("/login", {"phone": PHONE, "action": "send"}).content.decode()
    assert "139****5678" in sent and 'name="code"' in sent
    response = client.post("/login", {"phone": PHONE, "code": last_code(PHONE),
                                      "action": "verify", "next": "/report"})
    assert response.status_code == 302 and response["Location"] == "/report"
    user = User.objects.get(phone=PHONE)
    assert int(client.session["_auth_user_id"]) == user.pk


def test_next_must_stay_on_the_site(client) -> None:
    client.post("/login", {"phone": PHONE, "action": "send"})
    response = client.post("/login", {"phone": PHONE, "code": last_code(PHONE),
                                      "action": "verify", "next": "https://evil.example/"})
    assert response["Location"] == "/mine"


def test_six_wrong_codes_lock_and_nothing_is_created(client) -> None:
    client.post("/login", {"phone": PHONE, "action": "send"})
    right = last_code(PHONE)
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(5):
        client.post("/login", {"phone": PHONE, "code": wrong, "action": "verify"})
    response = client.post("/login", {"phone": PHONE, "code": right, "action": "verify"})
    assert response.status_code == 400 and "锁定" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert not User.objects.filter(phone=PHONE).exists()


def test_a_second_code_within_a_minute_is_refused(client) -> None:
    client.post("/login", {"phone": PHONE, "action": "send"})
    response = client.post("/login", {"phone": PHONE, "action": "send"})
    assert response.status_code == 429 and "1 分钟后再试" in response.content.decode()
    assert 0 < int(response["Retry-After"]) <= 61


def test_logout_keeps_nothing_of_the_resident(client, city) -> None:
    from linge.resident.qr import grid_qr_path

    client.get(grid_qr_path(city.grid.code))  # the scanned grid, kept in a cookie
    assert client.cookies["linge_qr"].value
    client.force_login(city["resident"])
    assert client.post("/logout").status_code == 302
    assert "_auth_user_id" not in client.session
    assert client.cookies["linge_qr"].value == ""
