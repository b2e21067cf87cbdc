"""Webhooks: integrations hear of events (complaint created, status changed,
escalated, survey answered) by a signed POST to the URLs admins registered.

The outbox pattern, as for customer messages (services/outbox.py): `webhook_enqueue`
writes one WebhookDelivery row per subscribed webhook inside the caller's
transaction, and schedules the delivery after commit; a rolled-back change sends
nothing, and a receiver that is down delays deliveries and loses none (retried with
backoff by `webhook_deliver_due`, every minute).

Each delivery is a JSON body signed with HMAC-SHA256 of the webhook's secret over
`<timestamp>.<body>`: headers `X-Webhook-Signature: t=<timestamp>,v1=<hex>`,
`X-Webhook-Event` and `X-Webhook-Id` (the same on every retry: receivers drop
duplicates). See `signature` and `verify_signature`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from complaints import config_cache
from complaints.models import Complaint, Webhook, WebhookDelivery, WebhookEvent

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
BASE_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=2)
TIMEOUT_SECONDS = 10
# A receiver should refuse a signature older than this (replays).
TOLERANCE_SECONDS = 300
State = WebhookDelivery.State


def signature(*, secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return mac.hexdigest()


def signature_header(*, secret: str, body: bytes, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={signature(secret=secret, timestamp=timestamp, body=body)}"


def verify_signature(
    *,
    secret: str,
    header: str,
    body: bytes,
    now: int | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> bool:
    """What a receiver does (in Python): the signature matches and is recent."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    now = int(time.time()) if now is None else now
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret=secret, timestamp=timestamp, body=body)
    return hmac.compare_digest(expected, parts.get("v1", ""))


def complaint_payload(complaint: Complaint) -> dict[str, Any]:
    """What every complaint event carries (ids and codes, no customer contact data)."""
    return {
        "id": complaint.pk,
        "tracking_number": complaint.tracking_number,
        "status": complaint.status,
        "channel": complaint.channel,
        "priority": complaint.priority.code if complaint.priority_id else None,
        "category": complaint.category.code if complaint.category_id else None,
        "team": complaint.team.code if complaint.team_id else None,
        "escalation_level": complaint.escalation_level,
        "version": complaint.version,
    }


def _subscribers(event: str) -> list[Webhook]:
    # `events` is a JSON list: filtered in Python (a handful of webhooks at most), read
    # once per process and again after a webhook changed (config_cache).
    active = config_cache.lookup(
        "webhooks-active", lambda: list(Webhook.objects.filter(is_active=True))
    )
    return [w for w in active if event in (w.events or [])]


def webhook_enqueue(*, event: str, data: dict[str, Any], at: datetime | None = None) -> int:
    """Queue `event` for every active webhook subscribed to it, in the caller's
    transaction; returns how many deliveries were queued."""
    if event not in WebhookEvent.values:
        raise ValueError(f"unknown webhook event {event!r}")
    hooks = _subscribers(event)
    if not hooks:
        return 0
    at = at or timezone.now()
    ids = []
    for hook in hooks:
        delivery_id = uuid.uuid4()
        delivery = WebhookDelivery.objects.create(
            webhook=hook,
            event=event,
            delivery_id=delivery_id,
            payload={"id": str(delivery_id), "event": event, "created_at": at, "data": data},
            next_attempt_at=at,
        )
        ids.append(delivery.pk)
    from complaints import tasks_webhooks

    transaction.on_commit(
        lambda: [tasks_webhooks.webhook_deliver.delay(pk) for pk in ids], robust=True
    )
    return len(ids)


def webhook_complaint_created(*, complaint: Complaint) -> int:
    return webhook_enqueue(
        event=WebhookEvent.COMPLAINT_CREATED, data={"complaint": complaint_payload(complaint)}
    )


