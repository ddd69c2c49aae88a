from django.apps import AppConfig


class Open311Config(AppConfig):
    name = "linge.open311"
    verbose_name = "Open311"
