"""The access log (AccessLog): logins, failed logins, lock-outs, log-outs and refused
accesses, for security reviews.

Written by complaints/security_signals.py (Django's auth signals, django-axes'
lock-out signal) and by the denied-access middleware there; readable in the admin
(complaints/admin/security.py), never edited.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from complaints.models import AccessLog
from complaints.ratelimit import client_ip

# Long values are cut to the column sizes; the raw request is never stored.
_PATH_MAX = 500
_USERNAME_MAX = 150


def request_ip(request) -> str | None:
    """The client's IP address (see complaints.ratelimit.client_ip), or None when
    unknown (a request built by a test or a script). Also django-axes' IP callable."""
    if request is None:
        return None
    ip = client_ip(request)
    return None if ip == "unknown" else ip


def _user_of(user: Any):
    """A real, saved user (not AnonymousUser, not roles.SYSTEM), or None."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    if getattr(user, "is_system", False) or getattr(user, "pk", None) is None:
        return None
    return user


def access_log_record(
    *,
    event: str,
    request=None,
    user: Any = None,
    username: str = "",
    target: str = "",
    detail: dict | None = None,
) -> AccessLog:
    """Write one access log row. The user defaults to the request's signed-in user;
    the IP comes from the request (complaints.ratelimit.client_ip, so behind a proxy
    the real client's address)."""
    if user is None and request is not None:
        user = getattr(request, "user", None)
    user = _user_of(user)
    if not username and user is not None:
        username = user.get_username()
    path = request.get_full_path()[:_PATH_MAX] if request is not None else ""
    return AccessLog.objects.create(
        at=timezone.now(),
        event=event,
        user=user,
        username=(username or "")[:_USERNAME_MAX],
        ip=request_ip(request),
        path=path,
        target=target[:100],
        detail=detail or {},
    )


def access_log_login(*, request, user) -> AccessLog:
    return access_log_record(event=AccessLog.Event.LOGIN, request=request, user=user)


def access_log_login_failed(*, request, username: str) -> AccessLog:
    # The password is never written, not even its length.
    return access_log_record(
        event=AccessLog.Event.LOGIN_FAILED, request=request, user=None, username=username
    )


def access_log_locked_out(*, request, username: str) -> AccessLog:
    return access_log_record(
        event=AccessLog.Event.LOCKED_OUT, request=request, user=None, username=username
    )


def access_log_logout(*, request, user) -> AccessLog:
    return access_log_record(event=AccessLog.Event.LOGOUT, request=request, user=user)


def access_log_denied(*, request, status: int, reason: str = "") -> AccessLog:
    """A refused access: a 403 (PermissionDenied, a DRF refusal) or a 401."""
    detail = {"status": status, "method": request.method}
    if reason:
        detail["reason"] = reason[:200]
    return access_log_record(event=AccessLog.Event.DENIED, request=request, detail=detail)
