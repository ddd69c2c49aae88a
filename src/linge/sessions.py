"""Database sessions that cost one statement to write, and none when nothing changed.

Django's database session store looks a new key up before using it and wraps every
save in a transaction. The key is 32 random characters (about 165 bits): the look-up
never finds anything, and a collision would still be caught, because the key is the
table's primary key: the INSERT skips a taken key (ON CONFLICT DO NOTHING) and
`create()` draws again. A single INSERT or UPDATE is atomic on its own, so outside a
transaction it needs no BEGIN/COMMIT around it (on SQLite those are two more
statements, and BEGIN IMMEDIATE queues for the writer lock). Inside a caller's
transaction it needs no savepoint either: neither statement fails on a taken key, so
the caller's transaction is never broken by one.

A session is written once per request at most: a view that saves it inside its own
transaction (the resident's report saves the case and the session that follows it
together, both or neither) leaves the session middleware nothing to write, unless the
data changed again since, or the transaction rolled back; then the middleware's save
writes the row whether or not it is there (an upsert on the key).
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError, UpdateError
from django.contrib.sessions.models import Session
from django.db import DatabaseError, connections, router, transaction
from django.utils import timezone
from django.utils.crypto import get_random_string

from linge.prepared import Prepared

# The session of every request that carries one, read by a query compiled once; the
# markers stand for its key and the time now.
_LIVE_SESSION = Prepared(
    lambda key, now: Session.objects.filter(session_key=key, expire_date__gt=now)[:1],
    "\x00session-key", datetime(1901, 2, 3, 4, 5, 6, 7, UTC))


class SessionStore(db.SessionStore):
    # (key, serialized data) as last written by this object in a transaction known to
    # have committed, or in none, or as read again by `reload()`: saving the same again
    # writes nothing. Serialized, not the dict, so 1 and True differ as they do stored.
    _written: tuple[str, bytes] | None = None
    # The latest write inside a transaction whose commit has not been seen: if it rolled
    # back, the row may be missing or old and the next save must write it either way.
    _pending: tuple[str, bytes] | None = None

    def _get_session_from_db(self) -> Session | None:
        found = _LIVE_SESSION.first(self.session_key, timezone.now())
        if found is None:
            self._session_key = None
        return found

    def _get_new_session_key(self) -> str:
        return get_random_string(32, VALID_KEY_CHARS)

    def _state(self, data: dict) -> tuple[str, bytes]:
        return self.session_key, self.serializer().dumps(data)

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None:
            return self.create()
        data = self._get_session(no_load=must_create)
        state = self._state(data)
        if not must_create and self._written == state:
            return None
        using = router.db_for_write(self.model)
        obj = self.create_model_instance(data)
        upsert = not must_create and self._pending is not None and (
            self._pending[0] == self.session_key)
        try:
            written = _write(obj, using, insert=must_create, upsert=upsert)
        except DatabaseError:
            if not must_create:
                raise UpdateError from None
            raise
        if not written:
            raise CreateError if must_create else UpdateError
        self._remember(using, state)
        return None

    def reload(self) -> None:
        """Read the stored data again, dropping this request's unsaved changes: another
        request of the same browser may have written the row since this one read it."""
        self._session_cache = self.load() if self.session_key else {}
        self._pending = None
        if self.session_key is not None:  # load() forgets a key whose row is gone
            self._written = self._state(self._session_cache)

    def _remember(self, using: str, state: tuple[str, bytes]) -> None:
        if not connections[using].in_atomic_block:
            self._written, self._pending = state, None
            return
        self._written, self._pending = None, state

        def committed() -> None:
            if self._pending is state:  # not a later write of the same transaction
                self._written, self._pending = state, None

        transaction.on_commit(committed, using=using)


def _write(obj, using: str, *, insert: bool, upsert: bool = False) -> bool:
    """The session row in one plain statement (`Model.save()` spent more on its own
    machinery than the database on the row; sessions carry no signals of ours).
    False when an insert found the key taken, or an update found no row."""
    connection = connections[using]
    q = connection.ops.quote_name
    table = q(obj._meta.db_table)
    key, data, expires = q("session_key"), q("session_data"), q("expire_date")
    values = [obj.session_key, obj.session_data,
              connection.ops.adapt_datetimefield_value(obj.expire_date)]
    with connection.cursor() as cursor:
        if insert or upsert:
            on_conflict = (f"DO UPDATE SET {data} = EXCLUDED.{data}, "
                           f"{expires} = EXCLUDED.{expires}" if upsert else "DO NOTHING")
            cursor.execute(f"INSERT INTO {table} ({key}, {data}, {expires}) "
                           f"VALUES (%s, %s, %s) ON CONFLICT ({key}) {on_conflict}", values)
        else:
            cursor.execute(f"UPDATE {table} SET {data} = %s, {expires} = %s "
                           f"WHERE {key} = %s", values[1:] + values[:1])
        return cursor.rowcount == 1
