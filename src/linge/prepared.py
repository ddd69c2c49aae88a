"""Hot look-ups and inserts compiled once per process: the ORM's SQL, without the
ORM's cost per call.

Django compiles a queryset's SQL again on every call. For the few look-ups that every
report makes (its submit key, its category, its grid, the grid's team) that compilation
is most of the cost: about 300 µs of Python for a query SQLite answers in 15 µs. A
`Prepared` look-up is built by the ORM once per database alias, from marker values that
stand for its arguments; every call then runs the same SQL with the real values in the
markers' places and converts the rows with the ORM's own converters, so it returns
exactly what iterating the queryset would: model instances, tuples or single values.

What it supports is kept small on purpose: model rows (with their select_related
relations), values rows and single values, one row of aggregates (`Summary`), a
count that stops at a cap (`CountUpTo`) and several of these in one statement
(`Together`); no prefetch, no annotations on model rows. A queryset outside that fails loudly on first use.
Markers are ints, strs or aware datetimes (these reach the SQL as the backend adapts
them: a string on SQLite).

`PreparedFor` keeps one `Prepared` per key, for queries whose shape depends on more
than their arguments: a staff member's scope (`cases.policy.case_scope`) decides which
grids, towns or units an inbox reads, so the inbox's queries are compiled once per scope.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from functools import cache, partial
from typing import Any

from django.conf import settings
from django.core.exceptions import EmptyResultSet, ImproperlyConfigured
from django.db import DatabaseError, connections, router
from django.db.models import Expression, Model, QuerySet, signals
from django.db.models.base import ModelState
from django.db.models.fields.files import FileDescriptor, ImageFileDescriptor
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query import (
    FlatValuesListIterable,
    ModelIterable,
    ValuesListIterable,
    get_related_populators,
)


@dataclass(frozen=True)
class Summary:
    """What a `Prepared` build returns for one row of aggregates over a queryset, as
    `queryset.aggregate(**aggregates)` gives it (a dict), without the ORM's cost."""

    queryset: QuerySet
    aggregates: dict[str, Expression]


@dataclass(frozen=True)
class CountUpTo:
    """What a `Prepared` build returns for how many rows a queryset has, counted no
    further than `cap`: `{name: min(count, cap)}`, as `queryset[:cap].count()` gives it.
    A count that grows with the years stops at an index scan of `cap` entries."""

    queryset: QuerySet
    name: str
    cap: int


@dataclass(frozen=True)
class Together:
    """What a `Prepared` build returns for several one-row summaries (`Summary`,
    `CountUpTo`) read in one statement: one dict of all their names. Each statement a
    page saves is a round trip and, on PostgreSQL, a parse, bind and execute."""

    parts: tuple[Summary | CountUpTo, ...]

    @property
    def queryset(self) -> QuerySet:
        return self.parts[0].queryset


@dataclass(frozen=True)
class _Part:
    """One summary's SQL, before its parameters are matched to the markers."""

    sql: str | None  # None: no row can match
    params: tuple
    converters: tuple
    names: tuple[str, ...]  # its columns' names, in order
    empty: tuple[tuple[str, Any], ...]  # (name, value) pairs when no row can match


@dataclass(frozen=True)
class _Plan:
    sql: str | None  # None: no row can match (the ORM raised EmptyResultSet)
    # (the argument's index, or -1 for a constant; the constant, or how the backend
    # adapts the argument: None when it takes it as it is)
    slots: tuple[tuple[int, Any], ...]
    converters: tuple
    kind: type | str
    model: Any
    attnames: tuple[str, ...]
    related: tuple = ()  # select_related: Django's populators of the related objects
    names: tuple[str, ...] = ()  # a summary's aggregates, in their columns' order
    build: Callable[[Any], Any] | None = None  # a model row from its columns
    fixed: tuple = ()  # a summary's (name, value) pairs known without a query


