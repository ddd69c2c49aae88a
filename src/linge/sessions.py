"""Database sessions that cost one statement to write instead of four.

Django's database session store looks a new key up before using it and wraps every
save in a transaction. The key is 32 random characters (about 165 bits): the look-up
never finds anything, and a collision would still be caught, because the key is the
table's primary key and `create()` draws again on CreateError. A single INSERT or
UPDATE is atomic on its own, so outside a transaction it needs no BEGIN/COMMIT around
it (on SQLite those are two more statements, and BEGIN IMMEDIATE queues for the
writer lock). Inside a transaction the savepoint is kept, so a failed insert cannot
break the caller's transaction.
"""

from __future__ import annotations

from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError, UpdateError
from django.db import DatabaseError, IntegrityError, connections, router
from django.utils.crypto import get_random_string


class SessionStore(db.SessionStore):
    def _get_new_session_key(self) -> str:
        return get_random_string(32, VALID_KEY_CHARS)

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None:
            return self.create()
        using = router.db_for_write(self.model)
        if connections[using].in_atomic_block:
            return super().save(must_create=must_create)
        obj = self.create_model_instance(self._get_session(no_load=must_create))
        try:
            _write(obj, using, insert=must_create)
        except IntegrityError:
            if must_create:
                raise CreateError from None
            raise
        except DatabaseError:
            if not must_create:
                raise UpdateError from None
            raise
        return None


def _write(obj, using: str, *, insert: bool) -> None:
    """The session row in one plain statement: `Model.save()` spent more on its own
    machinery than the database on the row (sessions carry no signals of ours)."""
    connection = connections[using]
    q = connection.ops.quote_name
    table = q(obj._meta.db_table)
    expires = connection.ops.adapt_datetimefield_value(obj.expire_date)
    with connection.cursor() as cursor:
        if insert:
            cursor.execute(f"INSERT INTO {table} ({q('session_key')}, {q('session_data')}, "
                           f"{q('expire_date')}) VALUES (%s, %s, %s)",
                           [obj.session_key, obj.session_data, expires])
            return
        cursor.execute(f"UPDATE {table} SET {q('session_data')} = %s, {q('expire_date')} = %s "
                       f"WHERE {q('session_key')} = %s",
                       [obj.session_data, expires, obj.session_key])
        if cursor.rowcount != 1:
            raise DatabaseError("session row gone")  # as Model.save(force_update=True)
