"""The search index on the cases' text: see linge/cases/search.py."""

from django.db import migrations


def install(apps, schema_editor):
    from linge.cases import search

    search.install(schema_editor.connection)


def uninstall(apps, schema_editor):
    from linge.cases import search

    search.uninstall(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0002_case_handed_down_deadline"),
    ]

    operations = [
        migrations.RunPython(install, uninstall, elidable=False),
    ]
