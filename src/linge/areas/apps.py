from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AreasConfig(AppConfig):
    name = "linge.areas"
    label = "areas"
    verbose_name = _("区域与网格")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from linge.areas import locate

        # The locate index of this process follows every change to an area at once.
        post_save.connect(locate.area_changed, sender="areas.Area",
                          dispatch_uid="locate-area-saved")
        post_delete.connect(locate.area_changed, sender="areas.Area",
                            dispatch_uid="locate-area-deleted")
