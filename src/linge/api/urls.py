from django.urls import path

from linge.api.api import api

urlpatterns = [path("", api.urls)]
