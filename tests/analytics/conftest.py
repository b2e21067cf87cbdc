"""Hand-built data for the dashboard: complaints put into states by the services,
then moved to known moments in the past (the figures are about when things happened,
and the services stamp "now")."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db.models import F

from complaints.analytics import charts, figures
from complaints.analytics.filters import DashboardFilter
from complaints.analytics.rollup import rollup_rebuild
from complaints.models import BusinessCalendar, CalendarDay, Complaint, StatusChange

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Monday 3 to Monday 10 March 2025; Wednesday 5 March is a holiday in the calendar.
WEEK = DashboardFilter(start=date(2025, 3, 3), end=date(2025, 3, 10), period="custom")


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    """A moment of March 2025, Shanghai time."""
    return datetime(2025, month, day, hour, minute, tzinfo=SHANGHAI)


def place(complaint: Complaint, **fields) -> Complaint:
    """Move a complaint's moments (and its status-change log with them: every change
    at `received_at`, the resolution at `resolved_at`) as if it had happened then."""
    Complaint.objects.filter(pk=complaint.pk).update(version=F("version") + 1, **fields)
    complaint.refresh_from_db()
    log = StatusChange.objects.filter(complaint=complaint)
    log.update(created_at=complaint.received_at)
    if complaint.resolved_at is not None:
        log.filter(transition="resolve").update(created_at=complaint.resolved_at)
    return complaint


@pytest.fixture
def calendar(org):
    """Mon–Fri 09:00–12:00 and 13:00–18:00 in Shanghai, 5 March 2025 a holiday; team
    A's calendar (complaints without an SLA policy use their team's)."""
    cal = BusinessCalendar.objects.create(name="Shanghai office", time_zone="Asia/Shanghai")
    CalendarDay.objects.create(calendar=cal, date=date(2025, 3, 5), kind="holiday")
    org.team.calendar = cal
    org.team.save(update_fields=["calendar"])
    return cal


@pytest.fixture
def media(settings, tmp_path):
    """Files written by the tests go to a temporary directory."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def rollup_before_reads(request, monkeypatch):
    """Hand-built data has no periodic task behind it: here every read of the daily
    rollup rebuilds it first, so the figures are those of the data as built. Tests
    that use the `rollup_manual` fixture build (or refresh) it themselves."""
    if "rollup_manual" in request.fixturenames:
        return

    def rebuilt(read):
        def wrapper(*args, **kwargs):
            rollup_rebuild()
            return read(*args, **kwargs)

        return wrapper

    for module in (figures, charts):
        monkeypatch.setattr(module, "stats", rebuilt(figures.stats))
        monkeypatch.setattr(module, "duration_percentiles", rebuilt(figures.duration_percentiles))


@pytest.fixture
def rollup_manual():
    """The rollup is built only when the test says so."""
