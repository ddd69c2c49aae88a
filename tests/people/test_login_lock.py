"""One login lock for every way in: the workbench's form, the admin's form, and any
`authenticate()` (what API tokens and scripts will call). Counted per username and
address, per username from any address, per address for any username. Staff sessions
end after a working day without a request; residents keep theirs."""

from __future__ import annotations

import time
from datetime import timedelta

from django.contrib.auth import authenticate
from django.contrib.sessions.models import Session
from django.test import Client, RequestFactory, override_settings
from django.utils import timezone

from linge.people.models import LoginAttempt
from tests.conftest import PASSWORD, City


def work_login(client: Client, username: str, password: str):
    return client.post("/work/login/", {"username": username, "password": password})


def admin_login(client: Client, username: str, password: str):
    return client.post("/admin/login/?next=/admin/",
                       {"username": username, "password": password, "next": "/admin/"})


@override_settings(LINGE_LOGIN_MAX_FAILURES=5)
def test_the_admin_login_is_locked_after_five_failures(city: City) -> None:
    client = Client(REMOTE_ADDR="198.51.100.1")
    for _ in range(5):
        assert admin_login(client, "admin", "wrong").status_code == 200
    response = admin_login(client, "admin", PASSWORD)
    body = response.content.decode()
    assert response.status_code == 200 and "登录失败次数过多" in body and "分钟后再试" in body
    assert "_auth_user_id" not in client.session
    assert LoginAttempt.objects.filter(username="admin", succeeded=False).count() == 5
    # From another address the administrator still gets in.
    other = Client(REMOTE_ADDR="198.51.100.2")
    assert admin_login(other, "admin", PASSWORD)["Location"] == "/admin/"


@override_settings(LINGE_LOGIN_MAX_FAILURES=5)
def test_failures_at_the_admin_and_the_workbench_add_up(city: City) -> None:
    client = Client(REMOTE_ADDR="198.51.100.3")
    for _ in range(3):
        admin_login(client, "admin", "wrong")
    for _ in range(2):
        work_login(client, "admin", "wrong")
    assert "登录失败次数过多" in work_login(client, "admin", PASSWORD).content.decode()
    assert "登录失败次数过多" in admin_login(client, "admin", PASSWORD).content.decode()


@override_settings(LINGE_LOGIN_MAX_FAILURES=5)
def test_authenticate_itself_refuses_a_locked_login(city: City) -> None:
    """The backend holds the lock: a way in that forgets the form's check is still locked."""
    request = RequestFactory().post("/anything", REMOTE_ADDR="198.51.100.4")
    for _ in range(5):
        assert authenticate(request, username="full_time", password="wrong") is None
    assert authenticate(request, username="full_time", password=PASSWORD) is None
    elsewhere = RequestFactory().post("/anything", REMOTE_ADDR="198.51.100.5")
    assert authenticate(elsewhere, username="full_time", password=PASSWORD) is not None


@override_settings(LINGE_LOGIN_MAX_FAILURES=5, LINGE_LOGIN_ADDRESS_MAX_FAILURES=20)
def test_one_address_trying_forty_usernames_is_locked(city: City) -> None:
    client = Client(REMOTE_ADDR="203.0.113.50")
    for i in range(20):
        response = work_login(client, f"guess{i}", "123456")
        assert "登录失败次数过多" not in response.content.decode()
    # The next ten meet the address lock; past 30 posts in ten minutes the address
    # throttle (clients.limits.LOGINS) answers 429 before the form is even read.
    for i in range(20, 30):
        body = work_login(client, f"guess{i}", "123456").content.decode()
        assert "该网络地址登录失败次数过多" in body
    for i in range(30, 40):
        response = work_login(client, f"guess{i}", "123456")
        assert response.status_code == 429
        assert "操作过于频繁" in response.content.decode()
    # Even a real account with its right password waits from that address...
    right = work_login(client, "full_time", PASSWORD)
    assert right.status_code == 429 and "_auth_user_id" not in client.session
    # ...and only 20 failures were counted: refused tries do not lengthen the lock.
    assert LoginAttempt.objects.filter(ip="203.0.113.50").count() == 20
    # Another address is not affected.
    assert work_login(Client(REMOTE_ADDR="203.0.113.51"), "full_time", PASSWORD).status_code == 302


