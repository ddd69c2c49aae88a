"""Rate limits: counted in the database with one atomic upsert, so every app process
counts against the same number; past a limit pages answer 429 with Retry-After and a
Chinese message, and nothing is made."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from django.db import connection
from django.urls import reverse

from linge.cases.models import Case
from linge.clients import limits
from linge.clients.models import Hit

LIMIT = limits.Limit("test", 3, 60)


@pytest.mark.django_db
def test_counts_then_refuses_until_the_window_ends() -> None:
    now = 1_800_000_010.0  # 10 s into a minute
    assert [limits.count(LIMIT, "10.0.0.1", now) for _ in range(3)] == [1, 2, 3]
    with pytest.raises(limits.Throttled) as over:
        limits.count(LIMIT, "10.0.0.1", now)
    assert over.value.retry_after == 50
    assert limits.count(LIMIT, "10.0.0.2", now) == 1  # someone else
    assert limits.count(LIMIT, "10.0.0.1", now + 50) == 1  # the next window
    assert limits.count(LIMIT, None, now) == 0  # no address: not counted


@pytest.mark.django_db
def test_identifiers_are_stored_only_as_keyed_hashes() -> None:
    limits.count(LIMIT, "13900000001")
    (row,) = Hit.objects.all()
    assert "13900000001" not in row.key and len(row.key) == 64


@pytest.mark.django_db
def test_sweep_removes_ended_windows() -> None:
    limits.count(LIMIT, "a", 1_800_000_000.0)
    limits.count(LIMIT, "a", 1_800_000_100.0)
    assert limits.sweep(1_800_000_090.0) == 1 and Hit.objects.count() == 1


@pytest.mark.django_db
def test_the_worker_deletes_ended_windows() -> None:
    from linge.notify import worker

    now = time.time()
    limits.count(LIMIT, "a", now - 3600)  # a window that ended an hour ago
    limits.count(LIMIT, "a", now)
    worker.run_once()
    assert list(Hit.objects.values_list("count", flat=True)) == [1]
    assert Hit.objects.get().expires > now


@pytest.mark.django_db
def test_counting_deletes_nothing() -> None:
    """However many counts, the ended windows stay until the worker's pass: a request
    that counts pays for its count only."""
    limits.count(LIMIT, "a", 1_800_000_000.0)
    for second in range(2000):
        limits.count(limits.Limit("many", 10_000, 60), "b", 1_800_000_100.0 + second / 100)
    assert Hit.objects.filter(expires__lte=1_800_000_060).count() == 1


@pytest.mark.database("postgresql")
@pytest.mark.django_db
def test_on_postgresql_the_counters_skip_the_write_ahead_log() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT relpersistence FROM pg_class WHERE relname = %s",
                       [Hit._meta.db_table])
        assert cursor.fetchone() == ("u",)  # unlogged; "p" is an ordinary table


@pytest.mark.django_db(transaction=True)
def test_concurrent_processes_lose_no_count() -> None:
    """Eight connections (as eight app processes would hold) count at once: the total is
    exact, on SQLite and on PostgreSQL."""
    limit = limits.Limit("race", 10_000, 3600)
    errors = []

    def hammer() -> None:
        try:
            for _ in range(25):
                limits.count(limit, "10.0.0.9", 1_800_000_000.0)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert limits.used(limit, "10.0.0.9", 1_800_000_000.0) == 200


# The pages.

def report_form(city) -> dict:
    return {"submit_key": uuid.uuid4().hex, "category": city.category.pk,
            "description": "村口垃圾桶满了", "grid": city.grid.code}


@pytest.mark.django_db
def test_anonymous_reports_from_one_address(client, city, media) -> None:
    for _ in range(10):
        assert client.post(reverse("resident:report"), report_form(city)).status_code == 302
    response = client.post(reverse("resident:report"), report_form(city),
                           REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 429 and 0 < int(response["Retry-After"]) <= 600
    assert "操作过于频繁" in response.content.decode()
    assert Case.objects.count() == 10
    other = client.post(reverse("resident:report"), report_form(city), REMOTE_ADDR="10.1.1.1")
    assert other.status_code == 302  # another address is not slowed


@pytest.mark.django_db
def test_reports_per_phone(client, city, media) -> None:
    client.force_login(city["resident"])
    for _ in range(5):
        client.post(reverse("resident:report"), report_form(city), REMOTE_ADDR=f"10.0.0.{_}")
    response = client.post(reverse("resident:report"), report_form(city),
                           HTTP_ACCEPT="application/json", REMOTE_ADDR="10.0.0.99")
    assert response.status_code == 429 and "频繁" in response.json()["error"]
    assert Case.objects.count() == 5


@pytest.mark.django_db
def test_tracking_code_guesses(client, city) -> None:
    statuses = [client.post(reverse("resident:track"), {"code": f"ABCD{i:04d}"}).status_code
                for i in range(11)]
    assert statuses == [400] * 10 + [429]


@pytest.mark.django_db
def test_staff_logins_per_address(client, city) -> None:
    for i in range(30):
        client.post(reverse("workbench:login"), {"username": f"nobody{i}", "password": "x"})
    response = client.post(reverse("workbench:login"),
                           {"username": "dispatcher", "password": "x"})
    assert response.status_code == 429 and response["Retry-After"]


@pytest.mark.django_db
def test_resident_code_checks_per_address(client, city) -> None:
    for i in range(30):
        client.post(reverse("resident:login"), {"phone": f"1390000{i:04d}", "code": "123456"})
    response = client.post(reverse("resident:login"), {"phone": "13900000001", "code": "1"})
    assert response.status_code == 429
