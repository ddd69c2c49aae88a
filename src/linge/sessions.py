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

import copy

from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError, UpdateError
from django.db import DatabaseError, connections, router, transaction
from django.utils.crypto import get_random_string


class SessionStore(db.SessionStore):
    # (key, data) as last written by this object in a transaction known to have
    # committed (or in no transaction): saving the same again writes nothing.
    _written: tuple[str, dict] | None = None
    # The key last written inside a transaction whose commit has not been seen: if it
    # rolled back, the row may be missing and the next save must insert it.
    _unconfirmed: str | None = None

    def _get_new_session_key(self) -> str:
        return get_random_string(32, VALID_KEY_CHARS)

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None:
            return self.create()
        data = self._get_session(no_load=must_create)
        if not must_create and self._written == (self.session_key, data):
            return None
        using = router.db_for_write(self.model)
        obj = self.create_model_instance(data)
        upsert = not must_create and self._unconfirmed == self.session_key
        try:
            written = _write(obj, using, insert=must_create, upsert=upsert)
        except DatabaseError:
            if not must_create:
                raise UpdateError from None
            raise
        if not written:
            raise CreateError if must_create else UpdateError
        self._remember(using, (self.session_key, copy.deepcopy(data)))
        return None

    def _remember(self, using: str, written: tuple[str, dict]) -> None:
        if not connections[using].in_atomic_block:
            self._written, self._unconfirmed = written, None
            return
        self._written, self._unconfirmed = None, written[0]

        def committed() -> None:
            if self._unconfirmed == written[0]:
                self._written, self._unconfirmed = written, None

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
