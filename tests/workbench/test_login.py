"""/work/login/: username and password, locked after repeated failures."""

from __future__ import annotations

from datetime import timedelta
from ipaddress import ip_network

from django.test import Client, override_settings
from django.utils import timezone

from linge.people.models import LoginAttempt
from tests.conftest import PASSWORD, City


def post(client: Client, username: str, password: str):
    return client.post("/work/login/", {"username": username, "password": password})


def test_login_and_logout(client: Client, city: City) -> None:
    assert client.get("/work/login/").status_code == 200
    response = post(client, "full_time", PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/work/"
    assert client.get("/work/").status_code == 200
    response = client.post("/work/logout/")
    assert response.status_code == 302
    assert client.get("/work/").status_code == 302


def test_anonymous_is_sent_to_login(client: Client, city: City) -> None:
    response = client.get("/work/?tab=done")
    assert response.status_code == 302
    assert response["Location"].startswith("/work/login/?next=/work/")


def test_resident_may_not_use_the_workbench(client: Client, city: City) -> None:
    client.force_login(city["resident"])
    assert client.get("/work/").status_code == 403


@override_settings(LINGE_LOGIN_MAX_FAILURES=5, LINGE_LOGIN_LOCK_MINUTES=15)
def test_five_failures_lock_the_login_for_fifteen_minutes(client: Client, city: City) -> None:
    for _ in range(5):
        response = post(client, "full_time", "wrong")
        assert response.status_code == 200
        assert "用户名和密码" in response.content.decode()
    # Locked now: even the right password is refused, with a clear message.
    response = post(client, "full_time", PASSWORD)
    body = response.content.decode()
    assert response.status_code == 200 and "登录失败次数过多" in body and "分钟后再试" in body
    assert "_auth_user_id" not in client.session
    assert LoginAttempt.objects.filter(username="full_time", succeeded=False).count() == 5
    # Another username from the same address is not locked.
    assert post(client, "part_time", PASSWORD).status_code == 302
    client.logout()
    # Fifteen minutes later it opens again.
    LoginAttempt.objects.update(at=timezone.now() - timedelta(minutes=16))
    assert post(client, "full_time", PASSWORD).status_code == 302
    assert not LoginAttempt.objects.filter(username="full_time", succeeded=False).exists()


@override_settings(LINGE_LOGIN_MAX_FAILURES=5)
def test_the_lock_is_per_address(city: City) -> None:
    one = Client(REMOTE_ADDR="10.0.0.1")
    for _ in range(5):
        post(one, "full_time", "wrong")
    assert "登录失败次数过多" in post(one, "full_time", PASSWORD).content.decode()
    other = Client(REMOTE_ADDR="10.0.0.2")
    assert post(other, "full_time", PASSWORD).status_code == 302


@override_settings(LINGE_LOGIN_MAX_FAILURES=5, LINGE_TRUSTED_PROXIES=[])
def test_a_forged_forwarded_header_does_not_dodge_the_lock(city: City) -> None:
    client = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(5):
        post(client, "full_time", "wrong")
    client.defaults["HTTP_X_FORWARDED_FOR"] = "198.51.100.77"
    assert "登录失败次数过多" in post(client, "full_time", PASSWORD).content.decode()


@override_settings(LINGE_LOGIN_MAX_FAILURES=5,
                   LINGE_TRUSTED_PROXIES=[ip_network("10.0.0.0/24")])
def test_behind_a_trusted_proxy_the_lock_is_per_client(city: City) -> None:
    guesser = Client(REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="198.51.100.7")
    for _ in range(5):
        post(guesser, "full_time", "wrong")
    assert "登录失败次数过多" in post(guesser, "full_time", PASSWORD).content.decode()
    assert set(LoginAttempt.objects.values_list("ip", flat=True)) == {"198.51.100.7"}
    # The worker at the next desk comes through the same proxy and is not locked out.
    colleague = Client(REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="198.51.100.8")
    assert post(colleague, "full_time", PASSWORD).status_code == 302


def test_a_success_clears_the_failures(client: Client, city: City) -> None:
    for _ in range(3):
        post(client, "full_time", "wrong")
    assert post(client, "full_time", PASSWORD).status_code == 302
    assert not LoginAttempt.objects.filter(succeeded=False).exists()
