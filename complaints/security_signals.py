"""What feeds the access log, and the staff two-factor gate.

- Receivers of Django's auth signals (logged in, login failed, logged out) and of
  django-axes' lock-out signal, connected when this module is imported (from
  ComplaintsConfig.ready). They only write AccessLog rows: no product behaviour
  depends on them.
- DeniedAccessMiddleware: every 401/403 response (PermissionDenied, a DRF refusal)
  is logged. A 404 is not: missing and forbidden objects look the same by design.
- TwoFactorMiddleware: with settings.REQUIRE_2FA, a signed-in staff member who has
  not yet passed a TOTP code in this session is sent to set up a device or enter a
  code (complaints/views/account.py) before any other page.
- TokenPageHeadersMiddleware: Referrer-Policy for public pages whose URL carries a
  token, so the token never travels on in a Referer.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.shortcuts import redirect
from django.urls import reverse

from complaints.services import access_log

logger = logging.getLogger(__name__)


def _username_from(credentials: dict | None, request) -> str:
    field = getattr(settings, "AXES_USERNAME_FORM_FIELD", "username")
    name = (credentials or {}).get("username") or (credentials or {}).get(field) or ""
    if not name and request is not None and request.method == "POST":
        name = request.POST.get(field, "")
    return str(name)


@receiver(user_logged_in, dispatch_uid="complaints.access_log.login")
def _on_login(sender, request, user, **kwargs):
    access_log.access_log_login(request=request, user=user)


@receiver(user_login_failed, dispatch_uid="complaints.access_log.login_failed")
def _on_login_failed(sender, credentials=None, request=None, **kwargs):
    access_log.access_log_login_failed(
        request=request, username=_username_from(credentials, request)
    )


@receiver(user_logged_out, dispatch_uid="complaints.access_log.logout")
def _on_logout(sender, request, user, **kwargs):
    if user is not None:
        access_log.access_log_logout(request=request, user=user)


try:
    from axes.signals import user_locked_out
except ImportError:  # pragma: no cover - axes is a pinned requirement
    user_locked_out = None

if user_locked_out is not None:

    @receiver(user_locked_out, dispatch_uid="complaints.access_log.locked_out")
    def _on_locked_out(sender, request=None, username=None, ip_address=None, **kwargs):
        access_log.access_log_locked_out(request=request, username=username or "")


class DeniedAccessMiddleware:
    """Logs every 401/403 answer with the user, the IP and the path."""

    DENIED = frozenset({401, 403})

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code in self.DENIED:
            try:
                access_log.access_log_denied(request=request, status=response.status_code)
            except Exception:  # never turn a refusal into a 500
                logger.exception("could not write the access log")
        return response


# Pages a staff member may open before passing the second factor.
_TWO_FACTOR_OPEN = ("login", "logout", "account-2fa-setup", "account-2fa-verify")


class TwoFactorMiddleware:
    """With REQUIRE_2FA on, staff must verify a TOTP code once per session.

    Must come after django_otp.middleware.OTPMiddleware (which sets
    request.user.is_verified()).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if getattr(settings, "REQUIRE_2FA", False) and self._must_verify(request):
            from complaints.views import account

            target = account.next_two_factor_step(request.user)
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse(target)}?{query}")
        return self.get_response(request)

    @staticmethod
    def _must_verify(request) -> bool:
        from complaints import roles

        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return False
        if not (user.is_staff or roles.is_staff_member(user)):
            return False
        verified = getattr(user, "is_verified", None)
        if verified is not None and verified():
            return False
        path = request.path_info
        if path.startswith("/" + settings.STATIC_URL.lstrip("/")):
            return False
        # A token-authenticated API client is anonymous here (DRF signs it in later).
        return path not in {reverse(name) for name in _TWO_FACTOR_OPEN}


# Pages whose URL carries a secret (a signed status link, a survey token): the
# browser must not send that URL on to anyone as a Referer.
# - no-referrer where the page sends nothing back to us (the link redirects, the
#   confirmation only shows);
# - strict-origin on pages with a form: with no-referrer a browser posts the form
#   with "Origin: null", which Django's CSRF check refuses; strict-origin sends only
#   "https://our.host" (never the path with the token) and keeps the check working.
TOKEN_PAGES = {
    "public-track-link": "no-referrer",
    "public-submitted": "no-referrer",
    "public-survey": "strict-origin",
}


class TokenPageHeadersMiddleware:
    """Referrer-Policy for the token-carrying public pages (see TOKEN_PAGES); must
    come after SecurityMiddleware, whose default (same-origin) it replaces there."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        policy = TOKEN_PAGES.get(match.url_name) if match is not None else None
        if policy and match.namespace == "complaints":
            response["Referrer-Policy"] = policy
            response.setdefault("Cache-Control", "no-store")
        return response
