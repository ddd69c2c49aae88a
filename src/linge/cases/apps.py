from django.apps import AppConfig
from django.db import connections
from django.db.backends.signals import connection_created
from django.db.models.signals import post_delete, post_migrate, post_save
from django.utils.translation import gettext_lazy as _


def _reinstall_search(sender, using: str = "default", **kwargs) -> None:
    from linge.cases import search

    search.install_if_migrated(connections[using])


class CasesConfig(AppConfig):
    name = "linge.cases"
    label = "cases"
    verbose_name = _("案件")

    def ready(self) -> None:
        from linge.cases import search

        connection_created.connect(search.register_sqlite_function,
                                   dispatch_uid="linge_terms")
        post_migrate.connect(_reinstall_search, sender=self, dispatch_uid="linge_search")

        from linge import memo
        from linge.areas.models import Area
        from linge.cases.models import Category

        # The inbox's filter choices are kept (cases/inbox.py, linge/memo.py).
        for model in (Area, Category):
            for signal in (post_save, post_delete):
                signal.connect(memo.invalidate, sender=model,
                               dispatch_uid=f"cases-memo-{signal is post_save}-{model.__name__}")

        from linge.cases import jobs
        from linge.notify import worker

        worker.register("sweep", jobs.sweep_deadlines, order=10)
        worker.register("close", jobs.close_unrated, order=20)
        worker.register("orphan_photos", jobs.sweep_orphan_photos, order=90)
        worker.register("calendar", jobs.check_calendar, order=95)
        worker.register("statistics", jobs.refresh_planner_statistics, order=97)
