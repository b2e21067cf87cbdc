"""Fixtures of the fault tests: a private Redis database number as the broker, and
real Celery workers on it (see servers.py for SMTP and PostgreSQL)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.db import connection

from tests.faults.servers import ROOT, Process, django_env

# The throwaway Dovecot of the mail tests, for the two-fetches-at-once test.
from tests.mail.conftest import imap_server, mailbox  # noqa: F401

REDIS_URL = os.environ.get("FAULTS_REDIS_URL", "redis://127.0.0.1:6379/12")


def _unavailable(reason: str, flag: str):
    if os.environ.get(flag) == "1":
        pytest.fail(f"{flag}=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture
def redis_broker():
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).flushdb()
    except Exception as exc:  # noqa: BLE001 - any failure means "not available"
        _unavailable(f"no Redis at {REDIS_URL}: {exc}", "REQUIRE_REDIS")
    from config.celery import app

    saved = {"task_always_eager": app.conf.task_always_eager, "broker_url": app.conf.broker_url}
    _switch_broker(app, task_always_eager=False, broker_url=REDIS_URL)
    yield app
    _switch_broker(app, **saved)
    import redis

    redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).flushdb()


def _switch_broker(app, **conf) -> None:
    app.conf.update(**conf)
    app._pool = None
    app.amqp._producer_pool = None


def database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db["HOST"] or "127.0.0.1"
    return f"postgres://{db['USER']}{password}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def start_worker(redis_broker, tmp_path):
    """start_worker(smtp_port, pool="solo") -> a Celery worker Process on the private
    broker and the test database; all are stopped at the end."""
    started: list[Process] = []

    def start(smtp_port: int, *, pool: str = "solo") -> Process:
        env = django_env(
            DJANGO_SETTINGS_MODULE="tests.faults.worker_settings",
            CELERY_TASK_ALWAYS_EAGER="false",
            TEST_CELERY_BROKER_URL=REDIS_URL,
            TEST_EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}",
            DATABASE_URL=database_url(),
        )
        args = [sys.executable, "-m", "celery", "-A", "config", "worker", f"--pool={pool}"]
        if pool == "prefork":
            args.append("--concurrency=1")
        args += ["--loglevel=info", "--without-heartbeat", "--without-gossip", "--without-mingle"]
        process = Process(args, env=env, log=tmp_path / f"worker-{len(started)}.log").start()
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


def children(pid: int) -> list[int]:
    done = subprocess.run(  # noqa: S603 - fixed arguments (pgrep of procps)
        ["pgrep", "-P", str(pid)],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    return [int(p) for p in done.stdout.split()]
