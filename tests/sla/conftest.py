"""Fixtures of the SLA tests: a Chinese business calendar, policies, a settable clock."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.utils import timezone

from complaints.models import BusinessCalendar, CalendarDay, SlaPolicy
from tests.sla.calendars import CN_2026_HOLIDAYS, CN_2026_MAKEUP, WEEKDAYS


@pytest.fixture
def cn_calendar(db) -> BusinessCalendar:
    """Asia/Shanghai, weekdays 09–12 and 13–18, China's 2026 holidays and make-up days."""
    calendar = BusinessCalendar.objects.create(
        name="China office", time_zone="Asia/Shanghai", working_hours=WEEKDAYS
    )
    CalendarDay.objects.bulk_create(
        [CalendarDay(calendar=calendar, date=d, kind="holiday") for d in CN_2026_HOLIDAYS]
        + [CalendarDay(calendar=calendar, date=d, kind="workday") for d in CN_2026_MAKEUP]
    )
    return calendar


@pytest.fixture
def policy(cn_calendar):
    """make policy(category=…, priority=…, response=min, resolution=min, warn=%)."""

    def make(
        *,
        category=None,
        priority=None,
        response: int = 120,
        resolution: int = 16 * 60,
        warn: int = 80,
        name: str | None = None,
        active: bool = True,
    ) -> SlaPolicy:
        return SlaPolicy.objects.create(
            name=name or f"{category or 'any'} × {priority or 'any'}",
            category=category,
            priority=priority,
            calendar=cn_calendar,
            first_response_minutes=response,
            resolution_minutes=resolution,
            warning_percent=warn,
            is_active=active,
        )

    return make


class Clock:
    """What `timezone.now()` returns, wherever it is called (services, transitions)."""

    def __init__(self, monkeypatch):
        self.now: datetime = timezone.now()
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def set(self, moment: datetime) -> datetime:
        self.now = moment
        return moment


@pytest.fixture
def clock(monkeypatch) -> Clock:
    return Clock(monkeypatch)
