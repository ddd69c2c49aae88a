from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "linge.notify"
    label = "notify"
    verbose_name = _("通知")

    def ready(self) -> None:
        from linge.clients import limits
        from linge.notify import worker

        worker.register("rate_limits", limits.sweep_ended, order=96)
