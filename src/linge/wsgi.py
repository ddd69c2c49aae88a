import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linge.settings")
application = get_wsgi_application()


def freeze_heap() -> None:
    """Move what is loaded by now (Django, the URL conf, every module) out of the
    collector's sight: it lives as long as the process, and a full collection that
    walks it again and again cost the worker board a third of its p95. Runs as each
    gunicorn worker loads this module."""
    gc.collect()
    gc.freeze()


freeze_heap()
