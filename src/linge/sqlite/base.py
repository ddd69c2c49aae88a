"""Django's SQLite backend with writers that queue in the kernel instead of sleeping.

SQLite lets one writer in at a time. A connection that finds the write lock taken
retries on a timer (`sqlite3_busy_timeout`: it sleeps 1, 2, 5, 10, 15, 20, 25… ms
between tries), so a waiter keeps sleeping after the lock is free, and under load a
newcomer can take the lock in that gap again and again: with two gunicorn processes
and eight clients, reports spent more time asleep than writing.

Every write transaction (`BEGIN IMMEDIATE`, settings) and every write statement run
outside one first takes an exclusive `flock` on `<database>-writer.lock`, and lets go
after its COMMIT or ROLLBACK. A waiter blocks in the kernel and wakes the moment the
holder lets go; it then finds SQLite's own lock free. SQLite's lock stays the one that
guards the data: a writer that does not take the file lock (a `sqlite3` shell, a
statement this wrapper does not recognise as a write) waits on SQLite's timer as
before, and the kernel drops the lock of a process that dies. Each Django connection
(one per thread) opens the file itself, so threads of one process queue too.
"""

from __future__ import annotations

import fcntl
import os

from django.db.backends.sqlite3 import base

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "ANALYZE")


class WriterLock:
    """An exclusive flock on one open file: taken and released by one connection."""

    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        self.held = False

    def acquire(self) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        self.held = True

    def release(self) -> None:
        if self.held:
            self.held = False
            fcntl.flock(self.fd, fcntl.LOCK_UN)

    def close(self) -> None:
        self.release()
        os.close(self.fd)

    def __enter__(self) -> WriterLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info) -> None:
        self.release()


class CursorWrapper(base.SQLiteCursorWrapper):
    writer_lock: WriterLock | None = None
    _returned: list | None = None  # the rows of a write that returned some, read already

    def _alone(self) -> bool:
        """Whether a write now would be a transaction of its own (so takes the lock)."""
        lock = self.writer_lock
        return lock is not None and not lock.held and not self.connection.in_transaction

    def execute(self, query, params=None):
        self._returned = None
        if not (self._alone() and _writes(query)):
            return super().execute(query, params)
        with self.writer_lock:
            super().execute(query, params)
            if self.description is not None:
                # INSERT … RETURNING: SQLite finishes the statement, commits it and lets
                # go of its own lock only once the last row is read. Read them all under
                # the file lock, or the next writer finds SQLite's lock still taken and
                # sleeps on its timer.
                self._returned = super().fetchall()
            return self

    def fetchone(self):
        if self._returned is None:
            return super().fetchone()
        return self._returned.pop(0) if self._returned else None

    def fetchmany(self, size=None):
        if self._returned is None:
            return super().fetchmany(self.arraysize if size is None else size)
        size = self.arraysize if size is None else size
        rows, self._returned = self._returned[:size], self._returned[size:]
        return rows

    def fetchall(self):
        if self._returned is None:
            return super().fetchall()
        rows, self._returned = self._returned, []
        return rows

    def __next__(self):
        if self._returned is None:
            return super().__next__()
        if not self._returned:
            raise StopIteration
        return self._returned.pop(0)

    def executemany(self, query, param_list):
        if not self._alone():
            return super().executemany(query, param_list)
        with self.writer_lock:
            return super().executemany(query, param_list)


def _writes(query: str) -> bool:
    return query.lstrip()[:7].upper().startswith(WRITES)


class DatabaseCreation(base.DatabaseCreation):
    def _destroy_test_db(self, test_database_name, verbosity):
        super()._destroy_test_db(test_database_name, verbosity)
        if not self.is_in_memory_db(test_database_name):
            try:
                os.unlink(f"{test_database_name}-writer.lock")
            except FileNotFoundError:
                pass


class DatabaseWrapper(base.DatabaseWrapper):
    creation_class = DatabaseCreation
    writer_lock: WriterLock | None = None

    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        if self.writer_lock is not None:
            self.writer_lock.close()
            self.writer_lock = None
        if not self.is_in_memory_db():
            self.writer_lock = WriterLock(f"{self.settings_dict['NAME']}-writer.lock")
        return connection

    def create_cursor(self, name=None):
        cursor = self.connection.cursor(factory=CursorWrapper)
        cursor.writer_lock = self.writer_lock
        return cursor

    def _start_transaction_under_autocommit(self):
        lock = self.writer_lock
        if lock is None or lock.held:
            return super()._start_transaction_under_autocommit()
        lock.acquire()
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            lock.release()
            raise

    def _commit(self):
        try:
            return super()._commit()
        finally:
            self._let_go()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._let_go()

    def _close(self):
        try:
            return super()._close()
        finally:
            if self.writer_lock is not None:
                self.writer_lock.close()
                self.writer_lock = None

    def _let_go(self) -> None:
        # After COMMIT or ROLLBACK, unless the statement failed and left the transaction
        # open (a busy COMMIT): then the lock stays with it until it ends.
        if self.writer_lock is not None and not (self.connection and
                                                 self.connection.in_transaction):
            self.writer_lock.release()

