"""One agenda item per village, meeting date and title (a double tap made two)."""

from django.conf import settings
from django.db import migrations, models


def merge_duplicates(apps, schema_editor):
    """Fold items the constraint would refuse into the oldest: cases joined, an outcome
    kept (the longest, when both have one)."""
    Deliberation = apps.get_model("insights", "Deliberation")
    seen = {}
    for item in Deliberation.objects.order_by("pk"):
        key = (item.village_id, item.meeting_on, item.title)
        first = seen.setdefault(key, item)
        if first is item:
            continue
        first.case_numbers = sorted(set(first.case_numbers) | set(item.case_numbers))
        if len(item.outcome) > len(first.outcome):
            first.outcome = item.outcome
        first.save(update_fields=["case_numbers", "outcome"])
        item.delete()


class Migration(migrations.Migration):

    dependencies = [
        ('areas', '0001_area_tree'),
        ('cases', '0003_case_text_search_index'),
        ('insights', '0001_deliberations'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(merge_duplicates, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='deliberation',
            constraint=models.UniqueConstraint(fields=('village', 'meeting_on', 'title'), name='one_agenda_item_per_meeting'),
        ),
    ]
