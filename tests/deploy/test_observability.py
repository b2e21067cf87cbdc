"""The request id: taken from nginx or made, answered, put on log records (plain or
JSON), and carried in the headers of the tasks a request queues."""

import json
import logging

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from complaints import observability


def _middleware(seen):
    def view(request):
        seen.append((request.request_id, observability.current_request_id()))
        return HttpResponse("ok")

    return observability.RequestIdMiddleware(view)


def test_the_proxy_request_id_is_kept_and_answered():
    seen = []
    request = RequestFactory().get("/", HTTP_X_REQUEST_ID="7036e46635cffe2dc05c8a8d9bcc67b4")
    response = _middleware(seen)(request)
    assert seen == [("7036e46635cffe2dc05c8a8d9bcc67b4",) * 2]
    assert response["X-Request-ID"] == "7036e46635cffe2dc05c8a8d9bcc67b4"
    # After the request, logs are no longer attributed to it.
    assert observability.current_request_id() == observability.NONE


@pytest.mark.parametrize("given", [None, "", "short", "bad id\nforged log line", "x" * 200])
def test_a_missing_or_unusable_id_is_replaced(given):
    seen = []
    extra = {} if given is None else {"HTTP_X_REQUEST_ID": given}
    response = _middleware(seen)(RequestFactory().get("/", **extra))
    made = seen[0][0]
    assert made != given
    assert len(made) == 32 and int(made, 16) >= 0
    assert response["X-Request-ID"] == made


def _record(message="hello %s", args=("世界",), exc_info=None):
    return logging.LogRecord(
        "complaints.test", logging.WARNING, __file__, 1, message, args, exc_info
    )


def test_json_lines_carry_the_request_id():
    token = observability._current.set("abcdef0123456789")
    try:
        record = _record()
        assert observability.RequestIdFilter().filter(record) is True
    finally:
        observability._current.reset(token)
    line = observability.JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "hello 世界"
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "complaints.test"
    assert entry["request_id"] == "abcdef0123456789"
    assert entry["time"].endswith("+00:00")


def test_json_lines_hold_the_traceback():
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = _record("failed", (), sys.exc_info())
    entry = json.loads(observability.JsonFormatter().format(record))
    assert "ValueError: boom" in entry["exc"]
    assert entry["request_id"] == observability.NONE


def test_plain_format_can_use_the_request_id():
    record = _record()
    observability.RequestIdFilter().filter(record)
    text = logging.Formatter("%(request_id)s %(message)s").format(record)
    assert text == "- hello 世界"


@pytest.fixture
def memory_broker():
    """The test app publishing for real into its in-memory broker (no eager run)."""
    from config.celery import app

    saved = app.conf.task_always_eager
    app.conf.task_always_eager = False
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge("celery")
    yield app
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge("celery")
    app.conf.task_always_eager = saved


def _published_headers(app) -> dict:
    with app.connection_for_read() as conn:
        queue = conn.SimpleQueue("celery")
        message = queue.get(timeout=2)
        message.ack()
        queue.close()
        return message.headers


def test_tasks_queued_in_a_request_carry_its_id(memory_broker):
    from complaints.tasks import outbox_deliver

    token = observability._current.set("feedface00112233")
    try:
        outbox_deliver.delay(1)
    finally:
        observability._current.reset(token)
    headers = _published_headers(memory_broker)
    assert headers["task"] == "complaints.tasks.outbox_deliver"
    assert headers["request_id"] == "feedface00112233"


def test_tasks_queued_outside_a_request_carry_none(memory_broker):
    from complaints.tasks import outbox_deliver

    outbox_deliver.delay(1)
    assert "request_id" not in _published_headers(memory_broker)


class _Task:
    def __init__(self, **request):
        self.request = type("Request", (), {"headers": None, **request})()


def test_the_worker_logs_a_task_under_the_request_id():
    observability._task_started(task_id="t1", task=_Task(request_id="feedface00112233"))
    try:
        assert observability.current_request_id() == "feedface00112233"
    finally:
        observability._task_finished(task_id="t1")
    assert observability.current_request_id() == observability.NONE


def test_a_task_without_request_gets_its_own_id():
    observability._task_started(task_id="t2", task=_Task())
    try:
        assert observability.current_request_id() == "task-t2"
    finally:
        observability._task_finished(task_id="t2")


def test_an_eager_task_inside_a_request_keeps_the_request_id():
    token = observability._current.set("abcdef0123456789")
    try:
        observability._task_started(task_id="t3", task=_Task())
        assert observability.current_request_id() == "abcdef0123456789"
        observability._task_finished(task_id="t3")
        assert observability.current_request_id() == "abcdef0123456789"
    finally:
        observability._current.reset(token)
