"""Webhooks: queued in the change's transaction, delivered signed after commit to a
real HTTP server on 127.0.0.1, retried with backoff, logged."""

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import transaction
from django.utils import timezone

from complaints.models import Webhook, WebhookDelivery
from complaints.services import webhooks

pytestmark = pytest.mark.django_db


class Receiver:
    """A local endpoint recording what it receives; answers `status`."""

    def __init__(self):
        self.received = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def hook(receiver):
    return Webhook.objects.create(
        name="BI", url=receiver.url, events=["complaint.status_changed"], secret="s3cret"
    )


def test_signature_round_trip():
    body = b'{"a":1}'
    header = webhooks.signature_header(secret="k", body=body, timestamp=1000)
    assert webhooks.verify_signature(secret="k", header=header, body=body, now=1010)
    assert not webhooks.verify_signature(secret="other", header=header, body=body, now=1010)
    assert not webhooks.verify_signature(secret="k", header=header, body=b'{"a":2}', now=1010)
    assert not webhooks.verify_signature(secret="k", header=header, body=body, now=5000)


def _fresh(complaint_maker, state):
    """A complaint in `state`, and no delivery queued yet (the transitions that made it
    queued theirs: see test_every_service_queues_its_event)."""
    complaint = complaint_maker(state)
    WebhookDelivery.objects.all().delete()
    return complaint


def test_every_service_queues_its_event(org, make_complaint, receiver):
    from complaints.services import escalation, survey

    Webhook.objects.create(
        name="all",
        url=receiver.url,
        events=[
            "complaint.created",
            "complaint.status_changed",
            "complaint.escalated",
            "survey.answered",
        ],
    )
    complaint = make_complaint("resolved")
    escalation.escalation_open(
        complaint=complaint, actor=org.supervisor, reason="manual", note="Look at this"
    )
    survey.survey_submit(complaint=complaint, rating=5, solved=True)
    events = list(WebhookDelivery.objects.order_by("pk").values_list("event", "payload"))
    names = [e for e, _ in events]
    assert names[0] == "complaint.created"
    changes = [p["data"]["to"] for e, p in events if e == "complaint.status_changed"]
    assert changes == ["triaged", "assigned", "in_progress", "resolved", "closed"]
    assert names.count("complaint.escalated") == 1
    assert names.count("survey.answered") == 1


def test_delivered_signed_after_commit(
    org, make_complaint, hook, receiver, django_capture_on_commit_callbacks
):
    complaint = _fresh(make_complaint, "assigned")
    change = complaint.status_changes.last()
    with django_capture_on_commit_callbacks(execute=True):
        assert webhooks.webhook_status_changed(change=change) == 1
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.response_status) == ("sent", 1, 200)
    headers, body = receiver.received[0]
    assert headers["X-Webhook-Event"] == "complaint.status_changed"
    assert headers["X-Webhook-Id"] == str(delivery.delivery_id)
    assert webhooks.verify_signature(
        secret="s3cret", header=headers["X-Webhook-Signature"], body=body
    )
    payload = json.loads(body)
    assert payload["data"]["complaint"]["tracking_number"] == complaint.tracking_number
    assert (payload["data"]["from"], payload["data"]["to"]) == ("triaged", "assigned")
    assert "phone" not in json.dumps(payload)


def test_only_subscribed_active_hooks(org, make_complaint, hook, receiver):
    Webhook.objects.create(
        name="off", url=receiver.url, events=["complaint.status_changed"], is_active=False
    )
    Webhook.objects.create(name="other", url=receiver.url, events=["survey.answered"])
    complaint = _fresh(make_complaint, "triaged")
    assert webhooks.webhook_status_changed(change=complaint.status_changes.last()) == 1
    assert WebhookDelivery.objects.get().webhook == hook


def test_a_rolled_back_change_sends_nothing(org, make_complaint, hook, receiver):
    complaint = _fresh(make_complaint, "triaged")
    with pytest.raises(RuntimeError), transaction.atomic():
        webhooks.webhook_status_changed(change=complaint.status_changes.last())
        raise RuntimeError
    assert not WebhookDelivery.objects.exists()
    assert receiver.received == []


def test_failures_are_retried_with_backoff_then_given_up(org, make_complaint, hook, receiver):
    receiver.status = 500
    complaint = _fresh(make_complaint, "triaged")
    webhooks.webhook_status_changed(change=complaint.status_changes.last())
    delivery = WebhookDelivery.objects.get()
    now = timezone.now()
    assert webhooks.webhook_deliver(delivery_id=delivery.pk, now=now) is False
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_error) == ("pending", 1, "HTTP 500")
    assert delivery.next_attempt_at == now + webhooks.BASE_DELAY
    # Not due yet: the periodic pass leaves it.
    assert webhooks.webhook_deliver_due(now=now) == {"due": 0, "sent": 0}
    receiver.status = 204
    later = now + timedelta(minutes=1)
    assert webhooks.webhook_deliver_due(now=later) == {"due": 1, "sent": 1}
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("sent", 2)
    # A receiver that never answers 2xx: given up after MAX_ATTEMPTS.
    receiver.status = 410
    webhooks.webhook_status_changed(change=complaint.status_changes.last())
    failing = WebhookDelivery.objects.filter(state="pending").get()
    moment = later
    for _ in range(webhooks.MAX_ATTEMPTS):
        moment += webhooks.MAX_DELAY
        webhooks.webhook_deliver(delivery_id=failing.pk, now=moment)
    failing.refresh_from_db()
    assert (failing.state, failing.attempts) == ("failed", webhooks.MAX_ATTEMPTS)


def test_unreachable_receiver_is_an_error_not_a_crash(org, make_complaint):
    hook = Webhook.objects.create(
        name="down", url="http://127.0.0.1:9/none", events=["complaint.status_changed"]
    )
    complaint = _fresh(make_complaint, "triaged")
    webhooks.webhook_status_changed(change=complaint.status_changes.last())
    delivery = WebhookDelivery.objects.get(webhook=hook)
    assert webhooks.webhook_deliver(delivery_id=delivery.pk) is False
    delivery.refresh_from_db()
    assert delivery.state == "pending" and delivery.last_error


def test_admin_registers_webhooks():
    from django.contrib import admin

    import complaints.admin.webhooks  # noqa: F401 - registers

    assert Webhook in admin.site._registry
    assert WebhookDelivery in admin.site._registry
