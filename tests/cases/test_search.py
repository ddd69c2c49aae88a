"""cases/search.py: the character-pair index behind the workbench search."""

from __future__ import annotations

import random

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Q

from linge.cases import search
from linge.cases.models import Case
from linge.people.models import Unit, UnitKind
from linge.workbench.queries import search_q
from tests.conftest import City, at

TEXTS = [
    "小区门口垃圾桶满溢发臭，请尽快清运",
    "三号楼楼道堆放纸箱，影响通行。",
    "路灯不亮（老街桥头），晚上很黑！",
    "噪音扰民：KTV营业到凌晨2点",
    "井盖缺失 Manhole cover missing at No.3",
    "河道漂浮物较多、水面发臭",
    "浙J12345 车辆乱停占道",
    "水",
    "",
    "Ｗｉｆｉ信号差，café门口 ΣΟΦΙΑ ǚ Istanbul ıi ſs",
    "漏\x01水，\x7f尾",
]
NOW = at("2026-11-02 09:00")
ADDRESSES = ["上墩村12号", "老街88弄", "", "Block B, 3F", "温峤镇江厦路"]


def placed(city: City) -> dict:
    team = Unit.objects.get(area=city.grid, kind=UnitKind.GRID_TEAM)
    return {"source": "qr", "category": city.plain, "grid": city.grid, "village": city.village,
            "town": city.town, "owner_unit": team, "state": "submitted", "created_at": NOW,
            "updated_at": NOW}


def make_cases(city: City) -> list[Case]:
    where = placed(city)
    rows = []
    for i, text in enumerate(TEXTS * 3):
        rows.append(Case(
            number=f"S{i:08d}", description=text, address=ADDRESSES[i % len(ADDRESSES)],
            **where,
        ))
    return Case.objects.bulk_create(rows)


def like_only(text: str) -> Q:
    q = Q()
    for word in text.split():
        q &= Q(description__icontains=word) | Q(address__icontains=word)
    return q


def found(q: Q) -> set[str]:
    return set(Case.objects.filter(q).values_list("number", flat=True))


def test_terms_are_characters_and_pairs_within_runs() -> None:
    assert search.terms("路灯不亮，很黑") == {"路", "灯", "不", "亮", "路灯", "灯不", "不亮",
                                           "很", "黑", "很黑"}
    assert search.terms("KTV", "3F") == {"k", "t", "v", "kt", "tv", "3", "f", "3f"}
    assert search.query_terms("垃圾桶") == {"垃圾", "圾桶"}
    assert search.query_terms("水") == {"水"}
    assert search.query_terms("，") == set()


def test_every_substring_has_its_terms_in_the_text() -> None:
    """The index may only ever narrow the search to a superset of the LIKE matches."""
    rng = random.Random(3)
    for text in TEXTS + ADDRESSES:
        for _ in range(60):
            if not text:
                continue
            start = rng.randrange(len(text))
            word = text[start:start + rng.randint(1, 6)]
            assert search.query_terms(word.upper()) <= search.terms(text), (text, word)


def test_index_finds_what_like_finds(city: City) -> None:
    make_cases(city)
    words = ["垃圾桶", "发臭", "水", "桥头", "ktv", "KTV", "manhole", "no.3", "12号", "老街",
             "block b", "浙j", "路灯 很黑", "凌晨2点", "，", "不存在的词", "堆放纸", "3f",
             # Letters with a case beyond ASCII, and the two whose upper case is ASCII:
             # PostgreSQL's icontains folds them all.
             "ＷＩＦＩ", "ｗｉｆｉ信号", "CAFÉ", "σοφια", "Ǚ", "ISTANBUL", "ıI", "İ", "SS", "ſ",
             # Control characters split runs, as FTS5's tokenizer does.
             "\x01", "a-\x01", "漏\x01水", "\x7f尾"]
    rng = random.Random(5)
    for text in TEXTS:
        if len(text) > 3:
            start = rng.randrange(len(text) - 2)
            words.append(text[start:start + rng.randint(1, 4)])
    for word in words:
        assert found(search_q(word)) == found(like_only(word)), word
    assert len(found(search_q("发臭"))) == 6


def test_control_characters_in_the_search_box(client, city: City) -> None:
    make_cases(city)
    client.force_login(city["leader"])
    # A NUL is refused before any view (linge.guard); other controls are dropped.
    for q in ("%00", "%00%E6%BC%8F"):
        response = client.get(f"/work/?tab=submitted&q={q}")
        assert response.status_code == 400 and "无效字符" in response.content.decode(), q
    for q in ("%01", "%1F%7F"):
        response = client.get(f"/work/?tab=submitted&q={q}")
        assert response.status_code == 200, q
    assert response.context["filters"].q == ""


