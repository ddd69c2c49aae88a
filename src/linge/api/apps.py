from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "linge.api"
    label = "linge_api"
    verbose_name = "API"