class Prepared:
    """`Prepared(build, *markers)`: `build(*markers)` returns the queryset; each marker
    must reach the SQL unchanged (an int, a str), once, and differ from every constant
    of the query. `prepared(*args)` returns the list the queryset would."""

    def __init__(self, build: Callable[..., QuerySet | Summary | CountUpTo | Together],
                 *markers: Any) -> None:
        if any(isinstance(m, datetime) and m.tzinfo is None for m in markers):
            raise ImproperlyConfigured("a datetime marker must be aware")
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
            built = self._build(*self._markers)
            queryset = (built.queryset if isinstance(built, Summary | CountUpTo | Together)
                        else built)
            alias = self._alias = router.db_for_read(queryset.model)
            plan = self._plans[alias] = self._compile(built, alias)
        if plan.sql is None:  # a condition no row can meet, whatever the arguments
            return [dict(plan.fixed)] if plan.kind == "summary" else []
        params = [value if index < 0 else args[index] if value is None else value(args[index])
                  for index, value in plan.slots]
        connection = connections[alias]
        rows = fetch(connection, plan.sql, params)
        converted = _converted(rows, plan.converters, connection) if plan.converters else rows
        if plan.kind is ModelIterable:
            return [self._model_row(plan, alias, row) for row in converted]
        if plan.kind is FlatValuesListIterable:
            return [row[0] for row in converted]
        if plan.kind == "summary":
            return [{**dict(zip(plan.names, row, strict=True)), **dict(plan.fixed)}
                    for row in converted]
        return [tuple(row) for row in converted]

    @staticmethod
    def _model_row(plan: _Plan, alias: str, row: Any) -> Any:
        if not plan.related:
            return plan.build(row)
        obj = plan.build(row[:len(plan.attnames)])
        for populator in plan.related:
            populator.populate(row, obj)
        return obj

    def first(self, *args: Any) -> Any:
        found = self(*args)
        return found[0] if found else None

    def _compile(self, built: QuerySet | Summary | CountUpTo | Together, alias: str) -> _Plan:
        if isinstance(built, Summary | CountUpTo):
            return self._summaries(built.queryset.model, [_part(built, alias)], alias)
        if isinstance(built, Together):
            return self._summaries(built.queryset.model,
                                   [_part(part, alias) for part in built.parts], alias)
        queryset = built
        kind = queryset._iterable_class
        if kind not in (ModelIterable, ValuesListIterable, FlatValuesListIterable):
            raise ImproperlyConfigured(f"Prepared does not run {kind.__name__} querysets")
        if queryset._prefetch_related_lookups:
            raise ImproperlyConfigured("Prepared does not prefetch")
        if kind is not ModelIterable and queryset.query.select_related:
            raise ImproperlyConfigured("Prepared reads select_related into model rows only")
        compiler = queryset.query.get_compiler(using=alias)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:
            return _Plan(None, (), (), kind, queryset.model, ())
        slots = self._slots(params, alias)
        attnames: tuple[str, ...] = ()
        related: tuple = ()
        if kind is ModelIterable:
            info = compiler.klass_info
            if compiler.annotation_col_map or queryset._known_related_objects:
                raise ImproperlyConfigured("Prepared model rows carry no annotations")
            start, end = info["select_fields"][0], info["select_fields"][-1] + 1
            if start != 0:
                raise ImproperlyConfigured("Prepared model rows start with the model's columns")
            attnames = tuple(col[0].target.attname for col in compiler.select[start:end])
            related = tuple(_Related(populator) for populator in
                            get_related_populators(info, compiler.select, alias))
        converters = tuple(compiler.get_converters([col[0] for col in compiler.select]).items())
        return _Plan(sql, slots, converters, kind, queryset.model, attnames, related,
                     build=builder(queryset.model, alias, attnames) if attnames else None)

    def _summaries(self, model: Any, parts: list[_Part], alias: str) -> _Plan:
        """One statement for the parts no condition empties (a cross join of their one
        row each); the values of the others are known without a query."""
        live = [part for part in parts if part.sql is not None]
        fixed = tuple(pair for part in parts if part.sql is None for pair in part.empty)
        if not live:
            return _Plan(None, (), (), "summary", model, (), fixed=fixed)
        if len(live) == 1:
            sql = live[0].sql
        else:
            sql = "SELECT * FROM " + " CROSS JOIN ".join(
                f"({part.sql}) part{i}" for i, part in enumerate(live))
        params, converters, names = [], [], []
        for part in live:
            converters += [(index + len(names), found) for index, found in part.converters]
            params += part.params
            names += part.names
        return _Plan(sql, self._slots(params, alias), tuple(converters), "summary", model, (),
                     names=tuple(names), fixed=fixed)

    def _slots(self, params: Any, alias: str) -> tuple[tuple[int, Any], ...]:
        """Each parameter as a marker's argument (with the backend's adaptation) or a
        constant; every marker must reach the SQL, unchanged or as adapted."""
        ops = connections[alias].ops
        forms = []
        for marker in self._markers:
            if isinstance(marker, datetime):
                forms.append((ops.adapt_datetimefield_value(marker),
                              ops.adapt_datetimefield_value))
            else:
                forms.append((marker, None))
        slots = []
        for value in params:
            found = [i for i, (form, _adapt) in enumerate(forms)
                     if type(value) is type(form) and value == form]
            slots.append((found[0], forms[found[0]][1]) if found else (-1, value))
        if {index for index, _value in slots if index >= 0} != set(range(len(self._markers))):
            raise ImproperlyConfigured(f"markers {self._markers!r} must each reach the SQL, "
                                       f"unchanged; got {params!r}")
        return tuple(slots)


