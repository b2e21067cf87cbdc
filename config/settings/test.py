"""The test suite: same settings as a laptop, with fast hashing and inline tasks.

A real Celery worker started by the integration test reads these settings too,
with CELERY_TASK_ALWAYS_EAGER=false, CELERY_BROKER_URL and EMAIL_URL from its
environment.
"""

from .base import *  # noqa: F403
from .base import env, mailers_from_url

DEBUG = False
# Badges counted afresh on every page: tests look at them right after a change.
NAV_BADGES_SECONDS = 0
LANGUAGE_CODE = "en"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CELERY_BROKER_URL = env("TEST_CELERY_BROKER_URL", default="memory://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
# The test process itself always gets Django's locmem backend (pytest-django).
MAILERS = mailers_from_url(env("TEST_EMAIL_URL", default="memorymail://"))
