from django.contrib import admin

from linge.notify.models import Outbox, WorkerRun


@admin.register(Outbox)
class OutboxAdmin(admin.ModelAdmin):
    list_display = ["key", "channel", "status", "attempts", "created_at", "sent_at"]
    list_filter = ["status", "channel"]
    search_fields = ["key", "subject"]
    raw_id_fields = ["recipient"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WorkerRun)
class WorkerRunAdmin(admin.ModelAdmin):
    list_display = ["started_at", "finished_at", "host", "pid", "sent", "retried", "failed",
                    "warned", "flagged", "escalated", "closed"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
