from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AreasConfig(AppConfig):
    name = "linge.areas"
    label = "areas"
    verbose_name = _("区域与网格")
