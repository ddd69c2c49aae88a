"""One-time codes were kept in clear in the delivery record of their SMS: mask them.

The codes of rows older than five minutes are expired anyway; masking them all means no
stored text, backup or export reveals one (ASVS V2.7, 等保 二级 敏感信息保护)."""

import re

from django.db import migrations

CODE = re.compile(r"(?<![0-9])[0-9]{6}(?![0-9])")


def mask(apps, schema_editor):
    Delivery = apps.get_model("notify", "Delivery")
    for row in Delivery.objects.filter(key__startswith="otp:").only("pk", "text").iterator():
        masked = CODE.sub("******", row.text)
        if masked != row.text:
            Delivery.objects.filter(pk=row.pk).update(text=masked)


class Migration(migrations.Migration):

    dependencies = [
        ("notify", "0004_outbox_subject_kind_link_without_cases"),
    ]

    operations = [migrations.RunPython(mask, migrations.RunPython.noop)]
