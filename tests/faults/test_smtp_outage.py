"""SMTP down, then up: every customer notification is delivered, exactly once.

A real SMTP server (aiosmtpd) on a fixed port of 127.0.0.1 is stopped while
complaints come in: their acknowledgments are queued in the outbox, the delivery
attempts fail (connection refused) and are put off with a growing backoff. Then the
server starts on the same port and the retry passes deliver each message once,
counted by Message-ID on the server. On PostgreSQL two retry passes also run at
once (two workers) and still send nothing twice.
"""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from complaints.models import Channel, Demand, OutboxMessage
from complaints.services import intake, outbox
from tests.faults.servers import SmtpSink
from tests.support import run_at_once

N = 6


@pytest.fixture
def smtp_down(settings):
    """A server that is not running yet; settings point at its port."""
    sink = SmtpSink()
    settings.MAILERS = sink.mailers()
    yield sink
    sink.stop()


def _submit(i: int):
    customer = intake.customer_find_or_create(name=f"客户{i}", email=f"c{i}@example.com")
    return intake.complaint_create(
        actor=None,
        channel=Channel.WEB,
        customer=customer,
        title=f"故障测试 {i}",
        description="SMTP 停机期间提交。",
        demand=Demand.REPLACEMENT,
    )


def _queued_ids() -> set[str]:
    return {
        m.headers["Message-ID"].strip()
        for m in OutboxMessage.objects.filter(channel=OutboxMessage.Channel.EMAIL)
    }


def _outage(sink, capture):
    """N complaints while the server is down: N messages queued, none sent."""
    with capture(execute=True):
        for i in range(N):
            with transaction.atomic():
                _submit(i)
    messages = list(OutboxMessage.objects.filter(channel=OutboxMessage.Channel.EMAIL))
    assert len(messages) == N
    for m in messages:
        # The on-commit delivery ran and failed: a clean retry is scheduled.
        assert m.state == OutboxMessage.State.PENDING, m.last_error
        assert m.attempts == 1
        assert "Connection" in m.last_error or "refused" in m.last_error.lower(), m.last_error
        assert m.next_attempt_at > timezone.now() + outbox.backoff(1) - timedelta(seconds=10)
    assert sink.received == []
    return messages


@pytest.mark.django_db
def test_smtp_down_then_up_delivers_every_message_once(
    smtp_down, django_capture_on_commit_callbacks
):
    _outage(smtp_down, django_capture_on_commit_callbacks)
    now = timezone.now()

    # Still down at the second attempt: the wait doubles.
    second = now + outbox.backoff(1) + timedelta(seconds=1)
    assert outbox.outbox_deliver_due(now=second) == {"due": N, "sent": 0}
    for m in OutboxMessage.objects.all():
        assert m.attempts == 2 and m.state == "pending"
        assert m.next_attempt_at == second + outbox.backoff(2)
    # Not due in between: nothing is tried.
    assert outbox.outbox_deliver_due(now=second + timedelta(seconds=5)) == {"due": 0, "sent": 0}

    smtp_down.start()
    third = second + outbox.backoff(2) + timedelta(seconds=1)
    assert outbox.outbox_deliver_due(now=third) == {"due": N, "sent": N}
    # More passes, and a stray task for each message, send nothing again.
    assert outbox.outbox_deliver_due(now=third + timedelta(hours=3)) == {"due": 0, "sent": 0}
    for m in OutboxMessage.objects.all():
        assert outbox.outbox_deliver(message_id=m.pk, now=third + timedelta(hours=3)) is False

    received = smtp_down.message_ids()
    assert set(received) == _queued_ids()
    assert all(count == 1 for count in received.values()), received
    assert set(OutboxMessage.objects.values_list("state", "attempts")) == {("sent", 3)}


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="two workers need PostgreSQL")
def test_two_retry_passes_at_once_after_the_outage_send_each_once(
    smtp_down, django_capture_on_commit_callbacks
):
    _outage(smtp_down, django_capture_on_commit_callbacks)
    smtp_down.start()
    later = timezone.now() + outbox.backoff(1) + timedelta(seconds=1)
    results = run_at_once([lambda: outbox.outbox_deliver_due(now=later)] * 3, timeout=60)
    assert not [r for r in results if isinstance(r, Exception)], results
    # Between them they sent each message once (skip_locked shares the work).
    assert sum(r["sent"] for r in results) == N, results
    received = smtp_down.message_ids()
    assert set(received) == _queued_ids()
    assert all(count == 1 for count in received.values()), received
    assert OutboxMessage.objects.filter(state="sent", attempts=2).count() == N
