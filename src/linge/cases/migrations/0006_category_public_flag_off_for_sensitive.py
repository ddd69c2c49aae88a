"""Categories get a `public` flag: whether their cases are listed on the public grid
page from the QR code. It is off for the sensitive ones of the packaged tree
(cases/data/categories.csv): disputes between named people (08 矛盾纠纷), suspected
theft, rented rooms, fraud leads, and a family's hardship, social insurance or papers."""

from django.db import migrations, models

NOT_PUBLIC = ("08", "0801", "0802", "0803", "0804", "0805", "0901", "0902", "0903",
              "1001", "1002", "1003")


def hide_sensitive(apps, schema_editor):
    Category = apps.get_model("cases", "Category")
    Category.objects.filter(code__in=NOT_PUBLIC).update(public=False)


def show_all(apps, schema_editor):
    apps.get_model("cases", "Category").objects.update(public=True)


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0005_case_reply_reminders_longer_submit_keys"),
    ]

    operations = [
        migrations.AddField(
            model_name="category",
            name="public",
            field=models.BooleanField(
                default=True, verbose_name="公开",
                help_text="此类问题是否列在网格公开页（扫码页）上；矛盾纠纷、诈骗线索等涉及个人的问题不公开"),
        ),
        migrations.RunPython(hide_sensitive, show_all),
    ]
