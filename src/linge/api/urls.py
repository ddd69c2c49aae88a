from django.shortcuts import render
from django.urls import path

from linge.api.api import api


def docs(request):
    """The API's docs page: Swagger UI from our own static files (no CDN)."""
    return render(request, "api/docs.html")


urlpatterns = [path("docs", docs, name="api-docs"), path("", api.urls)]
