"""A public reply on resolve; submit keys namespaced by channel (longer); deadline
reminders move here from notify (which no longer knows of cases), rows copied."""

import django.db.models.deletion
from django.db import migrations, models


def copy_reminders(apps, schema_editor):
    old = apps.get_model("notify", "Reminder")
    new = apps.get_model("cases", "Reminder")
    new.objects.bulk_create(
        [new(case_id=r.case_id, stage=r.stage, due=r.due, level=r.level, at=r.at)
         for r in old.objects.all().iterator(chunk_size=2000)],
        batch_size=2000,
    )


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0004_case_caller_phone_index"),
        ("notify", "0003_outbox_lease_reminders_worker_runs"),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="reply",
            field=models.CharField(blank=True, max_length=500, verbose_name="答复群众"),
        ),
        migrations.AlterField(
            model_name="case",
            name="submit_key",
            field=models.CharField(blank=True, max_length=80, null=True, unique=True),
        ),
        migrations.CreateModel(
            name="Reminder",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                           verbose_name="ID")),
                ("stage", models.CharField(max_length=8)),
                ("due", models.DateTimeField()),
                ("level", models.CharField(max_length=8)),
                ("at", models.DateTimeField()),
                ("case", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                           related_name="+", to="cases.case")),
            ],
            options={
                "verbose_name": "时限提醒",
                "verbose_name_plural": "时限提醒",
                "constraints": [models.UniqueConstraint(
                    fields=("case", "stage", "due", "level"),
                    name="one_case_reminder_per_deadline_level")],
            },
        ),
        migrations.RunPython(copy_reminders, migrations.RunPython.noop),
    ]
