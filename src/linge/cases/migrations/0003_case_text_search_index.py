"""The search index on the cases' text: see linge/cases/search.py."""

from django.db import migrations


def install(apps, schema_editor):
    from linge.cases import search

    search.install(schema_editor.connection)


def uninstall(apps, schema_editor):
    from linge.cases import search

    with schema_editor.connection.cursor() as cursor:
        if schema_editor.connection.vendor == "postgresql":
            cursor.execute(f"DROP INDEX IF EXISTS {search.POSTGRES_INDEX}")
            cursor.execute("DROP FUNCTION IF EXISTS linge_terms(text, text)")
        else:
            for suffix in ("insert", "delete", "update"):
                cursor.execute(f"DROP TRIGGER IF EXISTS {search.FTS_TABLE}_{suffix}")
            cursor.execute(f"DROP TABLE IF EXISTS {search.FTS_TABLE}")


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0002_case_handed_down_deadline"),
    ]

    operations = [
        migrations.RunPython(install, uninstall, elidable=False),
    ]
