from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsightsConfig(AppConfig):
    name = "linge.insights"
    label = "insights"
    verbose_name = _("分析研判")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from linge.insights import reach, rollups
        from linge.notify import worker

        for model in ("people.Membership", "people.Unit", "people.User", "areas.Area"):
            for signal in (post_save, post_delete):
                signal.connect(reach.forget_workers, sender=model,
                               dispatch_uid=f"workers-under-{signal is post_save}-{model}")

        def fold_events(tally, now=None) -> int:
            # The rollups follow the event log; a screen's request catches up the rest.
            return rollups.catch_up_all()

        worker.register("rollups", fold_events, order=30)
