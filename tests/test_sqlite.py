"""linge.sqlite: writers queue on `<database>-writer.lock` before they take SQLite's lock."""

from __future__ import annotations

import fcntl
import os
import threading

import pytest
from django.db import connection, transaction

from linge.areas.models import Area, Level

pytestmark = [pytest.mark.database("sqlite"), pytest.mark.django_db(transaction=True)]


def lock_path() -> str:
    return f"{connection.settings_dict['NAME']}-writer.lock"


def held_elsewhere() -> bool:
    """Whether another open file could not take the writer lock just now."""
    fd = os.open(lock_path(), os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing the file lets go of a lock taken just now
    return False


def in_thread(work) -> threading.Thread:
    def run() -> None:
        try:
            work()
        finally:
            connection.close()  # the thread's own connection

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_a_transaction_holds_the_file_lock_until_it_commits() -> None:
    connection.ensure_connection()
    assert not held_elsewhere()
    with transaction.atomic():
        Area.objects.create(code="331081999", name="测试镇", level=Level.TOWN)
        assert held_elsewhere()
    assert not held_elsewhere()
    assert Area.objects.filter(code="331081999").exists()


def test_a_rolled_back_transaction_lets_go_too() -> None:
    connection.ensure_connection()
    with pytest.raises(RuntimeError), transaction.atomic():
        Area.objects.create(code="331081998", name="测试镇", level=Level.TOWN)
        assert held_elsewhere()
        raise RuntimeError("refused")
    assert not held_elsewhere()
    assert not Area.objects.filter(code="331081998").exists()


def test_a_write_outside_a_transaction_waits_for_the_file_lock() -> None:
    town = Area.objects.create(code="331081997", name="旧名", level=Level.TOWN)
    fd = os.open(lock_path(), os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        writer = in_thread(lambda: Area.objects.filter(pk=town.pk).update(name="新名"))
        reader_saw = []
        reader = in_thread(lambda: reader_saw.append(Area.objects.get(pk=town.pk).name))
        reader.join(10)
        assert reader_saw == ["旧名"]  # reads never queue
        writer.join(0.5)
        assert writer.is_alive()  # SQLite's own lock is free: only the file lock holds it
    finally:
        os.close(fd)
    writer.join(10)
    assert not writer.is_alive()
    assert Area.objects.get(pk=town.pk).name == "新名"


def test_threads_writing_at_once_lose_nothing() -> None:
    town = Area.objects.create(code="331081996", name="计数", level=Level.TOWN, households=0)

    def bump() -> None:
        for _ in range(25):
            with transaction.atomic():
                area = Area.objects.get(pk=town.pk)
                Area.objects.filter(pk=town.pk).update(households=area.households + 1)

    threads = [in_thread(bump) for _ in range(4)]
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)
    assert Area.objects.get(pk=town.pk).households == 100


def test_a_write_that_returns_rows_is_finished_before_the_file_lock_goes() -> None:
    """Outside a transaction, SQLite holds its own lock until the last row of an INSERT …
    RETURNING is read: the rows are read under the file lock, so the next writer finds
    SQLite's lock free the moment it gets the file lock."""
    import sqlite3

    connection.ensure_connection()
    with connection.cursor() as cursor:
        for expected in (1, 2):
            cursor.execute(
                "INSERT INTO cases_dailycounter (day, last) VALUES ('2026-12-01', 1) "
                "ON CONFLICT (day) DO UPDATE SET last = cases_dailycounter.last + 1 "
                "RETURNING last")
            assert not held_elsewhere()
            other = sqlite3.connect(connection.settings_dict["NAME"], timeout=0)
            try:
                other.execute("BEGIN IMMEDIATE")  # "database is locked" if still held
                other.rollback()
            finally:
                other.close()
            assert cursor.fetchone() == (expected,)
            assert cursor.fetchone() is None
