"""linge/prepared.py: compiled look-ups and inserts give what the ORM gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import Count, F, Q, signals
from django.test.utils import CaptureQueriesContext

from linge import prepared
from linge.cases.models import Category
from linge.notify.models import Outbox
from linge.prepared import CountUpTo, Prepared, PreparedFor, Summary, Together

pytestmark = pytest.mark.django_db

BY_CODE = Prepared(lambda code: Category.objects.filter(code=code)[:1], "\x00code")
CHILDREN = Prepared(lambda parent: Category.objects.filter(parent_id=parent, active=True)
                    .order_by("code").values_list("code", "accept_within", "auto_escalate"),
                    -1_000_001)
CODES = Prepared(lambda parent: Category.objects.filter(parent_id=parent).order_by("-code")
                 .values_list("code", flat=True), -1_000_002)


def _tree() -> Category:
    group = Category.objects.create(code="91", name="市容")
    Category.objects.create(code="9101", name="垃圾", parent=group, accept_within=Decimal("0.50"),
                            accept_unit="work_hours", auto_escalate=True)
    Category.objects.create(code="9102", name="路灯", parent=group, accept_within=Decimal("2"),
                            accept_unit="calendar_days")
    Category.objects.create(code="9103", name="停用", parent=group, active=False)
    return group


def test_a_model_row_has_every_field_as_the_orm_reads_it() -> None:
    group = _tree()
    found = BY_CODE.first("9101")
    assert isinstance(found, Category)
    assert (found.code, found.name, found.parent_id) == ("9101", "垃圾", group.pk)
    assert found.accept_within == Decimal("0.50")
    assert found.accept_unit == "work_hours"
    assert found.auto_escalate is True and found.active is True
    assert found._state.adding is False and found._state.db == "default"
    assert BY_CODE.first("0000") is None


def test_rows_and_flat_values_keep_the_query_order_and_conversions() -> None:
    group = _tree()
    assert CHILDREN(group.pk) == [("9101", Decimal("0.50"), True), ("9102", Decimal("2.00"), False)]
    assert CODES(group.pk) == ["9103", "9102", "9101"]
    assert CODES(-5) == []


def test_a_second_call_runs_the_compiled_sql_alone() -> None:
    group = _tree()
    CODES(group.pk)
    with CaptureQueriesContext(connection) as queries:
        assert CODES(group.pk) == ["9103", "9102", "9101"]
    assert len(queries) == 1
    assert "ORDER BY" in queries[0]["sql"]


def test_a_marker_that_does_not_reach_the_sql_is_refused() -> None:
    lost = Prepared(lambda code: Category.objects.filter(code=str(code) + "1"), "\x00lost")
    with pytest.raises(ImproperlyConfigured, match="markers"):
        lost("91")
    prefetched = Prepared(lambda pk: Category.objects.prefetch_related("children").filter(pk=pk),
                          -1_000_003)
    with pytest.raises(ImproperlyConfigured, match="prefetch"):
        prefetched(1)
    with pytest.raises(TypeError):
        CODES()


def test_insert_gives_ids_and_field_defaults() -> None:
    at = datetime(2026, 11, 30, 8, 15, 30, 123456, tzinfo=UTC)
    rows = [Outbox(key=f"k{i}", subject="20261130-000001", channel="inbox", text=f"第{i}条",
                   created_at=at) for i in range(3)]
    prepared.insert(rows)
    ids = [row.pk for row in rows]
    assert all(isinstance(pk, int) for pk in ids) and len(set(ids)) == 3
    assert all(row._state.adding is False for row in rows)
    stored = {row.key: row for row in Outbox.objects.filter(pk__in=ids)}
    assert stored["k1"].pk == rows[1].pk
    assert stored["k2"].text == "第2条"
    assert stored["k0"].created_at == at  # microseconds and time zone kept
    assert stored["k0"].status == "pending" and stored["k0"].attempts == 0


def test_insert_refuses_rows_it_cannot_write_as_the_orm_would() -> None:
    at = datetime(2026, 11, 30, tzinfo=UTC)
    saved = Outbox.objects.create(key="old", channel="inbox", text="x", created_at=at)
    with pytest.raises(ValueError):
        prepared.insert([saved])
    with pytest.raises(ValueError, match="expression"):
        prepared.insert([Outbox(key="e", channel="inbox", text="x", created_at=at,
                                attempts=F("attempts") + 1)])
    assert Outbox.objects.count() == 1


CREATED = Prepared(lambda key: Outbox.objects.filter(key=key).values_list("created_at", flat=True),
                   "\x00key")


def test_values_come_converted_as_the_orm_converts_them() -> None:
    group = _tree()
    # Decimal places as declared, an aware datetime (SQLite stores them naive, in UTC).
    assert [str(within) for _code, within, _auto in CHILDREN(group.pk)] == ["0.50", "2.00"]
    at = datetime(2026, 11, 30, 8, 15, 30, tzinfo=UTC)
    Outbox.objects.create(key="t", channel="inbox", text="x", created_at=at)
    [created] = CREATED("t")
    assert created == at and created.tzinfo is not None


def test_insert_refuses_a_model_that_listens_to_its_saves() -> None:
    from django.db.models.signals import post_save

    def heard(**_kwargs) -> None:
        pass

    post_save.connect(heard, sender=Outbox, dispatch_uid="test-prepared-heard")
    try:
        with pytest.raises(ImproperlyConfigured, match="save signals"):
            prepared.insert([Outbox(key="s", channel="inbox", text="x",
                                    created_at=datetime(2026, 11, 30, tzinfo=UTC))])
    finally:
        post_save.disconnect(sender=Outbox, dispatch_uid="test-prepared-heard")
    assert not Outbox.objects.exists()


# select_related, time markers, one row of aggregates, and one plan per key.

WITH_PARENT = Prepared(lambda code: Category.objects.select_related("parent").filter(code=code),
                       "\x00with-parent")


def test_select_related_rows_come_with_their_relations_read() -> None:
    group = _tree()
    [leaf] = WITH_PARENT("9101")
    [top] = WITH_PARENT("91")
    with CaptureQueriesContext(connection) as queries:
        assert leaf.parent.pk == group.pk and leaf.parent.name == "市容"
        assert leaf.name == "垃圾" and leaf.accept_within == Decimal("0.50")
        assert top.parent is None
    assert len(queries) == 0


SENT_SINCE = Prepared(lambda since: Outbox.objects.filter(created_at__gte=since)
                      .order_by("key").values_list("key", flat=True),
                      datetime(1901, 2, 3, 4, 5, 6, 7, UTC))


def test_a_time_marker_is_replaced_by_the_time_given() -> None:
    for key, hour in (("a", 8), ("b", 9), ("c", 10)):
        Outbox.objects.create(key=key, channel="inbox", text="x",
                              created_at=datetime(2026, 11, 30, hour, tzinfo=UTC))
    assert SENT_SINCE(datetime(2026, 11, 30, 9, tzinfo=UTC)) == ["b", "c"]
    assert SENT_SINCE(datetime(2026, 11, 30, 9, 0, 0, 1, tzinfo=UTC)) == ["c"]
    # The same instant in Beijing time: the backend's adaptation is applied to it.
    beijing = datetime(2026, 11, 30, 17, tzinfo=timezone(timedelta(hours=8)))
    assert SENT_SINCE(beijing) == ["b", "c"]
    with pytest.raises(ImproperlyConfigured, match="aware"):
        Prepared(lambda since: Outbox.objects.filter(created_at__gte=since), datetime(1901, 2, 3))


GROUP_SUMMARY = Prepared(lambda parent: Summary(
    Category.objects.filter(parent_id=parent),
    {"all": Count("pk"), "active": Count("pk", filter=Q(active=True)),
     "slow": Count("pk", filter=Q(accept_within__gt=1))}), -1_000_005)


def test_a_summary_is_the_dict_aggregate_gives() -> None:
    group = _tree()
    assert GROUP_SUMMARY(group.pk) == [{"all": 3, "active": 2, "slow": 1}]
    assert GROUP_SUMMARY.first(-5) == {"all": 0, "active": 0, "slow": 0}
    grouped = Prepared(lambda parent: Summary(
        Category.objects.filter(parent_id=parent).values("code").annotate(n=Count("pk")),
        {"all": Count("pk")}), -1_000_006)
    with pytest.raises(ImproperlyConfigured, match="plain"):
        grouped(group.pk)


def test_a_count_up_to_a_cap_stops_there() -> None:
    group = _tree()  # three children
    up_to = {cap: Prepared(lambda parent, cap=cap: CountUpTo(
        Category.objects.filter(parent_id=parent).order_by("code"), "n", cap), -1_000_012 - cap)
        for cap in (1, 2, 3, 4)}
    assert [up_to[cap].first(group.pk) for cap in (1, 2, 3, 4)] == [
        {"n": 1}, {"n": 2}, {"n": 3}, {"n": 3}]
    assert up_to[4].first(-5) == {"n": 0}
    with CaptureQueriesContext(connection) as queries:
        up_to[2](group.pk)
    assert "LIMIT 2" in queries[0]["sql"] and "ORDER BY" not in queries[0]["sql"]
    none = Prepared(lambda parent: CountUpTo(
        Category.objects.filter(parent_id=parent, pk__in=[]), "n", 5), -1_000_020)
    with CaptureQueriesContext(connection) as queries:
        assert none(group.pk) == [{"n": 0}]
    assert len(queries) == 0
    sliced = Prepared(lambda parent: CountUpTo(
        Category.objects.filter(parent_id=parent)[:2], "n", 5), -1_000_021)
    with pytest.raises(ImproperlyConfigured, match="unsliced"):
        sliced(group.pk)


def test_summaries_together_are_one_statement() -> None:
    group = _tree()  # three children, two active, one slow
    both = Prepared(lambda parent: Together((
        Summary(Category.objects.filter(parent_id=parent),
                {"all": Count("pk"), "active": Count("pk", filter=Q(active=True))}),
        CountUpTo(Category.objects.filter(code__startswith="910"), "up_to_two", 2),
        Summary(Category.objects.filter(pk__in=[]), {"none": Count("pk")}))), -1_000_040)
    with CaptureQueriesContext(connection) as queries:
        assert both.first(group.pk) == {"all": 3, "active": 2, "up_to_two": 2, "none": 0}
        assert both.first(-5) == {"all": 0, "active": 0, "up_to_two": 2, "none": 0}
    assert len(queries) == 2 and "CROSS JOIN" in queries[0]["sql"]
    nothing = Prepared(lambda parent: Together((
        CountUpTo(Category.objects.filter(parent_id=parent, pk__in=[]), "n", 5),
        Summary(Category.objects.filter(pk__in=[]), {"m": Count("pk")}))), -1_000_041)
    with CaptureQueriesContext(connection) as queries:
        assert nothing.first(group.pk) == {"n": 0, "m": 0}
    assert len(queries) == 0


def _under(parent: Category, code_start: str):
    return Category.objects.filter(parent=parent, code__startswith=code_start).order_by(
        "code").values_list("code", flat=True)


def test_prepared_for_keeps_one_plan_per_key() -> None:
    group = _tree()
    by_start = PreparedFor(lambda start, parent: _under(parent, start), -1_000_007, keep=2)
    # The key stands for the context: the start of the code is baked into each plan.
    assert by_start("9101", "9101", group.pk) == ["9101"]
    assert by_start("910", "910", group.pk) == ["9101", "9102", "9103"]
    assert by_start("9101", "ignored: the plan of 9101 is kept", group.pk) == ["9101"]
    # A third key drops the least recently used: 910, not 9101 (used just now).
    assert by_start("9102", "9102", group.pk) == ["9102"]
    assert by_start("910", "9103", group.pk) == ["9103"]  # built again, from this context
    assert by_start("9102", "ignored", group.pk) == ["9102"]
    assert by_start.first("910", "910", -5) is None


def _server_prepared(text: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE statement LIKE %s",
                       [f"%{text}%"])
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.database("postgresql")  # PostgreSQL prepares statements
def test_on_postgresql_a_compiled_query_is_planned_once_per_connection(settings) -> None:
    group = _tree()
    marked = Prepared(lambda parent: Category.objects.filter(parent_id=parent, name="垃圾")
                      .values_list("code", flat=True), -1_000_008)
    assert marked(group.pk) == ["9101"]
    assert marked(-5) == []
    [statement] = _server_prepared('"cases_category"."name" = $')
    assert "$1" in statement and "$2" in statement
    # Django's own queries are not prepared (they bind in the client).
    list(Category.objects.filter(name="路灯").values_list("code"))
    assert _server_prepared("路灯") == [] and _server_prepared('"name" = $') == [statement]
    settings.LINGE_DB_PREPARED_STATEMENTS = False
    unprepared = Prepared(lambda parent: Category.objects.filter(parent_id=parent, name="停用")
                          .values_list("code", flat=True), -1_000_009)
    assert unprepared(group.pk) == ["9103"]
    assert len(_server_prepared('"cases_category"."name" = $')) == 1


def test_a_condition_no_row_can_meet_runs_no_query() -> None:
    group = _tree()
    nothing = Prepared(lambda parent: Category.objects.filter(parent_id=parent, pk__in=[]),
                       -1_000_010)
    counted = Prepared(lambda parent: Summary(
        Category.objects.filter(parent_id=parent, pk__in=[]), {"n": Count("pk")}), -1_000_011)
    with CaptureQueriesContext(connection) as queries:
        assert nothing(group.pk) == [] and counted(group.pk) == [{"n": 0}]
    assert len(queries) == 0


@pytest.mark.database("postgresql")  # PostgreSQL prepares statements
@pytest.mark.django_db(transaction=True)
def test_a_statement_gone_stale_under_another_connections_migration_runs_again() -> None:
    import psycopg

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE linge_scratch (id integer, n integer)")
        cursor.execute("INSERT INTO linge_scratch VALUES (1, 7)")
    try:
        sql = "SELECT n FROM linge_scratch WHERE id = %s"
        assert prepared.fetch(connection, sql, [1]) == [(7,)]
        assert len(_server_prepared("linge_scratch")) == 1
        # Another process's migration changes the type of the column it returns.
        settings_dict = connection.settings_dict
        with psycopg.connect(dbname=settings_dict["NAME"], user=settings_dict["USER"],
                             host=settings_dict["HOST"], port=settings_dict["PORT"],
                             autocommit=True) as other:
            other.execute("ALTER TABLE linge_scratch ALTER COLUMN n TYPE bigint")
        assert prepared.fetch(connection, sql, [1]) == [(7,)]
        assert prepared.fetch(connection, sql, [2]) == []
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE linge_scratch")


def _fields(obj) -> dict:
    return {key: value for key, value in obj.__dict__.items() if key != "_state"}


def test_a_model_row_is_the_instance_from_db_makes(city) -> None:
    """Made without Model.__init__: the same columns in the same attributes, the same
    state, deferred fields loaded on first use, relations read with it, and it saves."""
    from linge.cases import workflow
    from linge.cases.models import Attachment, Case

    made = workflow.submit(city["resident"], category=city.plain, description="井盖松动",
                           grid=city.grid).case
    fields = ("number", "state", "created_at", "category", "grid", "category__name",
              "grid__name")
    fast = Prepared(lambda pk: Case.objects.filter(pk=pk).select_related("category", "grid")
                    .only(*fields), -1_000_030).first(made.pk)
    orm = Case.objects.filter(pk=made.pk).select_related("category", "grid").only(*fields)[0]
    assert _fields(fast) == _fields(orm) and set(_fields(fast)) == {
        "id", "number", "state", "created_at", "category_id", "grid_id"}
    assert (fast._state.adding, fast._state.db) == (orm._state.adding, orm._state.db)
    assert fast._state.fields_cache.keys() == orm._state.fields_cache.keys() == {
        "category", "grid"}
    assert _fields(fast.category) == _fields(orm.category)
    assert _fields(fast.grid) == _fields(orm.grid)
    with CaptureQueriesContext(connection) as queries:
        assert (fast.category.name, fast.grid.name) == ("乱堆物堆料", "上墩村第1网格")
    assert len(queries) == 0
    assert fast.get_deferred_fields() == orm.get_deferred_fields()
    assert fast.description == "井盖松动"  # deferred: read now
    fast.description = "井盖松动（已更正）"
    fast.save(update_fields=["description"])
    assert Case.objects.get(pk=made.pk).description == "井盖松动（已更正）"
    # A file column is stored as it is; a model someone listens to as it is made, or
    # one with its own __init__, is made by from_db, with its receivers told.
    assert prepared.builder(Attachment, "default", ("id", "file")).__name__ == "build"
    told = []

    def listen(sender, instance, **kwargs) -> None:
        told.append(instance.pk)

    signals.post_init.connect(listen, sender=Category)
    try:
        assert prepared.builder(Category, "default", ("id",)).func == Category.from_db
        assert Prepared(lambda code: Category.objects.filter(code=code), "\x00c2").first(
            "0104").name == "乱堆物堆料"
    finally:
        signals.post_init.disconnect(listen, sender=Category)
    assert told == [city.plain.pk]
