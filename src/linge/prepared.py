"""Hot look-ups and inserts compiled once per process: the ORM's SQL, without the
ORM's cost per call.

Django compiles a queryset's SQL again on every call. For the few look-ups that every
report makes (its submit key, its category, its grid, the grid's team) that compilation
is most of the cost: about 300 µs of Python for a query SQLite answers in 15 µs. A
`Prepared` look-up is built by the ORM once per database alias, from marker values that
stand for its arguments; every call then runs the same SQL with the real values in the
markers' places and converts the rows with the ORM's own converters, so it returns
exactly what iterating the queryset would: model instances, tuples or single values.

What it supports is kept small on purpose: one model, no select_related, no prefetch,
no annotations on model rows. A queryset outside that fails loudly on first use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import connections, router
from django.db.models import QuerySet, signals
from django.db.models.query import FlatValuesListIterable, ModelIterable, ValuesListIterable


@dataclass(frozen=True)
class _Plan:
    sql: str
    slots: tuple[tuple[bool, Any], ...]  # (is an argument, its index or the constant)
    converters: tuple
    kind: type
    model: Any
    attnames: tuple[str, ...]


class Prepared:
    """`Prepared(build, *markers)`: `build(*markers)` returns the queryset; each marker
    must reach the SQL unchanged (an int, a str), once, and differ from every constant
    of the query. `prepared(*args)` returns the list the queryset would."""

    def __init__(self, build: Callable[..., QuerySet], *markers: Any) -> None:
        self._build = build
        self._markers = markers
        self._plans: dict[str, _Plan] = {}
        self._alias: str | None = None

    def __call__(self, *args: Any) -> list:
        if len(args) != len(self._markers):
            raise TypeError(f"expected {len(self._markers)} arguments, got {len(args)}")
        alias = self._alias
        plan = self._plans.get(alias) if alias else None
        if plan is None:
            queryset = self._build(*self._markers)
            alias = self._alias = router.db_for_read(queryset.model)
            plan = self._plans[alias] = self._compile(queryset, alias)
        params = [args[value] if is_arg else value for is_arg, value in plan.slots]
        connection = connections[alias]
        with connection.cursor() as cursor:
            cursor.execute(plan.sql, params)
            rows = cursor.fetchall()
        converted = _converted(rows, plan.converters, connection) if plan.converters else rows
        if plan.kind is ModelIterable:
            return [plan.model.from_db(alias, plan.attnames, row) for row in converted]
        if plan.kind is FlatValuesListIterable:
            return [row[0] for row in converted]
        return [tuple(row) for row in converted]

    def first(self, *args: Any) -> Any:
        found = self(*args)
        return found[0] if found else None

    def _compile(self, queryset: QuerySet, alias: str) -> _Plan:
        kind = queryset._iterable_class
        if kind not in (ModelIterable, ValuesListIterable, FlatValuesListIterable):
            raise ImproperlyConfigured(f"Prepared does not run {kind.__name__} querysets")
        if queryset._prefetch_related_lookups or queryset.query.select_related:
            raise ImproperlyConfigured("Prepared runs a single model's rows only")
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        slots = []
        for value in params:
            found = [i for i, marker in enumerate(self._markers)
                     if type(value) is type(marker) and value == marker]
            slots.append((True, found[0]) if found else (False, value))
        used = sorted(index for is_arg, index in slots if is_arg)
        if used != list(range(len(self._markers))):
            raise ImproperlyConfigured(f"markers {self._markers!r} must each reach the SQL "
                                       f"once, unchanged; got {params!r}")
        attnames: tuple[str, ...] = ()
        if kind is ModelIterable:
            info = compiler.klass_info
            if compiler.annotation_col_map or info.get("related_klass_infos"):
                raise ImproperlyConfigured("Prepared model rows carry no annotations")
            start, end = info["select_fields"][0], info["select_fields"][-1] + 1
            attnames = tuple(col[0].target.attname for col in compiler.select[start:end])
        converters = tuple(compiler.get_converters([col[0] for col in compiler.select]).items())
        return _Plan(sql, tuple(slots), converters, kind, queryset.model, attnames)


def _converted(rows: list, converters: tuple, connection: Any) -> list:
    """The rows as the ORM hands them out (SQLite's dates, booleans, JSON…), converted
    with this thread's connection, as `SQLCompiler.apply_converters` does."""
    out = []
    for row in rows:
        row = list(row)
        for position, (functions, expression) in converters:
            value = row[position]
            for function in functions:
                value = function(value, expression, connection)
            row[position] = value
        out.append(row)
    return out


# Inserts: the SQL text of an INSERT of n new rows of a model is made once; each call
# prepares the values with the fields' own `pre_save` and `get_db_prep_save`, as
# `Model.save()` and `bulk_create()` do, minus the rest of their machinery: the
# compilation, and the save signals, which a model inserted this way may not have.

_INSERT_SQL: dict[tuple[type, str, int], str] = {}


def _insert_fields(model: type) -> list:
    opts = model._meta
    return [f for f in opts.local_concrete_fields
            if f is not opts.auto_field and not getattr(f, "generated", False)]


def insert_statement(objs: list, alias: str = "default") -> tuple[str, list]:
    """(sql, params) of an INSERT of these new rows, all of one model with an automatic
    primary key, without a RETURNING clause (`insert` adds one; a WITH can take it)."""
    model = type(objs[0])
    fields = _insert_fields(model)
    connection = connections[alias]
    key = (model, alias, len(objs))
    sql = _INSERT_SQL.get(key)
    if sql is None:
        if any(hasattr(f, "get_placeholder") for f in fields):
            raise ImproperlyConfigured(f"{model.__name__} has a field with its own placeholder")
        q = connection.ops.quote_name
        row = "(" + ", ".join(["%s"] * len(fields)) + ")"
        sql = _INSERT_SQL[key] = (
            f"INSERT INTO {q(model._meta.db_table)} ({', '.join(q(f.column) for f in fields)}) "
            f"VALUES {', '.join([row] * len(objs))}")
    params = []
    for obj in objs:
        if type(obj) is not model or obj.pk is not None:
            raise ValueError("insert_statement takes new rows of one model")
        for field in fields:
            value = field.pre_save(obj, True)
            if hasattr(value, "resolve_expression"):
                raise ValueError(f"{field.name}: an expression cannot be inserted here")
            params.append(field.get_db_prep_save(value, connection=connection))
    return sql, params


def insert(objs: list, alias: str = "default") -> None:
    """Insert these new rows of one model in one statement and give each its id."""
    if not objs:
        return
    model = type(objs[0])
    if signals.pre_save.has_listeners(model) or signals.post_save.has_listeners(model):
        raise ImproperlyConfigured(f"{model.__name__} has save signals: save() it instead")
    connection = connections[alias]
    sql, params = insert_statement(objs, alias)
    with connection.cursor() as cursor:
        if connection.features.can_return_columns_from_insert:
            returning, _ = connection.ops.return_insert_columns([objs[0]._meta.pk])
            cursor.execute(f"{sql} {returning}", params)
            ids = [row[0] for row in cursor.fetchall()]
        elif len(objs) == 1:
            cursor.execute(sql, params)
            ids = [cursor.lastrowid]
        else:
            for obj in objs:
                insert([obj], alias)
            return
    if len(ids) != len(objs):
        raise RuntimeError(f"inserted {len(objs)} rows, got {len(ids)} ids back")
    for obj, pk_value in zip(objs, ids, strict=True):
        obj.pk = pk_value
        obj._state.adding, obj._state.db = False, alias
