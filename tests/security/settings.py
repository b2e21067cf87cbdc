"""TEMPORARY: config.settings.test plus the login-protection settings that the lead
moves into config/settings/base.py (the snippet is in the helper's report). Once
base.py has them this module only re-exports the test settings and can go.

Run: .venv/bin/python -m pytest tests/security --ds=tests.security.settings
"""

from datetime import timedelta

from config.settings.test import *  # noqa: F403
from config.settings.test import INSTALLED_APPS, MIDDLEWARE, env

if "axes" not in INSTALLED_APPS:
    INSTALLED_APPS = [
        *INSTALLED_APPS,
        "django_otp",
        "django_otp.plugins.otp_totp",
        "axes",
    ]
    # axes last (it answers a locked-out login); OTP right after authentication.
    _auth = MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware")
    MIDDLEWARE = [
        *MIDDLEWARE[: _auth + 1],
        "django_otp.middleware.OTPMiddleware",
        "complaints.security_signals.TwoFactorMiddleware",
        "complaints.security_signals.DeniedAccessMiddleware",
        "complaints.security_signals.TokenPageHeadersMiddleware",
        *MIDDLEWARE[_auth + 1 :],
        "axes.middleware.AxesMiddleware",
    ]
    AUTHENTICATION_BACKENDS = [
        "axes.backends.AxesStandaloneBackend",
        "django.contrib.auth.backends.ModelBackend",
    ]
    AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
    AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
    AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
    AXES_RESET_ON_SUCCESS = True
    AXES_CLIENT_IP_CALLABLE = "complaints.services.access_log.request_ip"
    AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
    AXES_DISABLE_ACCESS_LOG = True
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
    REQUIRE_2FA = env.bool("REQUIRE_2FA", default=False)
    OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", default="Complaints")
    ROOT_URLCONF = "tests.security.urls"
