from django.urls import path

from linge.open311 import views

app_name = "open311"
urlpatterns = [
    path("discovery.<str:fmt>", views.discovery, name="discovery"),
    path("services.<str:fmt>", views.services, name="services"),
    path("services/<str:code>.<str:fmt>", views.definition, name="definition"),
    path("requests.<str:fmt>", views.requests_, name="requests"),
    path("requests/<str:number>.<str:fmt>", views.one_request, name="request"),
    path("tokens/<str:token>.<str:fmt>", views.token, name="token"),
    path("<path:rest>", views.unknown, name="unknown"),
]
