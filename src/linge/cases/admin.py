"""Categories are edited here; cases and their events are shown, never changed: every
change to a case goes through cases.workflow, and events are append-only."""

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linge.cases import holidays
from linge.cases.models import CalendarDay, Case, CaseEvent, Category


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "parent", "lane", "accept_within", "accept_unit",
                    "resolve_within", "resolve_unit", "photo_after_required", "auto_escalate",
                    "public", "active"]
    list_filter = ["lane", "parent", "public", "active"]
    search_fields = ["code", "name", "keywords"]


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    """Holidays and 调休: working-day deadlines read them. The page warns when next
    year's schedule has not been entered."""

    list_display = ["day", "weekday", "workday", "name", "source"]
    list_filter = ["workday", "source"]
    date_hierarchy = "day"
    search_fields = ["name"]
    actions = ["seed_from_packages"]

    @admin.display(description=gettext_lazy("星期"))
    def weekday(self, obj: CalendarDay) -> str:
        return "一二三四五六日"[obj.day.weekday()]

    def save_model(self, request, obj, form, change) -> None:
        if not obj.source:
            obj.source = request.user.get_username()[:32]
        super().save_model(request, obj, form, change)

    def changelist_view(self, request: HttpRequest, extra_context=None):
        year = holidays.missing_year(timezone.localdate())
        if year is not None:
            messages.warning(request, _(
                "尚未录入 %(y)s 年的放假和调休安排：该年的工作日时限将按周一至周五计算。"
                "请按国务院办公厅公布的通知逐日添加（放假日不勾选“上班”，调休上班日勾选）。")
                % {"y": year})
        return super().changelist_view(request, extra_context)

    @admin.action(description=gettext_lazy("从软件包（chinesecalendar）补充缺少的日期"))
    def seed_from_packages(self, request: HttpRequest, queryset) -> None:
        added = holidays.seed_from_packages()
        messages.info(request, _("已补充 %(n)s 天；已有的日期（含手工修改）保持不变。") % {"n": added})


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