def test_every_way_of_starting_finds_the_same(city: City, monkeypatch) -> None:
    """SQLite is told where to start (cases/search.py HasTerms); the answer never changes."""
    make_cases(city)
    for word in ["发臭", "水", "老街", "不存在"]:
        wanted = search.query_terms(word)
        answers = set()
        for many in (False, True):
            for narrowed in (False, True):
                qs = Case.objects.filter(search.HasTerms(wanted, many=many, narrowed=narrowed),
                                         like_only(word)).order_by("-created_at", "-pk")
                answers.add((qs.count(), tuple(qs.values_list("number", flat=True)[:4])))
        assert len(answers) == 1, (word, answers)
    monkeypatch.setattr(search, "DRIVE_LIMIT", 5)
    if connection.vendor == "sqlite":
        assert search.has_terms({"发臭"}, narrowed=True).many  # in 6 cases
        assert not search.has_terms({"桥头"}, narrowed=True).many  # in 3


def test_the_index_follows_edits_and_deletes(city: City) -> None:
    case = make_cases(city)[0]
    has = search.HasTerms
    assert case in Case.objects.filter(has({"垃圾"}))
    Case.objects.filter(pk=case.pk).update(description="修剪行道树", address="")
    assert case not in Case.objects.filter(has({"垃圾"}))
    assert case in Case.objects.filter(has({"行道"}))
    case.refresh_from_db()
    case.state = "accepted"
    case.save()  # a save that does not change the text keeps the case findable
    assert list(Case.objects.filter(has({"行道", "道树"}))) == [case]
    case.delete()
    assert not Case.objects.filter(has({"行道"})).exists()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {search.FTS_TABLE} "
                           f"WHERE {search.FTS_TABLE} MATCH '\"行道\"'")
            assert cursor.fetchone()[0] == 0


def test_install_puts_back_what_a_table_rebuild_drops(city: City) -> None:
    """Django rebuilds an altered SQLite table by copying it, which drops its triggers."""
    make_cases(city)
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"DROP TRIGGER {search.FTS_TABLE}_insert")
        else:
            # The test's own inserts leave deferred foreign-key checks pending, which
            # CREATE INDEX refuses to run beside.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"DROP INDEX {search.POSTGRES_INDEX}")
    # Written while the trigger is missing (a deploy half done): not yet in the index.
    Case.objects.create(number="S99999998", description="新装的路灯又坏了", **placed(city))
    search.install(connection)
    Case.objects.create(number="S99999999", description="新装的护栏也倒了", **placed(city))
    assert found(search_q("新装")) == {"S99999998", "S99999999"}
    assert len(found(search_q("发臭"))) == 6


def test_a_new_rule_rebuilds_the_index(city: City, monkeypatch) -> None:
    make_cases(city)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    # Make "桥" a separator: 桥头 is then no longer a term of any case.
    monkeypatch.setattr(search, "SEPARATORS", search.SEPARATORS + "桥")
    monkeypatch.setattr(search, "_FOLD", str.maketrans(
        search.SEPARATORS + search.FOLD_FROM,
        " " * len(search.SEPARATORS) + search.FOLD_TO))
    monkeypatch.setattr(search, "RULE", "a-new-rule")
    search.install(connection)
    assert not Case.objects.filter(search.HasTerms({"桥头"})).exists()
    assert Case.objects.filter(search.HasTerms({"头"})).count() == 3
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT linge_terms('老街桥头', '')")
            assert set(cursor.fetchone()[0]) == search.terms("老街桥头")
            assert search.terms("老街桥头") == {"老", "街", "老街", "头"}


@pytest.mark.django_db(transaction=True)
def test_migrating_back_and_forth(city: City) -> None:
    make_cases(city)
    call_command("migrate", "cases", "0002", verbosity=0)
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        assert search.FTS_TABLE not in tables
        if connection.vendor == "postgresql":
            cursor.execute("SELECT count(*) FROM pg_proc WHERE proname = 'linge_terms'")
            assert cursor.fetchone()[0] == 0
    call_command("migrate", verbosity=0)  # every app: notify's 0004 went back with cases
    assert len(found(search_q("发臭"))) == 6


def test_the_search_uses_the_index(city: City) -> None:
    make_cases(city)
    qs = Case.objects.filter(search_q("垃圾桶"))
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            plan = " ".join(str(row) for row in cursor.fetchall())
            assert "VIRTUAL TABLE INDEX" in plan and search.FTS_TABLE in plan, plan
        else:
            # Too few rows for the planner to bother; GIN is reached by bitmap scans only.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_indexscan = off")
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = " ".join(row[0] for row in cursor.fetchall())
            assert search.POSTGRES_INDEX in plan, plan


@pytest.mark.database("postgresql")  # the SQL twin of terms() exists on PostgreSQL only
def test_postgres_function_agrees_with_python(city: City) -> None:
    samples = TEXTS + ADDRESSES + [
        search.SEPARATORS.replace("\x00", ""),  # PostgreSQL text cannot hold a NUL
        "a'b\\c", "ＡＢＣ全角", "😀表情😀", "不\u00a0间断\u2003空格\x1c分隔",
    ]
    with connection.cursor() as cursor:
        for text in samples:
            for address in ("", "上墩村12号", "Block-B"):
                cursor.execute("SELECT linge_terms(%s, %s)", [text, address])
                assert set(cursor.fetchone()[0]) == search.terms(text, address), (text, address)
