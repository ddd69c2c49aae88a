"""Holidays and make-up working days in a table administrators edit, seeded from the
`chinesecalendar` package (2004 to the last year it knows)."""

from django.db import migrations, models


def seed(apps, schema_editor):
    import chinese_calendar
    from chinese_calendar.constants import Holiday

    CalendarDay = apps.get_model("cases", "CalendarDay")
    names = {h.value: h.chinese for h in Holiday}
    rows = [CalendarDay(day=d, workday=False, name=names.get(n, n or "")[:32],
                        source="chinesecalendar") for d, n in chinese_calendar.holidays.items()]
    rows += [CalendarDay(day=d, workday=True, name=names.get(n, n or "")[:32],
                         source="chinesecalendar") for d, n in chinese_calendar.workdays.items()]
    CalendarDay.objects.bulk_create(rows, batch_size=500)


def unseed(apps, schema_editor):
    apps.get_model("cases", "CalendarDay").objects.all().delete()


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0006_category_public_flag_off_for_sensitive"),
    ]

    operations = [
        migrations.CreateModel(
            name="CalendarDay",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                           verbose_name="ID")),
                ("day", models.DateField(unique=True, verbose_name="日期")),
                ("workday", models.BooleanField(default=False, help_text="勾选：调休上班日；不勾选：放假",
                                                verbose_name="上班")),
                ("name", models.CharField(blank=True, max_length=32, verbose_name="节日")),
                ("source", models.CharField(blank=True, max_length=32, verbose_name="来源")),
            ],
            options={"verbose_name": "节假日与调休", "verbose_name_plural": "节假日与调休",
                     "ordering": ["day"]},
        ),
        migrations.RunPython(seed, unseed),
    ]
