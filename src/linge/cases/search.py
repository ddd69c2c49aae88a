"""Index for searching the Chinese text of cases (description and address).

Chinese has no spaces, and most words people search for are two characters long
(漏水, 路灯, 井盖), too short for trigram indexes (SQLite's FTS5 trigram tokenizer,
PostgreSQL's pg_trgm) to help. So each case is indexed by the single characters and
the pairs of neighbouring characters of its text ("character bigrams", the approach of
Lucene's CJK analyzer): a search word of two or more characters is looked up by its
pairs, a one-character word by itself. A case holding the word holds all its pairs, so
the index finds every match plus a few cases holding the pairs apart; the LIKE test
that follows keeps exactly what a plain substring search would have found.

The terms are made inside the database, so every way a case is written (the web, the
demo's bulk COPY, a test's bulk_create) is indexed without thinking about it:

- PostgreSQL: an IMMUTABLE SQL function `linge_terms(description, address)` and a GIN
  index on it; a search is `linge_terms(...) @> ARRAY[terms]`.
- SQLite: the same function written in Python, registered on every connection; a
  contentless FTS5 table keyed by the case id, kept up to date by triggers.

Both implement one rule: ASCII letters (and ı, ſ) are lower-cased; ASCII punctuation,
spaces and control characters and the usual Chinese punctuation split the text into runs; the terms are every
character and every pair of neighbouring characters within a run. A test checks that
the PostgreSQL function and `terms()` agree. Changing the rule (separators, folding)
is safe: `install()`, run after every migrate, sees the new RULE and re-indexes.
"""

from __future__ import annotations

import hashlib
import string

from django.db import connection as default_connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.recorder import MigrationRecorder
from django.db.models import BooleanField, F, Func
from django.db.utils import NotSupportedError

# ASCII control characters are separators too: FTS5's ascii tokenizer splits at them,
# so a term holding one would never be found on SQLite.
SEPARATORS = (
    "".join(map(chr, range(32))) + "\x7f" + string.whitespace + string.punctuation
    + "\u3000，。、；：？！“”‘’（）【】《》〈〉「」『』〔〕…—～·．﹏￥"
)
# Case: ASCII letters fold to lower case, and so do the two letters whose upper case is
# ASCII (ı → I, ſ → S), because PostgreSQL's icontains compares UPPER() of both sides.
FOLD_FROM = string.ascii_uppercase + "ıſ"
FOLD_TO = string.ascii_lowercase + "is"
_FOLD = str.maketrans(SEPARATORS + FOLD_FROM, " " * len(SEPARATORS) + FOLD_TO)
FTS_TABLE = "cases_case_terms"


def _runs(text: str) -> list[str]:
    # split(" "), not split(): str.split() also splits at characters such as U+00A0
    # that the SQL twin keeps, and the two must agree exactly.
    return [run for run in text.translate(_FOLD).split(" ") if run]


def terms(description: str, address: str = "") -> set[str]:
    """The index terms of a case's text: characters and neighbouring pairs, per run."""
    found: set[str] = set()
    for run in _runs(f"{description} {address}"):
        found.update(run)
        found.update(run[i:i + 2] for i in range(len(run) - 1))
    return found


def _caseless(term: str) -> bool:
    """No character of the term has another case beyond ASCII (true of all Chinese).

    On PostgreSQL icontains matches Ｗ with ｗ and É with é; the index keeps such
    letters as they are, so terms holding them are left to the LIKE test alone.
    """
    return all(c.isascii() or c.lower() == c.upper() for c in term)


def query_terms(word: str) -> set[str]:
    """Terms every case containing `word` has: its pairs, or the character itself."""
    found: set[str] = set()
    for run in _runs(word):
        if len(run) == 1:
            found.add(run)
        else:
            found.update(run[i:i + 2] for i in range(len(run) - 1))
    return {term for term in found if _caseless(term)}


