"""Celery application.

The broker comes from settings (CELERY_BROKER_URL): Redis in production, the
file-system transport on a laptop, and tasks run eagerly in tests.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("complaints")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
