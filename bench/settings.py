# ruff: noqa: S108
"""Benchmark settings: production's, served over plain HTTP on 127.0.0.1.

Only what a local run needs differs from production: no TLS redirect or secure-only
cookies (there is no proxy), the console mailer, no API throttling (the intake
figure is the server's capacity, not the per-account limit), and the bench urlconf
that adds the two ceiling views.
"""

from config.settings.production import *  # noqa: F403
from config.settings.production import REST_FRAMEWORK, mailers_from_url

ROOT_URLCONF = "bench.urls"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
MAILERS = mailers_from_url("consolemail://")
# Tasks queued by the requests (outbox, webhooks) go to a folder of the bench's own.
_BENCH_QUEUE = "/tmp/complaints-bench-celery"
CELERY_BROKER_URL = "filesystem://"
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "data_folder_in": _BENCH_QUEUE,
    "data_folder_out": _BENCH_QUEUE,
    "processed_folder": _BENCH_QUEUE,
}
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {"api-read": None, "api-write": None},
}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"level": "WARNING", "handlers": []},
}
# collectstatic (manifest storage, as in production) into a folder of the bench's own.
STATIC_ROOT = "/tmp/complaints-bench-static"