def _part(built: Summary | CountUpTo, alias: str) -> _Part:
    return _summary_part(built, alias) if isinstance(built, Summary) else _count_part(
        built, alias)


def _summary_part(summary: Summary, alias: str) -> _Part:
    """The simple case of Django's `Query.get_aggregation`: aggregates over the filtered
    rows, no GROUP BY, no subquery; anything else is refused."""
    query = summary.queryset.query.chain()
    if (query.is_sliced or query.distinct or query.combinator or query.annotations
            or query.group_by is not None or query.select_related):
        raise ImproperlyConfigured("Prepared sums up a plain filtered queryset only")
    aggregates = {}
    for name, expression in summary.aggregates.items():
        resolved = expression.resolve_expression(query, allow_joins=True, reuse=None,
                                                 summarize=True)
        if not resolved.contains_aggregate:
            raise ImproperlyConfigured(f"{name} is not an aggregate")
        aggregates[name] = resolved
    query.clear_ordering(force=True)
    query.select, query.default_cols, query.extra = (), False, {}
    query.annotations = aggregates
    query.set_annotation_mask(aggregates)
    compiler = query.get_compiler(using=alias)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:  # (name, value) pairs: what aggregate() gives for no rows
        return _Part(None, (), (), (), tuple((name, expression.empty_result_set_value)
                                             for name, expression in aggregates.items()))
    columns = [col[0] for col in compiler.select]
    names = tuple(col[2] for col in compiler.select)
    if sorted(names) != sorted(aggregates):
        raise ImproperlyConfigured(f"summary columns {names!r} are not its aggregates")
    return _Part(sql, tuple(params), tuple(compiler.get_converters(columns).items()), names,
                 ())


def _count_part(count: CountUpTo, alias: str) -> _Part:
    """Django's count of a sliced queryset: COUNT(*) over the first `cap` rows."""
    if count.queryset.query.is_sliced or count.cap < 1:
        raise ImproperlyConfigured("CountUpTo caps an unsliced queryset at 1 or more")
    inner = count.queryset.order_by().values_list("pk")[:count.cap]
    try:
        sql, params = inner.query.get_compiler(using=alias).as_sql()
    except EmptyResultSet:
        return _Part(None, (), (), (), ((count.name, 0),))
    return _Part(f"SELECT COUNT(*) FROM ({sql}) capped", tuple(params), (), (count.name,), ())


class PreparedFor:
    """`PreparedFor(build, *markers)`: one `Prepared` for each key; `prepared(key,
    context, *args)` runs the one of `key`, built on first use as `build(context,
    *markers)`. The key must stand for everything in `context` the query depends on.
    At most `keep` keys are kept (the least recently used is dropped first)."""

    def __init__(self, build: Callable[..., QuerySet | Summary | CountUpTo | Together],
                 *markers: Any, keep: int = 2048) -> None:
        self._build = build
        self._markers = markers
        self._keep = keep
        self._by_key: OrderedDict[Hashable, Prepared] = OrderedDict()
        self._lock = threading.Lock()  # gthread workers share it

    def __call__(self, key: Hashable, context: Any, *args: Any) -> list:
        with self._lock:
            prepared = self._by_key.get(key)
            if prepared is None:
                prepared = Prepared(partial(self._build, context), *self._markers)
                self._by_key[key] = prepared
                while len(self._by_key) > self._keep:
                    self._by_key.popitem(last=False)
            else:
                self._by_key.move_to_end(key)
        return prepared(*args)

    def first(self, key: Hashable, context: Any, *args: Any) -> Any:
        found = self(key, context, *args)
        return found[0] if found else None


# What PostgreSQL says when a statement prepared on a connection no longer fits the
# table it reads (a migration changed a column it returns: "cached plan must not
# change result type"), or is gone from the server.
_STALE_STATEMENT = {"0A000", "26000"}