class HasTerms(Func):
    """Condition: the case's text has all these index terms (use it with a LIKE test).

    `many`: the index holds more than DRIVE_LIMIT cases with these terms; `narrowed`:
    other conditions limit the query to some grids, a town or a unit. Both matter on
    SQLite only, whose planner has no statistics for the FTS5 table: it is told to
    start from the index's cases when they are few, or when nothing else narrows a
    count; otherwise from the other conditions (the user's grids or town, or for a
    page the newest cases first), checking each case against the index. Measured on
    1,000,000 cases, a word in 10% of them: a grid worker's search takes 76 ms started
    from the index and 20 ms started from the grid, a leader's page 94 ms and 11 ms; a
    street name in 167 cases takes 1.5 ms started from the index, 3–240 ms otherwise.

    PostgreSQL plans by itself from the GIN index's statistics. Telling it the same
    way was tried and dropped: without the index condition a page of a common word
    took 8 ms instead of 175, but for two words its LIKE estimates led it to scan the
    whole table (308 ms instead of 61).
    """

    conditional = True
    output_field = BooleanField()

    def __init__(self, wanted: set[str], *, many: bool = False, narrowed: bool = False) -> None:
        super().__init__(F("id"), F("description"), F("address"))
        self.wanted = sorted(wanted)
        self.many, self.narrowed = many, narrowed

    def as_sqlite(self, compiler, connection, **extra):
        id_sql, params = compiler.compile(self.source_expressions[0])
        if self.many and (self.narrowed or compiler.query.is_sliced):
            id_sql = f"+{id_sql}"  # a unary plus keeps SQLite from looking cases up by it
        return f"{id_sql} IN ({_FTS_ROWIDS})", (*params, fts_query(self.wanted))

    def as_postgresql(self, compiler, connection, **extra):
        description, p1 = compiler.compile(self.source_expressions[1])
        address, p2 = compiler.compile(self.source_expressions[2])
        return f"{_PG_TERMS % (description, address)} @> %s::text[]", (*p1, *p2, self.wanted)

    def as_sql(self, compiler, connection, **extra):
        raise NotSupportedError(f"case search has no index on {connection.vendor}")


_FTS_ROWIDS = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s"
DRIVE_LIMIT = 2000


def fts_query(wanted: set[str] | list[str]) -> str:
    return " ".join(f'"{term}"' for term in sorted(wanted))


_PG_TERMS = "linge_terms(%s, %s)"


def has_terms(wanted: set[str], *, narrowed: bool) -> HasTerms:
    """HasTerms, told on SQLite whether the index holds more than DRIVE_LIMIT such cases.

    `narrowed`: the query is already limited to some grids, a town or a department.
    """
    many = False
    if default_connection.vendor == "sqlite":
        with default_connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM ({_FTS_ROWIDS} LIMIT %s)",
                           [fts_query(wanted), DRIVE_LIMIT + 1])
            many = cursor.fetchone()[0] > DRIVE_LIMIT
    return HasTerms(wanted, many=many, narrowed=narrowed)


# Installing the index.

def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _postgres_function() -> str:
    separators = SEPARATORS.replace("\x00", "")  # PostgreSQL text never holds a NUL
    source = _sql_literal(separators + FOLD_FROM)
    target = _sql_literal(" " * len(separators) + FOLD_TO)
    return f"""
CREATE OR REPLACE FUNCTION linge_terms(description text, address text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
  SELECT coalesce(array_agg(DISTINCT substr(run, i, n)), '{{}}')
  FROM string_to_table(
         translate(coalesce(description, '') || ' ' || coalesce(address, ''),
                   {source}, {target}), ' ') AS run,
       generate_series(1, length(run)) AS i,
       (VALUES (1), (2)) AS size(n)
  WHERE run <> '' AND i + n - 1 <= length(run)
$fn$"""


POSTGRES_INDEX = "cases_case_terms_gin"


def _sqlite_terms(description: str | None, address: str | None) -> str:
    return " ".join(terms(description or "", address or ""))


def register_sqlite_function(sender=None, connection: BaseDatabaseWrapper | None = None,
                             **kwargs) -> None:
    """connection_created receiver: the triggers call linge_terms on every write."""
    if connection is not None and connection.vendor == "sqlite":
        connection.connection.create_function("linge_terms", 2, _sqlite_terms,
                                              deterministic=True)


_SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_insert AFTER INSERT ON cases_case BEGIN
  INSERT INTO {FTS_TABLE}(rowid, terms) VALUES (new.id, linge_terms(new.description, new.address));
END""",
    f"""CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_delete AFTER DELETE ON cases_case BEGIN
  INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, terms)
  VALUES ('delete', old.id, linge_terms(old.description, old.address));
