"""The QR poster action on areas in the admin (the posters belong to the resident pages)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from linge.areas.admin import AreaAdmin
from linge.areas.models import Area
from linge.resident.posters import PosterError, grids_under, posters_pdf


@admin.action(description=_("打印二维码海报（PDF）"))
def qr_posters(modeladmin: AreaAdmin, request: HttpRequest, queryset: Any) -> HttpResponse | None:
    try:
        pdf = posters_pdf(grids_under(queryset))
    except PosterError as error:
        modeladmin.message_user(request, str(error), level=messages.ERROR)
        return None
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="linge-posters.pdf"'
    return response


class AreaWithPostersAdmin(AreaAdmin):
    actions = [qr_posters]


admin.site.unregister(Area)
admin.site.register(Area, AreaWithPostersAdmin)
