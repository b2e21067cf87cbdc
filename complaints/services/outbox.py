"""The transactional outbox: enqueue inside the change's transaction, deliver after.

Delivery takes the row under a lock (skip_locked on PostgreSQL; SQLite serialises
writers), sends, and marks it sent in the same transaction, so two workers never
send one message twice and a failure is retried with backoff until MAX_ATTEMPTS.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.utils import timezone

from complaints import sms
from complaints.models import Complaint, OutboxMessage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
BASE_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=1)


def _schedule_delivery(message: OutboxMessage) -> None:
    from complaints import tasks

    pk = message.pk
    transaction.on_commit(lambda: tasks.outbox_deliver.delay(pk), robust=True)


def outbox_enqueue_email(
    *,
    to: str,
    subject: str,
    body: str,
    headers: dict | None = None,
    complaint: Complaint | None = None,
) -> OutboxMessage:
    message = OutboxMessage.objects.create(
        channel=OutboxMessage.Channel.EMAIL,
        to=to,
        subject=subject[:300],
        body=body,
        headers=headers or {},
        complaint=complaint,
        next_attempt_at=timezone.now(),
    )
    _schedule_delivery(message)
    return message


def outbox_enqueue_sms(*, to: str, text: str, complaint: Complaint | None = None) -> OutboxMessage:
    message = OutboxMessage.objects.create(
        channel=OutboxMessage.Channel.SMS,
        to=to,
        body=text,
        complaint=complaint,
        next_attempt_at=timezone.now(),
    )
    _schedule_delivery(message)
    return message


def _send(message: OutboxMessage) -> None:
    if message.channel == OutboxMessage.Channel.SMS:
        sms.get_backend().send(to=message.to, text=message.body)
        return
    headers = dict(message.headers)
    reply_to = headers.pop("Reply-To", None)
    EmailMessage(
        subject=message.subject,
        body=message.body,
        to=[message.to],
        headers=headers,
        reply_to=[reply_to] if reply_to else None,
    ).send()


def backoff(attempts: int) -> timedelta:
    return min(BASE_DELAY * (2 ** max(attempts - 1, 0)), MAX_DELAY)


def outbox_deliver(*, message_id: int, now: datetime | None = None) -> bool:
    """Try to send one pending message that is due; True when it was sent now."""
    now = now or timezone.now()
    with transaction.atomic():
        qs = OutboxMessage.objects.filter(
            pk=message_id, state=OutboxMessage.State.PENDING, next_attempt_at__lte=now
        )
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True)
        message = qs.first()
        if message is None:
            return False  # sent already, given up, not due, or another worker has it
        message.attempts += 1
        try:
            _send(message)
        except Exception as exc:  # noqa: BLE001 - any failure is retried later
            message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if message.attempts >= MAX_ATTEMPTS:
                message.state = OutboxMessage.State.FAILED
                log.error(
                    "outbox %s: giving up after %s attempts: %s", message.pk, message.attempts, exc
                )
            else:
                message.next_attempt_at = now + backoff(message.attempts)
                log.warning("outbox %s: attempt %s failed: %s", message.pk, message.attempts, exc)
            message.save(update_fields=["attempts", "last_error", "state", "next_attempt_at"])
            return False
        message.state = OutboxMessage.State.SENT
        message.sent_at = timezone.now()
        message.last_error = ""
        message.save(update_fields=["attempts", "last_error", "state", "sent_at"])
        return True


def outbox_deliver_due(*, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Deliver what is due (the periodic retry pass)."""
    now = now or timezone.now()
    ids = list(
        OutboxMessage.objects.filter(state=OutboxMessage.State.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    sent = sum(outbox_deliver(message_id=pk, now=now) for pk in ids)
    return {"due": len(ids), "sent": sent}
