"""The outbox knows nothing of cases: what a message is about, what happened and where
to read more become plain columns, filled from the old links; reminders moved to cases."""

from django.db import migrations, models


def fill(apps, schema_editor):
    outbox = apps.get_model("notify", "Outbox")
    rows = outbox.objects.select_related("case", "event").only(
        "pk", "recipient_id", "phone", "text", "case__number", "event__action")
    batch = []
    for row in rows.iterator(chunk_size=2000):
        number = row.case.number
        staff = row.text.startswith(("案件", "【督促】")) and row.phone == ""
        row.subject = number
        row.kind = row.event.action if not row.key.startswith("due:") else (
            "due_" + row.key.split(":")[4])
        row.link = f"/work/case/{number}/" if staff else f"/c/{number}"
        batch.append(row)
        if len(batch) >= 2000:
            outbox.objects.bulk_update(batch, ["subject", "kind", "link"])
            batch = []
    outbox.objects.bulk_update(batch, ["subject", "kind", "link"])


class Migration(migrations.Migration):

    dependencies = [
        ("notify", "0003_outbox_lease_reminders_worker_runs"),
        ("cases", "0005_case_reply_reminders_longer_submit_keys"),
    ]

    operations = [
        migrations.AddField(
            model_name="outbox", name="subject",
            field=models.CharField(blank=True, db_index=True, max_length=40),
        ),
        migrations.AddField(
            model_name="outbox", name="kind", field=models.CharField(blank=True, max_length=32),
        ),
        migrations.AddField(
            model_name="outbox", name="link", field=models.CharField(blank=True, max_length=200),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.RemoveField(model_name="outbox", name="case"),
        migrations.RemoveField(model_name="outbox", name="event"),
        migrations.DeleteModel(name="Reminder"),
    ]
