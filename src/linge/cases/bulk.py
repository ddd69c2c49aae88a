"""Plain bulk INSERT (COPY on PostgreSQL) for the demo generator's writes.

Django's bulk_create compiles every value through the field machinery, which costs
more than telling the stories themselves at a million cases. Here a `Table` reads an
object's column values straight from its ``__dict__`` (one C-level itemgetter per
row: the attributes a model's __init__ stored there), and converts only the columns
the database needs converted, a whole column at a time: datetimes for SQLite (as
Django's SQLite backend does: naive UTC text), JSON. Integers, strings, booleans and
floats go to the driver as they are.

Rows are plain tuples, so they can be handed to another process (see cases.batch).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from django.conf import settings
from django.db import connection, models

Column = list[Any]


class Table:
    """One model's columns, how to read them from objects and how to insert them."""

    def __init__(self, model: type[models.Model], *, pk: bool) -> None:
        """`pk`: the objects carry their primary key (else the database assigns it)."""
        self.model = model
        self.fields = [
            f for f in model._meta.concrete_fields
            if (pk or not f.primary_key) and not getattr(f, "generated", False)
        ]
        self.attnames = [f.attname for f in self.fields]
        self.position = {name: i for i, name in enumerate(self.attnames)}
        self._get = itemgetter(*self.attnames)
        # A FileField's value may be a FieldFile (which drags its instance along when
        # pickled): the column stores the name, str() of it, as FileField does.
        self._files = [i for i, f in enumerate(self.fields) if isinstance(f, models.FileField)]
        self._converters: dict[str, list[tuple[int, Callable[[Column], Column]]]] = {}

    def rows(self, objects: Sequence[models.Model]) -> list[tuple]:
        """The objects' column values, in `self.attnames` order, unconverted."""
        get = self._get
        rows = [get(obj.__dict__) for obj in objects]
        if self._files and rows:
            columns = list(zip(*rows, strict=True))
            for i in self._files:
                columns[i] = tuple(None if v is None else str(v) for v in columns[i])
            rows = list(zip(*columns, strict=True))
        return rows

    def insert(self, rows: Sequence[Sequence[Any]]) -> None:
        """INSERT the rows (as made by `rows`, or the same shape) on the default database."""
        if not rows:
            return
        converters = self._converters.get(connection.vendor)
        if converters is None:
            converters = self._converters[connection.vendor] = [
                (i, conv) for i, f in enumerate(self.fields)
                if (conv := _column_converter(f)) is not None
            ]
        if converters:
            columns: list[Any] = list(zip(*rows, strict=True))
            for i, convert in converters:
                columns[i] = convert(columns[i])
            rows = list(zip(*columns, strict=True))
        quote = connection.ops.quote_name
        table = quote(self.model._meta.db_table)
        names = ", ".join(quote(f.column) for f in self.fields)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # COPY: one statement for all rows; psycopg formats them in C, where
                # executemany would build and send one INSERT per row.
                with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                return
            placeholders = ", ".join(["%s"] * len(self.fields))
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({placeholders})", rows)


def insert(model: type[models.Model], objects: Sequence[models.Model]) -> None:
    """Insert `objects` (primary keys already set, or left to the database)."""
    if objects:
        pk = objects[0].pk is not None
        table = Table(model, pk=pk)
        table.insert(table.rows(objects))


def _column_converter(field: models.Field) -> Callable[[Column], Column] | None:
    """What turns a column of `field` values into what the driver takes; None: as is."""
    def by_field(values: Column) -> Column:
        return [field.get_db_prep_save(v, connection) for v in values]

    if isinstance(field, models.DateTimeField):
        return _datetime_converter(by_field)
    if isinstance(field, models.DateField):
        return by_field
    if isinstance(field, models.JSONField):
        return _json_converter(field)
    return None


def _datetime_converter(by_field: Callable[[Column], Column]) -> Callable[[Column], Column]:
    """Aware datetimes fast; anything else (naive, expressions) through the field."""
    if connection.vendor == "postgresql":
        # psycopg takes aware datetimes as they are (Django passes them through too).
        def convert(values: Column) -> Column:
            return values if _aware(values) else by_field(values)

        return convert
    if connection.vendor == "sqlite" and settings.USE_TZ and connection.timezone is UTC:
        # What DatabaseOperations.adapt_datetimefield_value does: naive in UTC, str().
        def convert(values: Column) -> Column:
            if not _aware(values):
                return by_field(values)
            # str() of the naive UTC datetime is its isoformat(" ") without "+00:00".
            return [None if v is None else v.astimezone(UTC).isoformat(" ")[:-6]
                    for v in values]

        return convert
    return by_field


def _aware(values: Column) -> bool:
    """Every value is None or an aware datetime."""
    return all(
        v is None or (isinstance(v, datetime) and v.utcoffset() is not None) for v in values
    )


def _json_converter(field: models.JSONField) -> Callable[[Column], Column]:
    ops = connection.ops
    encoder = field.encoder
    if connection.vendor == "sqlite" and encoder is None:
        dumps = json.dumps  # BaseDatabaseOperations.adapt_json_value, with no encoder

        def convert(values: Column) -> Column:
            return [None if v is None else dumps(v) for v in values]

        return convert

    def adapt(values: Column) -> Column:
        return [None if v is None else ops.adapt_json_value(v, encoder) for v in values]

    return adapt
