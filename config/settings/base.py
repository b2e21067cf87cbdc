"""Settings shared by every environment.

Everything that differs between a laptop and production comes from the
environment (see .env.example); no feature exists only in production.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
# A .env file beside manage.py is read when present; real environment wins.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("SECRET_KEY", default="insecure-local-development-key-change-me")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "django_htmx",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "complaints",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
]

MIDDLEWARE = [
    "complaints.observability.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "complaints.security_signals.TwoFactorMiddleware",
    "complaints.security_signals.DeniedAccessMiddleware",
    "complaints.security_signals.TokenPageHeadersMiddleware",
    "complaints.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Records request.user as the author of every history row saved in a request.
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last: it answers a locked-out login.
    "axes.middleware.AxesMiddleware",
]

# --- Login protection ---------------------------------------------------------------------
# Repeated failures lock the username from that address out for a while (django-axes);
# every login, failure, lockout, logout and refusal goes to complaints.AccessLog.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "complaints.auth_backends.CachedPermissionsBackend",
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "complaints.services.access_log.request_ip"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_DISABLE_ACCESS_LOG = True  # ours is complaints.AccessLog
AXES_VERBOSE = False
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SESSION_COOKIE_AGE = env.int("SESSION_HOURS", default=8) * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = env.bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", default=True)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Staff must set up an authenticator app and enter a code after their password.
REQUIRE_2FA = env.bool("REQUIRE_2FA", default=False)
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", default="Complaints")

# Content Security Policy: scripts only from our own static files (or with the
# per-request nonce); inline style attributes are tolerated (Bootstrap, the admin).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.template.context_processors.csp",
                "complaints.context_processors.workspace",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
# DATABASE_URL: postgres://user:pass@host:5432/name, or sqlite:////abs/path.db.
# The embedded default is a SQLite file under var/.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the worker share the file: WAL lets readers go on while
    # one writes, IMMEDIATE takes the write lock at BEGIN (no upgrade deadlocks),
    # and busy_timeout waits for the lock instead of failing at once.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "init_command": (
            "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA busy_timeout=10000"
        ),
    }
else:
    # Keep connections open between requests: opening one per request costs
    # ~10x the throughput of a primary-key SELECT on this class of machine.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"]["TEST"] = {"TEMPLATE": "template0", "CHARSET": "UTF8"}
    # JIT compilation cost more than it saved on the dashboard's aggregates (2.2 s of
    # a 6.1 s query on a million complaints).
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"

# Rate limits and presence share this cache: use Redis (CACHE_URL=redis://…) when
# several web processes serve the site, so they count together.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}
# The navigation's badges (queue counts, call-backs due…) are kept this long per user.
NAV_BADGES_SECONDS = env.int("NAV_BADGES_SECONDS", default=15)
# Behind a reverse proxy that sets it (nginx: proxy_set_header X-Real-IP $remote_addr),
# CLIENT_IP_HEADER=HTTP_X_REAL_IP makes rate limits count real clients.
CLIENT_IP_HEADER = env("CLIENT_IP_HEADER", default="")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "complaints.User"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "complaints:staff-home"
LOGOUT_REDIRECT_URL = "login"

# --- Languages and time -----------------------------------------------------------
LANGUAGE_CODE = env("LANGUAGE_CODE", default="zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- Static and media files ---------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}


# --- Email ----------------------------------------------------------------------------
# EMAIL_URL: smtp://user:pass@host:587 (starttls with smtp+tls://, implicit TLS
# with smtp+ssl://) or consolemail:// to print mail instead of sending it.
def mailers_from_url(url: str) -> dict:
    parsed = environ.Env.email_url_config(url)
    options = {}
    if parsed["EMAIL_BACKEND"].endswith("smtp.EmailBackend"):
        options = {
            "host": parsed.get("EMAIL_HOST") or "localhost",
            "port": parsed.get("EMAIL_PORT") or 25,
            "username": parsed.get("EMAIL_HOST_USER", ""),
            "password": parsed.get("EMAIL_HOST_PASSWORD", ""),
            "use_tls": bool(parsed.get("EMAIL_USE_TLS")),
            "use_ssl": bool(parsed.get("EMAIL_USE_SSL")),
            "timeout": env.int("EMAIL_TIMEOUT", default=30),
        }
    return {"default": {"BACKEND": parsed["EMAIL_BACKEND"], "OPTIONS": options}}


MAILERS = mailers_from_url(env("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="complaints@localhost")
SERVER_EMAIL = env("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
# Where customers' replies go (the mailbox the mail fetch reads), and the domain of
# the Message-IDs we send (replies are threaded by them).
COMPLAINT_REPLY_TO = env("COMPLAINT_REPLY_TO", default="")
COMPLAINT_MAIL_DOMAIN = env("COMPLAINT_MAIL_DOMAIN", default="complaints.localhost")

# --- Background work --------------------------------------------------------------------
# The laptop default needs no service: kombu's file-system transport under var/.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "celery" / "queue"
    _processed_dir = VAR_DIR / "celery" / "processed"
    for _d in (_queue_dir, _processed_dir, VAR_DIR / "celery" / "control"):
        _d.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_processed_dir),
        # Broadcast/control messages too, or kombu writes ./control in the cwd.
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# The periodic schedule lives in code (one `celery beat` in production, -B on a laptop).
# Each job is also a management command, so cron works too.
CELERY_BEAT_SCHEDULE: dict = {
    # A sweep older than its minute is dropped: the next one covers the same ground.
    "sla-sweep": {
        "task": "complaints.tasks_sla.sla_sweep_task",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "collaboration-sweep": {
        "task": "complaints.tasks_escalation.collaboration_sweep_task",
        "schedule": 60.0,
    },
    "escalations-climb": {
        "task": "complaints.tasks_escalation.escalations_climb_task",
        "schedule": 60.0,
    },
    "outbox-retry": {"task": "complaints.tasks.outbox_deliver_due", "schedule": 60.0},
    "callbacks-due": {"task": "complaints.tasks_loop.callbacks_due_task", "schedule": 900.0},
    "webhook-retry": {"task": "complaints.tasks_webhooks.webhook_deliver_due", "schedule": 60.0},
    # Every complaint compared with its durations row (the rollup's run every minute
    # looks only at the complaints updated since its last run).
    "durations-refresh": {
        "task": "complaints.tasks_analytics.durations_refresh_task",
        "schedule": 3600.0,
    },
    "trend-warnings": {
        "task": "complaints.tasks_analytics.trend_warnings_task",
        "schedule": 3600.0,
    },
    # The dashboard's daily rollup, recomputed for the days touched since the last run.
    "rollup-refresh": {"task": "complaints.tasks_analytics.rollup_refresh_task", "schedule": 60.0},
    "housekeeping": {"task": "complaints.tasks.housekeeping_purge", "schedule": 3600.0},
}
# The support mailbox (services/mailfetch.py); with a host set, beat fetches it.
MAIL_IMAP_HOST = env("MAIL_IMAP_HOST", default="")
MAIL_IMAP_PORT = env.int("MAIL_IMAP_PORT", default=0)
MAIL_IMAP_USER = env("MAIL_IMAP_USER", default="")
MAIL_IMAP_PASSWORD = env("MAIL_IMAP_PASSWORD", default="")
MAIL_IMAP_SECURITY = env("MAIL_IMAP_SECURITY", default="ssl")
MAIL_IMAP_FOLDER = env("MAIL_IMAP_FOLDER", default="INBOX")
MAIL_IMAP_TIMEOUT = env.int("MAIL_IMAP_TIMEOUT", default=60)
if MAIL_IMAP_HOST:
    CELERY_BEAT_SCHEDULE["mail-fetch"] = {
        "task": "complaints.tasks_mail.mail_fetch_task",
        "schedule": env.float("MAIL_FETCH_SECONDS", default=60.0),
    }

# --- REST API -----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Complaint handling API",
    "VERSION": "1.0.0",
    # Several models have a "status", "kind" or "channel": name each enum after its choices.
    "ENUM_NAME_OVERRIDES": {
        "ComplaintStatusEnum": "complaints.workflow.ComplaintStatus",
        "ChannelEnum": "complaints.models.complaint.Channel",
        "TeamKindEnum": "complaints.models.org.Team.Kind",
        "EventKindEnum": "complaints.models.timeline.ComplaintEvent.Kind",
        "RemedyKindEnum": "complaints.models.remedy.RemedyKind",
        "RemedyStatusEnum": "complaints.models.remedy.Remedy.Status",
        "CollaborationStatusEnum": "complaints.models.escalation.CollaborationRequest.Status",
        "CallbackStatusEnum": "complaints.models.callback.CallbackTask.Status",
        "ImprovementStatusEnum": "complaints.models.improvement.ImprovementAction.Status",
    },
}

# --- Operations -----------------------------------------------------------------------------
# /metrics (Prometheus text) answers only with `Authorization: Bearer <METRICS_TOKEN>`;
# without a token set it does not exist.
METRICS_TOKEN = env("METRICS_TOKEN", default="")
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=50 * 1024 * 1024)  # nginx allows 55m
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=100_000)
# Retention (0 = keep): raw inbound mail already handled, and the files of finished
# complaints, are deleted after this many days by the hourly housekeeping.
RAW_MAIL_RETENTION_DAYS = env.int("RAW_MAIL_RETENTION_DAYS", default=0)
ATTACHMENT_RETENTION_DAYS = env.int("ATTACHMENT_RETENTION_DAYS", default=0)
# The dashboard and its exports may read from a PostgreSQL streaming replica.
if env("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = env.db("DATABASE_REPLICA_URL")
    DATABASES["replica"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["replica"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["config.routers.AnalyticsReplicaRouter"]

# --- Product settings ----------------------------------------------------------------------
# Prefix of tracking numbers such as TS-20261123-7K4Q9.
COMPLAINT_TRACKING_PREFIX = env("COMPLAINT_TRACKING_PREFIX", default="TS")
# The public address of the site, for links in emails (status links).
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
# How long the signed status link in the acknowledgment works.
COMPLAINT_STATUS_LINK_DAYS = env.int("COMPLAINT_STATUS_LINK_DAYS", default=90)
# Largest attachment accepted (staff and customers alike).
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_MB", default=10) * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# A closed complaint may be reopened within this window.
COMPLAINT_REOPEN_WINDOW = timedelta(days=env.int("COMPLAINT_REOPEN_WINDOW_DAYS", default=30))
# The satisfaction survey: how long its link works; ratings at or below the threshold
# (or "not solved") reopen the complaint.
COMPLAINT_SURVEY_DAYS = env.int("COMPLAINT_SURVEY_DAYS", default=14)
COMPLAINT_SURVEY_THRESHOLD = env.int("COMPLAINT_SURVEY_THRESHOLD", default=2)
# Call-backs (回访): opened this many days after the resolution when the survey is
# unanswered; after this many failed attempts (at least the retry interval apart)
# the complaint closes with "no response".
COMPLAINT_CALLBACK_AFTER_DAYS = env.int("COMPLAINT_CALLBACK_AFTER_DAYS", default=3)
COMPLAINT_CALLBACK_MAX_ATTEMPTS = env.int("COMPLAINT_CALLBACK_MAX_ATTEMPTS", default=3)
COMPLAINT_CALLBACK_RETRY_HOURS = env.int("COMPLAINT_CALLBACK_RETRY_HOURS", default=4)
# The currency of remedy amounts (shown next to them).
COMPLAINT_CURRENCY = env("COMPLAINT_CURRENCY", default="CNY")

SMS_BACKEND = env("SMS_BACKEND", default="complaints.sms.LogBackend")
SMS_GATEWAY_URL = env("SMS_GATEWAY_URL", default="")
SMS_GATEWAY_SECRET = env("SMS_GATEWAY_SECRET", default="")
SMS_GATEWAY_TEMPLATE = env("SMS_GATEWAY_TEMPLATE", default="")

SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

# plain, or json: one JSON object per line. Both carry the request id, also in the
# tasks a request queued (complaints/observability.py).
LOG_FORMAT = env("LOG_FORMAT", default="plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "complaints.observability.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "complaints.observability.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}
# The worker logs through LOGGING too.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# The SLA sweep's partial indexes carry non-key columns (INCLUDE) on PostgreSQL, for
# index-only scans; on SQLite they are plain partial indexes, which is all it needs.
SILENCED_SYSTEM_CHECKS = ["models.W040"]
