"""Django admin for the area tree."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import transaction
from django.http import HttpRequest

from linge.areas import locate
from linge.areas.models import Area


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "households"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    raw_id_fields = ["parent"]
    ordering = ["code"]
    # Boundaries come from `linge import-areas`; a JSON text box is no way to draw them.
    readonly_fields = ["boundary", "center_lon", "center_lat"]
    # The QR poster action is added by the resident pages (`resident/admin.py`), which
    # own the posters: areas sit below every other layer and import none of them.

    def save_model(self, request: HttpRequest, obj: Area, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        transaction.on_commit(locate.invalidate)

    def delete_model(self, request: HttpRequest, obj: Area) -> None:
        super().delete_model(request, obj)
        transaction.on_commit(locate.invalidate)
