from django.contrib import admin

from linge.visits.models import Household, Visit


@admin.register(Household)
class HouseholdAdmin(admin.ModelAdmin):
    list_display = ["address", "head", "people", "grid"]
    search_fields = ["address", "head"]
    raw_id_fields = ["grid"]


@admin.register(Visit)
class VisitAdmin(admin.ModelAdmin):
    list_display = ["household", "visitor", "at", "follow_up_on", "case"]
    raw_id_fields = ["household", "grid", "visitor", "case"]
