"""The Celery application. Configured from Django settings (CELERY_* names).

Without CELERY_BROKER_URL the settings make tasks run eagerly in-process, so the demo needs no
broker; with one, `celery -A tessera_site worker` and `celery -A tessera_site beat` do the work.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tessera_site.settings")

app = Celery("tessera")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
