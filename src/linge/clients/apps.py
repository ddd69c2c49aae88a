from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClientsConfig(AppConfig):
    name = "linge.clients"
    verbose_name = _("接口客户端与频率限制")
