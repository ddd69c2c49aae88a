from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsightsConfig(AppConfig):
    name = "linge.insights"
    label = "insights"
    verbose_name = _("分析研判")

    def ready(self) -> None:
        from linge.insights import rollups
        from linge.notify import worker

        def fold_events(tally, now=None) -> int:
            # The rollups follow the event log; a screen's request catches up the rest.
            return rollups.catch_up_all()

        worker.register("rollups", fold_events, order=30)
