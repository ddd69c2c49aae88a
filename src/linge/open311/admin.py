from django.contrib import admin

from linge.open311.models import ServiceAttribute


@admin.register(ServiceAttribute)
class ServiceAttributeAdmin(admin.ModelAdmin):
    list_display = ["category", "code", "description", "datatype", "required", "order"]
    list_filter = ["datatype", "required"]
    raw_id_fields = ["category"]