def webhook_status_changed(*, change: Any) -> int:
    """For a StatusChange row (services/transitions.py writes one per transition)."""
    return webhook_enqueue(
        event=WebhookEvent.STATUS_CHANGED,
        data={
            "complaint": complaint_payload(change.complaint),
            "transition": change.transition,
            "from": change.from_status,
            "to": change.to_status,
            "by_system": change.actor_id is None,
        },
        at=change.created_at,
    )


def webhook_escalated(*, escalation: Any) -> int:
    return webhook_enqueue(
        event=WebhookEvent.ESCALATED,
        data={
            "complaint": complaint_payload(escalation.complaint),
            "escalation": {
                "id": escalation.pk,
                "reason": escalation.reason,
                "level": escalation.level,
            },
        },
    )


def webhook_survey_answered(*, response: Any) -> int:
    return webhook_enqueue(
        event=WebhookEvent.SURVEY_ANSWERED,
        data={
            "complaint": complaint_payload(response.complaint),
            "survey": {
                "rating": response.rating,
                "solved": response.solved,
                "cycle": response.cycle,
            },
        },
    )


# --- Delivery -----------------------------------------------------------------------------


def backoff(attempts: int) -> timedelta:
    return min(BASE_DELAY * (2 ** max(attempts - 1, 0)), MAX_DELAY)


def body_of(delivery: WebhookDelivery) -> bytes:
    return json.dumps(
        delivery.payload, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":")
    ).encode("utf-8")


def _post(delivery: WebhookDelivery) -> int:
    """POST the delivery; returns the HTTP status (raises on a network error)."""
    hook = delivery.webhook
    body = body_of(delivery)
    if not hook.url.lower().startswith(("https://", "http://")):
        raise ValueError("the webhook URL must be http(s)")
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        hook.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "complaints-webhooks/1",
            "X-Webhook-Event": delivery.event,
            "X-Webhook-Id": str(delivery.delivery_id),
            "X-Webhook-Signature": signature_header(secret=hook.secret, body=body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


def webhook_deliver(*, delivery_id: int, now: datetime | None = None) -> bool:
    """Try one pending, due delivery; True when the receiver accepted it (2xx)."""
    now = now or timezone.now()
    with transaction.atomic():
        qs = WebhookDelivery.objects.select_related("webhook").filter(
            pk=delivery_id, state=State.PENDING, next_attempt_at__lte=now
        )
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True, of=("self",))
        delivery = qs.first()
        if delivery is None:
            return False  # delivered, given up, not due, or another worker has it
        delivery.attempts += 1
        error = ""
        try:
            code = _post(delivery)
            delivery.response_status = code
            if not 200 <= code < 300:
                error = f"HTTP {code}"
        except Exception as exc:  # noqa: BLE001 - any failure is retried later
            error = f"{type(exc).__name__}: {exc}"[:2000]
        fields = ["attempts", "response_status", "last_error", "state", "next_attempt_at"]
        if not error:
            delivery.state = State.SENT
            delivery.delivered_at = timezone.now()
            delivery.last_error = ""
            delivery.save(update_fields=[*fields, "delivered_at"])
            return True
        delivery.last_error = error
        if delivery.attempts >= MAX_ATTEMPTS or not delivery.webhook.is_active:
            delivery.state = State.FAILED
            log.error("webhook delivery %s: giving up: %s", delivery.pk, error)
        else:
            delivery.next_attempt_at = now + backoff(delivery.attempts)
            log.warning(
                "webhook delivery %s: attempt %s: %s", delivery.pk, delivery.attempts, error
            )
        delivery.save(update_fields=fields)
        return False


def webhook_deliver_due(*, now: datetime | None = None, limit: int = 200) -> dict[str, int]:
    """The periodic retry pass."""
    now = now or timezone.now()
    ids = list(
        WebhookDelivery.objects.filter(state=State.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    sent = sum(webhook_deliver(delivery_id=pk, now=now) for pk in ids)
    return {"due": len(ids), "sent": sent}