@override_settings(LINGE_LOGIN_MAX_FAILURES=5, LINGE_LOGIN_ACCOUNT_MAX_FAILURES=20,
                   LINGE_LOGIN_LOCK_MINUTES=15)
def test_one_account_guessed_from_many_addresses_is_locked(city: City) -> None:
    for i in range(20):
        client = Client(REMOTE_ADDR=f"192.0.2.{i + 1}")
        for _ in range(1):
            work_login(client, "dispatcher", f"guess{i}")
    fresh = Client(REMOTE_ADDR="192.0.2.200")
    body = work_login(fresh, "dispatcher", PASSWORD).content.decode()
    assert "登录失败次数过多，该账号已暂时锁定" in body
    assert "登录失败次数过多" in admin_login(fresh, "dispatcher", PASSWORD).content.decode()
    # Other accounts log in from any of those addresses.
    assert work_login(Client(REMOTE_ADDR="192.0.2.1"), "full_time", PASSWORD).status_code == 302
    # When the window has passed the account opens again.
    LoginAttempt.objects.update(at=timezone.now() - timedelta(minutes=16))
    assert work_login(fresh, "dispatcher", PASSWORD).status_code == 302


@override_settings(LINGE_STAFF_SESSION_HOURS=10)
def test_a_staff_session_lasts_a_working_day_a_residents_two_weeks(city: City) -> None:
    staff = Client()
    assert work_login(staff, "full_time", PASSWORD).status_code == 302
    assert staff.session.get_expiry_age() == 10 * 3600
    row = Session.objects.get(session_key=staff.session.session_key)
    left = (row.expire_date - timezone.now()).total_seconds()
    assert 10 * 3600 - 60 < left <= 10 * 3600
    assert staff.cookies["sessionid"]["max-age"] == 10 * 3600

    admin = Client()
    assert admin_login(admin, "admin", PASSWORD).status_code == 302
    assert admin.get("/admin/").status_code == 200
    assert admin.session.get_expiry_age() == 10 * 3600

    resident = Client()
    resident.force_login(city["resident"])
    resident.get("/mine")
    assert resident.session.get_expiry_age() == 14 * 24 * 3600


@override_settings(LINGE_STAFF_SESSION_HOURS=10)
def test_a_staff_session_idle_past_its_expiry_is_gone(city: City) -> None:
    staff = Client()
    work_login(staff, "full_time", PASSWORD)
    assert staff.get("/work/").status_code == 200
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    assert staff.get("/work/").status_code == 302


@override_settings(LINGE_STAFF_SESSION_HOURS=10)
def test_a_staff_session_slides_with_use(city: City, monkeypatch) -> None:
    staff = Client()
    work_login(staff, "full_time", PASSWORD)
    first = Session.objects.get().expire_date
    later = time.time() + 600
    monkeypatch.setattr(time, "time", lambda: later)
    assert staff.get("/work/").status_code == 200
    assert Session.objects.get().expire_date > first


def test_a_staff_session_ends_with_its_user_deactivated_or_removed(
        client: Client, city: City) -> None:
    worker = city["full_time"]
    assert work_login(client, worker.username, PASSWORD).status_code == 302
    stored = Session.objects.get().get_decoded()
    assert stored["_auth_user_backend"] == "linge.people.auth.LockingBackend"
    assert client.get("/work/").status_code == 200
    worker.is_active = False
    worker.save()
    assert client.get("/work/").status_code == 302  # back to the login form
    worker.is_active = True
    worker.save()
    assert work_login(client, worker.username, PASSWORD).status_code == 302
    assert client.get("/work/").status_code == 200
    session = Session.objects.get(session_key=client.cookies["sessionid"].value)
    data = session.get_decoded()
    data["_auth_user_id"] = "999999"  # a user since removed
    session.session_data = Session.objects.encode(data)
    session.save()
    assert client.get("/work/").status_code == 302
