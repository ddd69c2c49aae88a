from django.contrib import admin

from linge.workbench.models import LoginAttempt


@admin.register(LoginAttempt)
class LoginAttemptAdmin(admin.ModelAdmin):
    list_display = ["username", "ip", "at", "succeeded"]
    list_filter = ["succeeded"]
    search_fields = ["username", "ip"]
