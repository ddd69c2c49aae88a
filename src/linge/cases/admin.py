"""Categories are edited here; cases and their events are shown, never changed: every
change to a case goes through cases.workflow, and events are append-only."""

from django.contrib import admin
from django.http import HttpRequest

from linge.cases.models import Case, CaseEvent, Category


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "parent", "lane", "accept_within", "accept_unit",
                    "resolve_within", "resolve_unit", "photo_after_required", "auto_escalate",
                    "public", "active"]
    list_filter = ["lane", "parent", "public", "active"]
    search_fields = ["code", "name", "keywords"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class EventInline(admin.TabularInline):
    model = CaseEvent
    fields = ["seq", "at", "action", "actor_label", "from_state", "to_state", "data", "public"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["seq"]

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ["number", "category", "state", "source", "grid", "owner_unit",
                    "created_at", "overdue", "supervised"]
    list_filter = ["state", "source", "overdue", "supervised", "escalated"]
    search_fields = ["number", "description"]
    date_hierarchy = "created_at"
    list_select_related = ["category", "grid", "owner_unit"]
    inlines = [EventInline]
    show_full_result_count = False


@admin.register(CaseEvent)
class CaseEventAdmin(ReadOnlyAdmin):
    list_display = ["seq", "case", "action", "actor_label", "from_state", "to_state", "at"]
    list_filter = ["action"]
    search_fields = ["case__number"]
    list_select_related = ["case"]
    show_full_result_count = False
