from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class ResidentConfig(AppConfig):
    name = "linge.resident"
    label = "resident"
    verbose_name = _("群众端")

    def ready(self) -> None:
        from django.contrib.auth import get_user_model

        from linge.areas.models import Area
        from linge.cases.models import Category
        from linge.insights.models import Deliberation
        from linge.people.models import Membership, Unit
        from linge.resident import cached

        # Whatever a cached grid, team, agenda or category tree is made of
        # (resident/cached.py).
        for model in (Area, Membership, Unit, get_user_model(), Category, Deliberation):
            for signal in (post_save, post_delete):
                signal.connect(cached.invalidate, sender=model,
                               dispatch_uid=f"resident-cache-{signal is post_save}-{model.__name__}")
