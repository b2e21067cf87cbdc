"""Production: PostgreSQL, Redis, gunicorn behind a TLS proxy.

Differs from base only in environment values and hardening; passes
`manage.py check --deploy`.
"""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import CELERY_BROKER_URL, SILENCED_SYSTEM_CHECKS, STORAGES, env, mailers_from_url

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY")  # no default: refuse to start without one

# A local MTA unless told otherwise; never the console backend in production.
MAILERS = mailers_from_url(env("EMAIL_URL", default="smtp://localhost:25"))

STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Every web process must see the same cache: rate limits, presence, sessions and the
# configuration cache (complaints/config_cache.py) count on it.
if not env("CACHE_URL", default="").startswith(("redis://", "rediss://")):
    raise ImproperlyConfigured(
        "Production needs a cache shared by every process: set CACHE_URL=redis://…"
    )
# Sessions are read from the cache (no query per request) and kept in the database.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
if not SECURE_HSTS_PRELOAD:
    # Preloading is a lasting commitment of the whole domain to HTTPS: the operator
    # opts in with SECURE_HSTS_PRELOAD=true; until then the reminder is silenced.
    SILENCED_SYSTEM_CHECKS = [*SILENCED_SYSTEM_CHECKS, "security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # A task of a worker killed before acknowledging it (late ack) comes back after this
    # (kombu's default is an hour). Tasks are idempotent: one delivered twice is harmless.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=900),
    }
