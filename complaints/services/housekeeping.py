"""Periodic clean-up of rows that only matter for a while, and retention of personal
data: raw inbound mail and attachment files older than the configured number of days.

Settings (0, the default, keeps forever):
- RAW_MAIL_RETENTION_DAYS: the raw bytes of processed inbound mail are emptied (the
  row stays: its status, Message-ID and dedupe key keep a re-fetch from creating the
  complaint again). Mail still waiting (received, review, quarantined) is kept.
- ATTACHMENT_RETENTION_DAYS: attachment files are deleted, only of closed or rejected
  complaints; the row stays with its name, size and type (the timeline says a file
  was there) and an empty file.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from complaints.models import (
    Attachment,
    IdempotencyKey,
    IdempotentRequest,
    InboundMessage,
    Presence,
)
from complaints.workflow import ComplaintStatus

# A retried form or API call comes within minutes; a week is generous.
IDEMPOTENCY_KEEP = timedelta(days=7)
PRESENCE_KEEP = timedelta(hours=1)
# Mail in these states is still someone's work: never purged.
_MAIL_PENDING = (
    InboundMessage.Status.RECEIVED,
    InboundMessage.Status.REVIEW,
    InboundMessage.Status.QUARANTINED,
)
_FINISHED = (ComplaintStatus.CLOSED, ComplaintStatus.REJECTED, ComplaintStatus.MERGED)
# Bounded work per run: the task runs again tomorrow.
BATCH = 500


def _days(name: str) -> int:
    return max(int(getattr(settings, name, 0) or 0), 0)


def purge_raw_mail(*, now: datetime) -> int:
    days = _days("RAW_MAIL_RETENTION_DAYS")
    if not days:
        return 0
    ids = list(
        InboundMessage.objects.filter(received_at__lt=now - timedelta(days=days))
        .exclude(status__in=_MAIL_PENDING)
        .exclude(raw=b"")
        .values_list("pk", flat=True)[:BATCH]
    )
    return InboundMessage.objects.filter(pk__in=ids).update(raw=b"")


def purge_attachment_files(*, now: datetime) -> int:
    days = _days("ATTACHMENT_RETENTION_DAYS")
    if not days:
        return 0
    rows = list(
        Attachment.objects.filter(
            created_at__lt=now - timedelta(days=days), complaint__status__in=_FINISHED
        )
        .exclude(file="")
        .only("pk", "file")[:BATCH]
    )
    names = [a.file.name for a in rows]
    with transaction.atomic():
        Attachment.objects.filter(pk__in=[a.pk for a in rows]).update(file="")
        # Files go once the rows no longer point at them.
        transaction.on_commit(lambda: [default_storage.delete(n) for n in names])
    return len(rows)


def housekeeping_purge(*, now: datetime | None = None) -> dict[str, int]:
    """Delete expired idempotency keys and stale presence rows (no audit value), and
    apply the retention of raw mail and attachment files."""
    now = now or timezone.now()
    keys, _ = IdempotencyKey.objects.filter(created_at__lt=now - IDEMPOTENCY_KEEP).delete()
    presences, _ = Presence.objects.filter(seen_at__lt=now - PRESENCE_KEEP).delete()
    # The API's remembered responses (replays of creating POSTs).
    api_keys, _ = IdempotentRequest.objects.filter(created_at__lt=now - IDEMPOTENCY_KEEP).delete()
    from complaints.services.exports import export_jobs_purge

    result = {
        "idempotency_keys": keys + api_keys,
        "presences": presences,
        "export_jobs": export_jobs_purge(now=now),
    }
    # A retention that is switched off (0 days) is not reported.
    if _days("RAW_MAIL_RETENTION_DAYS"):
        result["raw_mails"] = purge_raw_mail(now=now)
    if _days("ATTACHMENT_RETENTION_DAYS"):
        result["attachment_files"] = purge_attachment_files(now=now)
    return result