END""",
    # Django's save() sets every column, so only a real change touches the index.
    f"""CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_update AFTER UPDATE OF description, address
ON cases_case WHEN old.description IS NOT new.description OR old.address IS NOT new.address
BEGIN
  INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, terms)
  VALUES ('delete', old.id, linge_terms(old.description, old.address));
  INSERT INTO {FTS_TABLE}(rowid, terms) VALUES (new.id, linge_terms(new.description, new.address));
END""",
]


RULE = hashlib.sha256((SEPARATORS + FOLD_FROM + FOLD_TO).encode()).hexdigest()[:16]
RULE_TABLE = f"{FTS_TABLE}_rule"


def install(connection: BaseDatabaseWrapper = default_connection, *,
            rebuild: bool = False) -> None:
    """Create what is missing of the index, and re-index every case when it may be stale.

    Runs from the migration and again after every migrate. The index is rebuilt when
    the rule (RULE: separators and case folding) differs from the one it was built
    with, when `rebuild` asks for it, and on SQLite when a trigger is missing: Django
    rebuilds a table it alters by copying it, which drops the table's triggers, and a
    case written before they are back would be missing from the index.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            _install_postgres(cursor, rebuild)
        elif connection.vendor == "sqlite":
            _install_sqlite(cursor, rebuild)


def _install_postgres(cursor, rebuild: bool) -> None:
    cursor.execute("SELECT obj_description(p.oid, 'pg_proc') FROM pg_proc p "
                   "WHERE p.proname = 'linge_terms'")
    row = cursor.fetchone()
    if rebuild or row is None or row[0] != RULE:
        cursor.execute(f"DROP INDEX IF EXISTS {POSTGRES_INDEX}")
        cursor.execute(_postgres_function())
        cursor.execute(f"COMMENT ON FUNCTION linge_terms(text, text) IS '{RULE}'")
    terms_sql = _PG_TERMS % ("description", "address")
    cursor.execute(f"CREATE INDEX IF NOT EXISTS {POSTGRES_INDEX} ON cases_case "
                   f"USING gin ({terms_sql})")


def _install_sqlite(cursor, rebuild: bool) -> None:
    cursor.execute(f"CREATE TABLE IF NOT EXISTS {RULE_TABLE} (rule text NOT NULL)")
    cursor.execute(f"SELECT rule FROM {RULE_TABLE}")
    row = cursor.fetchone()
    cursor.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN "
                   f"('{FTS_TABLE}_insert', '{FTS_TABLE}_delete', '{FTS_TABLE}_update')")
    triggers = cursor.fetchone()[0]
    if rebuild or row is None or row[0] != RULE or triggers < len(_SQLITE_TRIGGERS):
        cursor.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")
        # Contentless (the text stays in cases_case); no positions, no sizes: only
        # "which cases hold this term" is ever asked.
        cursor.execute(f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(terms, "
                       "content='', detail=none, columnsize=0, tokenize='ascii')")
        cursor.execute(f"INSERT INTO {FTS_TABLE}(rowid, terms) SELECT id, "
                       "linge_terms(description, address) FROM cases_case")
        cursor.execute(f"DELETE FROM {RULE_TABLE}")
        cursor.execute(f"INSERT INTO {RULE_TABLE} (rule) VALUES (%s)", [RULE])
    for trigger in _SQLITE_TRIGGERS:
        cursor.execute(trigger)


def uninstall(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"DROP INDEX IF EXISTS {POSTGRES_INDEX}")
            cursor.execute("DROP FUNCTION IF EXISTS linge_terms(text, text)")
        elif connection.vendor == "sqlite":
            for trigger in ("insert", "delete", "update"):
                cursor.execute(f"DROP TRIGGER IF EXISTS {FTS_TABLE}_{trigger}")
            cursor.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")
            cursor.execute(f"DROP TABLE IF EXISTS {RULE_TABLE}")


def install_if_migrated(connection: BaseDatabaseWrapper) -> None:
    """post_migrate: install() once the migration that creates the index is applied."""
    applied = MigrationRecorder(connection).applied_migrations()
    if ("cases", MIGRATION) in applied:
        install(connection)


MIGRATION = "0003_case_text_search_index"
