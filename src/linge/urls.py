from django.contrib import admin
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import include, path

from linge.areas.models import Area, Level
from linge.cases.models import Case, State


def healthz(request: HttpRequest) -> HttpResponse:
    """200 "ok" when the database answers, else 503: a load balancer takes a process
    that cannot reach its database out of rotation."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return HttpResponse("database unreachable", status=503, content_type="text/plain")
    return HttpResponse("ok", content_type="text/plain")


def home(request: HttpRequest) -> HttpResponse:
    context = {
        "towns": Area.objects.filter(level=Level.TOWN).count(),
        "grids": Area.objects.filter(level=Level.GRID).count(),
        "cases": Case.objects.count(),
        "closed": Case.objects.filter(state=State.CLOSED).count(),
    }
    return render(request, "home.html", context)


urlpatterns = [
    path("", home, name="home"),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("linge.resident.urls")),
    path("work/", include("linge.workbench.urls")),
    path("cockpit/", include("linge.cockpit.urls")),
    path("api/v1/", include("linge.api.urls")),
    path("open311/v2/", include("linge.open311.urls")),
]
