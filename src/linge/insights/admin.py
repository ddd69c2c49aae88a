from django.contrib import admin

from linge.insights.models import Deliberation


@admin.register(Deliberation)
class DeliberationAdmin(admin.ModelAdmin):
    list_display = ["title", "village", "meeting_on", "created_by"]
    raw_id_fields = ["village", "category", "created_by"]
