"""Periodic clean-up of rows that only matter for a while."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from complaints.models import IdempotencyKey, Presence

# A retried form or API call comes within minutes; a week is generous.
IDEMPOTENCY_KEEP = timedelta(days=7)
PRESENCE_KEEP = timedelta(hours=1)


def housekeeping_purge(*, now: datetime | None = None) -> dict[str, int]:
    """Delete expired idempotency keys and stale presence rows (no audit value)."""
    now = now or timezone.now()
    keys, _ = IdempotencyKey.objects.filter(created_at__lt=now - IDEMPOTENCY_KEEP).delete()
    presences, _ = Presence.objects.filter(seen_at__lt=now - PRESENCE_KEEP).delete()
    return {"idempotency_keys": keys, "presences": presences}
