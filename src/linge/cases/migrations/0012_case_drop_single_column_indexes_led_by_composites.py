"""Drop the single-column indexes of cases_case whose column leads a composite index.

Django gives every foreign key and every db_index field its own index; each of these
seven is the first column of one of Meta.indexes, which answers every look-up it
would. Every new case wrote to them all the same: 27 indexes before, 20 after. Only the indexes are dropped (a plain AlterField would rebuild the
whole table on SQLite, and drop and re-check every foreign key on PostgreSQL); the
model state says db_index=False.
"""

import django.db.models.deletion
from django.db import migrations, models

DROPPED = {
    "cases_case_category_id_c6dc5a5a": "category_id",
    "cases_case_created_at_1f9faaa8": "created_at",
    "cases_case_dispatched_unit_id_59b8ded3": "dispatched_unit_id",
    "cases_case_grid_id_af7609ce": "grid_id",
    "cases_case_owner_unit_id_cd1312e3": "owner_unit_id",
    "cases_case_town_id_2dc94c04": "town_id",
    "cases_case_village_id_9afc21ac": "village_id",
}


def drop(apps, schema_editor) -> None:
    for name in DROPPED:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


def restore(apps, schema_editor) -> None:
    for name, column in DROPPED.items():
        schema_editor.execute(f'CREATE INDEX "{name}" ON "cases_case" ("{column}")')


class Migration(migrations.Migration):

    dependencies = [
        ('areas', '0001_area_tree'),
        ('cases', '0011_case_created_id_keyset_index'),
        ('people', '0002_login_attempts_for_every_way_in'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(drop, restore)],
            state_operations=[
                migrations.AlterField(
                    model_name='case',
                    name='category',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, to='cases.category', verbose_name='分类'),
                ),
                migrations.AlterField(
                    model_name='case',
                    name='created_at',
                    field=models.DateTimeField(verbose_name='上报时间'),
                ),
                migrations.AlterField(
                    model_name='case',
                    name='dispatched_unit',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='dispatched_cases', to='people.unit', verbose_name='承办单位'),
                ),
                migrations.AlterField(
                    model_name='case',
                    name='grid',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='cases', to='areas.area', verbose_name='网格'),
                ),
                migrations.AlterField(
                    model_name='case',
                    name='owner_unit',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='owned_cases', to='people.unit', verbose_name='责任单位'),
                ),
                migrations.AlterField(
                    model_name='case',
                    name='town',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='areas.area', verbose_name='镇街'),
                ),
                migrations.AlterField(
                    model_name='case',
                    name='village',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='areas.area', verbose_name='村社'),
                ),
            ],
        ),
    ]
