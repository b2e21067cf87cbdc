"""A worker killed in the middle of a task: the task comes back, and runs once.

The task is the outbox delivery of a customer's acknowledgment; the SMTP server
holds the DATA command, so the worker is inside the task (the outbox row locked,
the attempt counted but not committed) when it is killed with SIGKILL.

- The whole worker killed (power cut, OOM killer): late acknowledgment leaves the
  message unacknowledged in Redis; the restarted worker gets it back once the
  visibility timeout has passed (seconds here, see worker_settings.py).
- Only the pool process killed: reject_on_worker_lost puts the message back at
  once and the same worker runs it again.

Either way the customer gets one mail, the outbox row is sent with one attempt
counted (the killed attempt rolled back), and the task id was received twice.

Runs on PostgreSQL with the local Redis (db 12, FAULTS_REDIS_URL).
"""

import os
import re
import signal

import pytest
from django.db import connection

from complaints.models import Channel, Demand, OutboxMessage
from complaints.services import intake
from tests.faults.conftest import children
from tests.faults.servers import SmtpSink, wait_until

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the worker needs a shared database (PostgreSQL)"
    ),
]


@pytest.fixture
def slow_smtp():
    sink = SmtpSink()
    sink.hold_seconds = 60  # longer than the test: the worker is killed while held
    sink.start()
    yield sink
    sink.stop()


def _submit():
    customer = intake.customer_find_or_create(name="韩梅梅", email="han.meimei@example.com")
    return intake.complaint_create(
        actor=None,
        channel=Channel.WEB,
        customer=customer,
        title="洗衣机噪音",
        description="脱水时噪音很大。",
        demand=Demand.REPAIR,
    )


def _task_ids(log: str) -> list[str]:
    return re.findall(r"Task complaints\.tasks\.outbox_deliver\[([0-9a-f-]+)\] received", log)


def _kill_during_delivery(worker, slow_smtp, kill) -> OutboxMessage:
    assert wait_until(lambda: "ready" in worker.tail(), seconds=60), worker.tail()
    complaint = _submit()  # commits: the delivery task goes to Redis
    message = OutboxMessage.objects.get(complaint=complaint, channel="email")
    assert slow_smtp.data_started.wait(60), worker.tail()
    kill()
    # The server saw its client go and kept nothing; the database rolled back.
    assert wait_until(lambda: slow_smtp.abandoned == 1, seconds=10)
    assert slow_smtp.received == []
    message.refresh_from_db()
    assert (message.state, message.attempts) == ("pending", 0)
    slow_smtp.hold_seconds = 0
    return message


def _delivered_once(message: OutboxMessage, slow_smtp, worker) -> None:
    assert wait_until(lambda: slow_smtp.received, seconds=60), worker.tail()
    assert wait_until(
        lambda: OutboxMessage.objects.get(pk=message.pk).state == "sent", seconds=10
    ), worker.tail()
    message.refresh_from_db()
    assert message.attempts == 1, message.last_error
    assert slow_smtp.message_ids() == {message.headers["Message-ID"]: 1}


def test_worker_killed_mid_task_the_restarted_worker_delivers_once(start_worker, slow_smtp):
    first = start_worker(slow_smtp.port)
    message = _kill_during_delivery(first, slow_smtp, first.kill)
    assert not first.alive

    second = start_worker(slow_smtp.port)
    _delivered_once(message, slow_smtp, second)
    (killed_task,) = _task_ids(first.tail(100_000))
    assert _task_ids(second.tail(100_000)) == [killed_task]


def test_pool_process_killed_mid_task_the_task_is_requeued_at_once(start_worker, slow_smtp):
    worker = start_worker(slow_smtp.port, pool="prefork")

    def kill_pool_process():
        (child,) = children(worker.popen.pid)
        os.kill(child, signal.SIGKILL)

    message = _kill_during_delivery(worker, slow_smtp, kill_pool_process)
    _delivered_once(message, slow_smtp, worker)
    assert worker.alive
    log = worker.tail(100_000)
    assert "WorkerLostError" in log, log[-3000:]
    ids = _task_ids(log)
    assert len(ids) == 2 and ids[0] == ids[1], ids
