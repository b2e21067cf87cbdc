"""The outbox against real servers: an SMTP server (aiosmtpd) that refuses, then
accepts; an HTTP SMS gateway on 127.0.0.1."""

import hashlib
import hmac
import json
import socket
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from aiosmtpd.controller import Controller
from django.db import transaction
from django.utils import timezone

from complaints.models import OutboxMessage
from complaints.services import outbox

pytestmark = pytest.mark.django_db


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FlakySmtp:
    """Refuses the first `refusals` messages with a temporary error, then accepts."""

    def __init__(self, refusals: int):
        self.refusals = refusals
        self.received: list = []

    async def handle_DATA(self, server, session, envelope):
        if self.refusals > 0:
            self.refusals -= 1
            return "451 4.3.0 try again later"
        self.received.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp(settings):
    def start(refusals: int = 0) -> FlakySmtp:
        handler = FlakySmtp(refusals)
        port = _free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        controller.start()
        started.append(controller)
        settings.MAILERS = {
            "default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
            }
        }
        return handler

    started: list = []
    yield start
    for controller in started:
        controller.stop()


def test_outage_delays_mail_loses_none_sends_none_twice(smtp, django_capture_on_commit_callbacks):
    server = smtp(refusals=2)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        message = outbox.outbox_enqueue_email(
            to="li@example.com", subject="状态更新", body="已解决"
        )
    message.refresh_from_db()
    assert message.state == "pending" and message.attempts == 1
    assert "451" in message.last_error
    assert server.received == []

    # Not due yet: nothing happens.
    assert outbox.outbox_deliver_due()["sent"] == 0
    later = timezone.now() + timedelta(hours=2)
    assert outbox.outbox_deliver_due(now=later) == {"due": 1, "sent": 0}  # second refusal
    much_later = later + timedelta(hours=2)
    assert outbox.outbox_deliver_due(now=much_later) == {"due": 1, "sent": 1}
    # Delivered once; more passes and a stray task send nothing again.
    assert outbox.outbox_deliver_due(now=much_later + timedelta(hours=2)) == {"due": 0, "sent": 0}
    assert outbox.outbox_deliver(message_id=message.pk, now=much_later) is False
    message.refresh_from_db()
    assert message.state == "sent" and message.attempts == 3
    assert len(server.received) == 1
    assert server.received[0].rcpt_tos == ["li@example.com"]


def test_rolled_back_change_sends_nothing(smtp, django_capture_on_commit_callbacks):
    server = smtp()
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                outbox.outbox_enqueue_email(to="x@example.com", subject="s", body="b")
                raise RuntimeError("the change failed")
        except RuntimeError:
            pass
    assert not OutboxMessage.objects.exists()
    assert server.received == []


def test_gives_up_after_the_last_attempt(smtp):
    smtp(refusals=100)
    message = outbox.outbox_enqueue_email(to="x@example.com", subject="s", body="b")
    now = timezone.now()
    for _ in range(outbox.MAX_ATTEMPTS + 2):
        now += outbox.MAX_DELAY + timedelta(seconds=1)
        outbox.outbox_deliver(message_id=message.pk, now=now)
    message.refresh_from_db()
    assert message.state == "failed"
    assert message.attempts == outbox.MAX_ATTEMPTS


def test_backoff_grows_and_is_capped():
    assert outbox.backoff(1) == timedelta(seconds=30)
    assert outbox.backoff(2) == timedelta(seconds=60)
    assert outbox.backoff(30) == outbox.MAX_DELAY


class _Gateway(BaseHTTPRequestHandler):
    requests: list = []
    status = 200

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).requests.append((dict(self.headers), body))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway(settings):
    _Gateway.requests = []
    _Gateway.status = 200
    server = HTTPServer(("127.0.0.1", 0), _Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.SMS_BACKEND = "complaints.sms.HttpGatewayBackend"
    settings.SMS_GATEWAY_URL = f"http://127.0.0.1:{server.server_port}/send"
    settings.SMS_GATEWAY_SECRET = "s3cret"
    settings.SMS_GATEWAY_TEMPLATE = '{"phone": "{to}", "content": "{text}", "sign": "ACME"}'
    yield _Gateway
    server.shutdown()


def test_sms_through_the_http_gateway_is_signed(gateway, django_capture_on_commit_callbacks):
    text = '您的投诉 TS-20261123-7K4Q9 已解决 "quoted"'
    with django_capture_on_commit_callbacks(execute=True):
        message = outbox.outbox_enqueue_sms(to="+8613800138000", text=text)
    message.refresh_from_db()
    assert message.state == "sent"
    ((headers, body),) = gateway.requests
    assert json.loads(body) == {"phone": "+8613800138000", "content": text, "sign": "ACME"}
    expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert headers["X-Signature"] == expected


def test_sms_gateway_error_is_retried(gateway):
    gateway.status = 503
    message = outbox.outbox_enqueue_sms(to="+8613800138000", text="hi")
    outbox.outbox_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert message.state == "pending" and "503" in message.last_error
    gateway.status = 200
    assert outbox.outbox_deliver(message_id=message.pk, now=timezone.now() + timedelta(hours=1))
    assert len(gateway.requests) == 2
