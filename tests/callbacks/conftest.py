"""Fixtures of the call-back tests: a settable clock and call-backs made due through
the real sweep."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from complaints.models import CallbackTask
from complaints.services import callbacks


class Clock:
    """What `timezone.now()` returns, wherever it is called (services, transitions)."""

    def __init__(self, monkeypatch):
        self.now: datetime = timezone.now()
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def set(self, moment: datetime) -> datetime:
        self.now = moment
        return moment

    def move(self, **delta) -> datetime:
        return self.set(self.now + timedelta(**delta))


@pytest.fixture
def clock(monkeypatch) -> Clock:
    return Clock(monkeypatch)


@pytest.fixture(autouse=True)
def loop_settings(settings):
    """The defaults, stated: 3 days' wait, 3 attempts, 4 hours between them."""
    settings.COMPLAINT_CALLBACK_AFTER_DAYS = 3
    settings.COMPLAINT_CALLBACK_MAX_ATTEMPTS = 3
    settings.COMPLAINT_CALLBACK_RETRY_HOURS = 4
    return settings


@pytest.fixture
def due_callback(make_complaint):
    """due_callback(**create_kwargs) -> an open call-back, due now, of a resolved
    complaint of team A assigned to `agent` (opened by the service the sweep calls;
    the sweep's wait has its own tests)."""

    def make(**kwargs) -> CallbackTask:
        complaint = make_complaint("resolved", **kwargs)
        task = callbacks.callback_open(complaint=complaint)
        return CallbackTask.objects.select_related("complaint").get(pk=task.pk)

    return make
