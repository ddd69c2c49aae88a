"""linge/prepared.py: compiled look-ups and inserts give what the ORM gives."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from linge import prepared
from linge.cases.models import Category
from linge.notify.models import Outbox
from linge.prepared import Prepared

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
    related = Prepared(lambda pk: Category.objects.select_related("parent").filter(pk=pk),
                       -1_000_003)
    with pytest.raises(ImproperlyConfigured, match="single model"):
        related(1)
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
