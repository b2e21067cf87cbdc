"""Structured logs with a request id that follows the work into background tasks.

- RequestIdMiddleware takes the id nginx sends (X-Request-ID, its $request_id) or
  makes one, keeps it for the request's logs and answers with it.
- RequestIdFilter puts it on every log record (`%(request_id)s`), JsonFormatter
  writes records as one JSON object per line (LOG_FORMAT=json).
- A task queued during a request carries the id in its message headers; the worker
  logs the task under the same id.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import uuid
from datetime import UTC, datetime

from celery import signals

NONE = "-"
HEADER = "HTTP_X_REQUEST_ID"
TASK_HEADER = "request_id"
_VALID = re.compile(r"[A-Za-z0-9._:-]{8,128}")

_current: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default=NONE)


def current_request_id() -> str:
    return _current.get()


def _accept(value: str | None) -> str | None:
    """A client-given id only if it looks like one (it ends up in every log line)."""
    return value if value and _VALID.fullmatch(value) else None


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = _accept(request.META.get(HEADER)) or uuid.uuid4().hex
        request.request_id = request_id
        token = _current.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response["X-Request-ID"] = request_id
        return response


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _current.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message,
    request_id, and the traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or _current.get(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


# --- Celery: the id travels in the task message's headers ---------------------------------


@signals.before_task_publish.connect(weak=False)
def _add_request_id(headers=None, **kwargs) -> None:
    request_id = _current.get()
    if headers is not None and request_id != NONE and TASK_HEADER not in headers:
        headers[TASK_HEADER] = request_id


_task_tokens: dict[str, contextvars.Token] = {}


def _task_request_id(task) -> str | None:
    request = getattr(task, "request", None)
    if request is None:
        return None
    value = getattr(request, TASK_HEADER, None)
    if not value:
        value = (getattr(request, "headers", None) or {}).get(TASK_HEADER)
    return _accept(value)


@signals.task_prerun.connect(weak=False)
def _task_started(task_id=None, task=None, **kwargs) -> None:
    # Eager tasks (tests, the laptop) run inside the request: they keep its id.
    current = _current.get()
    request_id = _task_request_id(task) or (current if current != NONE else f"task-{task_id}")
    if task_id:
        _task_tokens[task_id] = _current.set(request_id)


@signals.task_postrun.connect(weak=False)
def _task_finished(task_id=None, **kwargs) -> None:
    token = _task_tokens.pop(task_id, None) if task_id else None
    if token is not None:
        try:
            _current.reset(token)
        except ValueError:  # set in another context (eager tasks inside a request)
            _current.set(NONE)