# Model rows without Model.__init__, which walks every field of the model for each row
# (a case has fifty; an inbox page of thirty cases built about a hundred instances, a
# quarter of its time). The instance is what `from_db` makes: the columns read in its
# __dict__ (the others deferred, loaded on first use), its state not adding, from the
# alias. Taken only where __init__ would do nothing more: no custom __init__ or from_db,
# no pre_init or post_init receiver, and no column whose descriptor does more on
# assignment than store the value (a foreign key's clears a cache a new instance lacks;
# a file's stores it as it is).
_PLAIN_SETTERS = (ForeignKeyDeferredAttribute, FileDescriptor, ImageFileDescriptor)


def builder(model: Any, alias: str, attnames: tuple[str, ...]) -> Callable[[Any], Any]:
    """`model.from_db(alias, attnames, row)`, made without __init__ where that is the same."""
    standard = (model.__init__ is Model.__init__
                and model.from_db.__func__ is Model.from_db.__func__
                and not signals.pre_init.has_listeners(model)
                and not signals.post_init.has_listeners(model)
                and all(not hasattr(type(d := getattr(model, name, None)), "__set__")
                        or isinstance(d, _PLAIN_SETTERS) for name in attnames))
    if not standard:
        return partial(model.from_db, alias, attnames)
    new = Model.__new__

    def build(row: Any) -> Any:
        obj = new(model)
        obj.__dict__.update(zip(attnames, row, strict=True))
        state = obj._state = ModelState()
        state.adding, state.db = False, alias
        return obj

    return build


class _Related:
    """Django's `RelatedPopulator` of a select_related relation, its objects made by
    `builder`: the same steps as its `populate`."""

    def __init__(self, populator: Any) -> None:
        self.populator = populator
        self.build = builder(populator.model_cls, populator.db, tuple(populator.init_list))
        self.related = [_Related(nested) for nested in populator.related_populators]

    def populate(self, row: Any, from_obj: Any) -> None:
        p = self.populator
        data = p.reorder_for_init(row) if p.reorder_for_init else row[p.cols_start:p.cols_end]
        obj = None if data[p.pk_idx] is None else self.build(data)
        if obj is not None:
            for nested in self.related:
                nested.populate(row, obj)
        p.local_setter(from_obj, obj)
        if obj is not None:
            p.remote_setter(obj, from_obj)


def fetch(connection: Any, sql: str, params: list) -> list:
    """The rows of one statement. On PostgreSQL, a prepared statement that went stale
    stays stale for psycopg until the connection is rolled back or closed; outside a
    transaction the connection is closed (Django opens a new one) and the statement
    runs once more. Inside one, the error is the transaction's, as any other."""
    try:
        with _cursor(connection) as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    except DatabaseError as error:
        state = getattr(error.__cause__, "sqlstate", None)
        if state not in _STALE_STATEMENT or connection.in_atomic_block:
            raise
    connection.close()
    with _cursor(connection) as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _cursor(connection: Any) -> Any:
    """A cursor of this connection; on PostgreSQL, one that prepares what it runs on the
    server (once per connection and statement text: psycopg keeps them), so a join
    that took PostgreSQL 7 ms to plan is planned once. Django's own cursors never
    prepare: they bind parameters in the client. Wrapped as Django wraps its cursors,
    so `execute_wrapper` sees these statements as any other; where queries are logged
    (DEBUG, tests counting them), a plain cursor, as the log reads the SQL it sent."""
    if (connection.vendor != "postgresql" or not settings.LINGE_DB_PREPARED_STATEMENTS
            or connection.queries_logged):
        return connection.cursor()
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    with connection.wrap_database_errors:
        raw = _preparing_cursor_type()(connection.connection)
    _follow_time_zone(connection, raw)
    return connection.make_cursor(raw)


def _follow_time_zone(connection: Any, cursor: Any) -> None:
    """As Django's `create_cursor` does: times come back in the connection's zone."""
    from django.db.backends.postgresql.base import TIMESTAMPTZ_OID
    from django.db.backends.postgresql.psycopg_any import register_tzloader
    from psycopg.pq import Format

    loader = connection.connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
    if connection.timezone != loader.timezone:
        register_tzloader(connection.timezone, cursor)


@cache
def _preparing_cursor_type() -> type:
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PreparingCursor(ServerBindingCursor):
        def execute(self, query: Any, params: Any = None, *, prepare: bool | None = None,
                    binary: bool | None = None) -> Any:
            return super().execute(query, params, prepare=True, binary=binary)

    return PreparingCursor


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
