"""In-app notifications and presence (who has a complaint open)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from complaints import roles
from complaints.models import Complaint, Notification, Presence

PRESENCE_TTL = timedelta(seconds=60)
# A page load refreshes the viewer's mark only when it is older than this (well inside
# the TTL: the mark never lapses while the page is reloaded or polled).
PRESENCE_REFRESH = timedelta(seconds=20)
_MENTION = re.compile(r"(?<![\w@])@([\w.\-+]{1,150})")


def notify(*, user: Any, kind: str, complaint: Complaint | None, text: str) -> Notification | None:
    if user is None or roles.is_system(user) or not getattr(user, "is_active", False):
        return None
    return Notification.objects.create(user=user, kind=kind, complaint=complaint, text=text[:300])


def mentioned_users(text: str):
    """Active staff users named as @username in text."""
    names = {m.group(1).rstrip(".") for m in _MENTION.finditer(text or "")}
    if not names:
        return get_user_model().objects.none()
    return get_user_model().objects.filter(username__in=names, is_active=True)


def notifications_mark_read(*, user: Any, ids: list[int] | None = None) -> int:
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    # Notifications carry no audit history: a set-based update is fine here.
    return qs.update(read_at=timezone.now())


def unread_count(user: Any) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def presence_touch(*, complaint: Complaint, user: Any) -> None:
    now = timezone.now()
    updated = Presence.objects.filter(complaint=complaint, user=user).update(seen_at=now)
    if not updated:
        try:
            with transaction.atomic():
                Presence.objects.create(complaint=complaint, user=user, seen_at=now)
        except IntegrityError:
            # The same user's other tab created it at the same moment.
            Presence.objects.filter(complaint=complaint, user=user).update(seen_at=now)


def presence_leave(*, complaint: Complaint, user: Any) -> None:
    Presence.objects.filter(complaint=complaint, user=user).delete()


def presence_others(*, complaint: Complaint, user: Any) -> list:
    since = timezone.now() - PRESENCE_TTL
    rows = (
        Presence.objects.filter(complaint=complaint, seen_at__gte=since)
        .exclude(user=user)
        .select_related("user")
        .order_by("user__username")
    )
    return [row.user for row in rows]


def presence_visit(*, complaint: Complaint, user: Any) -> list:
    """Record that `user` has the complaint open and return who else has: one query
    when the user's mark is fresh (a reload), a second to refresh an older one."""
    now = timezone.now()
    rows = list(
        Presence.objects.filter(complaint=complaint, seen_at__gte=now - PRESENCE_TTL)
        .select_related("user")
        .order_by("user__username")
    )
    own = next((row for row in rows if row.user_id == user.pk), None)
    if own is None or own.seen_at < now - PRESENCE_REFRESH:
        presence_touch(complaint=complaint, user=user)
    return [row.user for row in rows if row.user_id != user.pk]
