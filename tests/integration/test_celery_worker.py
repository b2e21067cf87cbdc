"""The background path end to end: a real Celery worker on the local Redis delivers
a customer notification from the outbox to a real SMTP server.

Runs on PostgreSQL (the worker is another process and needs a database it can
reach); skipped on SQLite's in-memory test database, and when Redis is not there
unless REQUIRE_REDIS=1 (CI).
"""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.db import connection

from complaints.models import Channel, Demand, OutboxMessage
from complaints.services import intake

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the worker needs a shared database (PostgreSQL)"
    ),
]


def _redis_available() -> bool:
    try:
        import redis

        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
        client.flushdb()  # a dedicated database number: no stale tasks
        return True
    except Exception:  # noqa: BLE001 - any failure means "not available"
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Collect:
    def __init__(self):
        self.received = []

    async def handle_DATA(self, server, session, envelope):
        self.received.append(envelope)
        return "250 OK"


@pytest.fixture
def redis_broker():
    if not _redis_available():
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail(f"Redis is required here and not reachable at {REDIS_URL}")
        pytest.skip(f"no Redis at {REDIS_URL}")
    from config.celery import app

    saved = {"task_always_eager": app.conf.task_always_eager, "broker_url": app.conf.broker_url}
    _switch_broker(app, task_always_eager=False, broker_url=REDIS_URL)
    yield app
    _switch_broker(app, **saved)


def _switch_broker(app, **conf) -> None:
    app.conf.update(**conf)
    # Celery caches its connection and producer pools per broker; drop them so the
    # next task goes to the broker just configured.
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def smtp():
    handler = Collect()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield handler, controller.port
    controller.stop()


@pytest.fixture
def worker(redis_broker, smtp):
    _, port = smtp
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "TEST_CELERY_BROKER_URL": REDIS_URL,
        "TEST_EMAIL_URL": f"smtp://127.0.0.1:{port}",
    }
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    log = open(ROOT / "var" / "celery-worker-test.log", "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--loglevel=info",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    yield process
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


def test_worker_delivers_the_acknowledgment(worker, smtp):
    handler, _ = smtp
    customer = intake.customer_find_or_create(name="李雷", email="li.lei@example.com")
    complaint = intake.complaint_create(
        actor=None,
        channel=Channel.WEB,
        customer=customer,
        title="电水壶漏水",
        description="底座漏水。",
        demand=Demand.REPLACEMENT,
    )
    message = OutboxMessage.objects.get(complaint=complaint, channel="email")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not handler.received:
        assert worker.poll() is None, (ROOT / "var" / "celery-worker-test.log").read_text()[-3000:]
        time.sleep(0.2)
    assert len(handler.received) == 1, (ROOT / "var" / "celery-worker-test.log").read_text()[-3000:]
    assert handler.received[0].rcpt_tos == ["li.lei@example.com"]
    assert complaint.tracking_number.encode() in handler.received[0].content
    for _ in range(50):
        message.refresh_from_db()
        if message.state == "sent":
            break
        time.sleep(0.1)
    assert message.state == "sent"
    assert message.attempts == 1
