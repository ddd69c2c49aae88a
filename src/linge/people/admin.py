from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from linge.people.auth import LockingAdminAuthenticationForm
from linge.people.models import Lane, LoginAttempt, Membership, Unit, User


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["unit"]


@admin.register(User)
class LingeUserAdmin(UserAdmin):
    list_display = ["username", "display_name", "phone", "is_resident", "is_active"]
    list_filter = ["is_resident", "is_active", "is_staff", "memberships__duty"]
    search_fields = ["username", "display_name", "phone"]
    fieldsets = (
        *UserAdmin.fieldsets,
        (_("岭格"), {"fields": ["display_name", "phone", "is_resident"]}),
    )
    inlines = [MembershipInline]


@admin.register(Lane)
class LaneAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "position"]


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "area", "lane", "phone"]
    list_filter = ["kind", "lane"]
    search_fields = ["name", "area__code", "area__name"]
    raw_id_fields = ["area"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "unit", "duty"]
    list_filter = ["duty", "unit__kind"]
    search_fields = ["user__username", "user__display_name", "unit__name"]
    raw_id_fields = ["user", "unit"]


@admin.register(LoginAttempt)
class LoginAttemptAdmin(admin.ModelAdmin):
    list_display = ["username", "ip", "at", "succeeded"]
    list_filter = ["succeeded"]
    search_fields = ["username", "ip"]


# The admin's login goes through the same lock as the workbench's, with its message.
admin.site.login_form = LockingAdminAuthenticationForm
