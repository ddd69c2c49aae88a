"""Django admin for the area tree."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse

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
    actions = ["qr_posters"]

    @admin.action(description="打印二维码海报（PDF）")
    def qr_posters(self, request: HttpRequest, queryset: Any) -> HttpResponse | None:
        from linge.resident.posters import PosterError, grids_under, posters_pdf

        try:
            pdf = posters_pdf(grids_under(queryset))
        except PosterError as error:
            self.message_user(request, str(error), level=messages.ERROR)
            return None
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = 'attachment; filename="linge-posters.pdf"'
        return response

    def save_model(self, request: HttpRequest, obj: Area, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        transaction.on_commit(locate.invalidate)

    def delete_model(self, request: HttpRequest, obj: Area) -> None:
        super().delete_model(request, obj)
        transaction.on_commit(locate.invalidate)
