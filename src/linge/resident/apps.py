from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ResidentConfig(AppConfig):
    name = "linge.resident"
    label = "resident"
    verbose_name = _("群众端")
