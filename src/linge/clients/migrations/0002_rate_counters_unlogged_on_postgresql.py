"""On PostgreSQL the rate counters skip the write-ahead log (an UNLOGGED table).

Every anonymous report, login, code request and API call adds to a counter, each in a
statement of its own: logged, each such commit waited for its WAL record to reach the
disk (the counter statement took 0.5 ms of a report's 6.5-6.9 ms in one process,
0.2 ms unlogged). What an unlogged table gives up is its rows after a crash of the
server (PostgreSQL empties it on recovery): the windows then start again from zero,
which is what a limit of a few minutes can afford. SQLite has no such thing; the migration does nothing there.
"""

from django.db import migrations


def _persistence(word: str):
    def change(apps, schema_editor) -> None:
        connection = schema_editor.connection
        if connection.vendor != "postgresql":
            return
        table = connection.ops.quote_name(apps.get_model("clients", "Hit")._meta.db_table)
        schema_editor.execute(f"ALTER TABLE {table} SET {word}")

    return change


class Migration(migrations.Migration):
    dependencies = [("clients", "0001_api_keys_and_rate_counters")]

    operations = [migrations.RunPython(_persistence("UNLOGGED"), _persistence("LOGGED"))]
