"""Plain multi-row INSERT for the demo generator's bulk writes.

Django's bulk_create compiles every value through the field machinery, which costs
more than telling the stories themselves at a million cases. Here each column is
converted once by its field only where the database needs it (dates, JSON, files);
integers, strings, booleans and floats go to the driver as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection, models

PREPARED = (models.DateTimeField, models.DateField, models.JSONField, models.FileField)


def _converter(field: models.Field) -> Callable[[Any], Any] | None:
    if isinstance(field, PREPARED):
        return lambda value: field.get_db_prep_save(value, connection)
    return None


def insert(model: type[models.Model], objects: Sequence[models.Model], chunk: int = 2000) -> None:
    """Insert `objects` (primary keys already set, or left to the database)."""
    if not objects:
        return
    fields = [
        f for f in model._meta.concrete_fields
        if not (f.primary_key and getattr(objects[0], f.attname) is None)
    ]
    converters = [_converter(f) for f in fields]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({placeholders})"
    attnames = [f.attname for f in fields]
    rows = []
    for obj in objects:
        row = []
        for attname, convert in zip(attnames, converters, strict=True):
            value = getattr(obj, attname)
            row.append(value if convert is None else convert(value))
        rows.append(row)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), chunk):
            cursor.executemany(sql, rows[start:start + chunk])
