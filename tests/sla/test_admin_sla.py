"""The admin pages of the SLA configuration open, validate, and load holidays."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.admin import helpers
from django.contrib.messages import get_messages
from django.urls import reverse

from complaints.models import BusinessCalendar, SlaCrossing
from complaints.services.sweep import sla_sweep

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, org):
    """The Admin role (its permissions come from the migrations), not a superuser."""
    assert not org.admin.is_superuser
    client.force_login(org.admin)
    return client


def url(name: str, *args) -> str:
    return reverse(f"admin:complaints_{name}", args=args)


def test_calendar_pages_open(admin_client, cn_calendar):
    listing = admin_client.get(url("businesscalendar_changelist"))
    assert listing.status_code == 200
    # The holiday loader's action, with its country and year in the action bar.
    html = listing.content.decode()
    assert 'value="load_official_holidays"' in html
    assert 'name="country"' in html and 'name="year"' in html
    assert admin_client.get(url("businesscalendar_add")).status_code == 200
    page = admin_client.get(url("businesscalendar_change", cn_calendar.pk))
    assert page.status_code == 200
    assert "2026-10-10" in page.content.decode()  # the make-up day, in the inline
    assert admin_client.get(url("businesscalendar_history", cn_calendar.pk)).status_code == 200


def test_policy_and_crossing_pages_open(admin_client, org, make_complaint, policy):
    chosen = policy(category=org.category, priority=org.p1)
    assert admin_client.get(url("slapolicy_changelist")).status_code == 200
    assert admin_client.get(url("slapolicy_add")).status_code == 200
    assert admin_client.get(url("slapolicy_change", chosen.pk)).status_code == 200
    complaint = make_complaint("in_progress")
    sla_sweep(now=complaint.resolution_due_at)
    crossing = SlaCrossing.objects.first()
    assert admin_client.get(url("slacrossing_changelist")).status_code == 200
    page = admin_client.get(url("slacrossing_change", crossing.pk))
    assert page.status_code == 200
    # Read only: no save button, and no add page.
    assert 'name="_save"' not in page.content.decode()
    assert admin_client.get(url("slacrossing_add")).status_code == 403


def test_bad_working_hours_are_refused(admin_client):
    response = admin_client.post(
        url("businesscalendar_add"),
        {
            "name": "Broken",
            "time_zone": "Asia/Shanghai",
            "working_hours": '{"0": [["18:00", "09:00"]]}',
            "days-TOTAL_FORMS": "0",
            "days-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "cannot be read" in response.content.decode()
    response = admin_client.post(
        url("businesscalendar_add"),
        {
            "name": "Mars",
            "time_zone": "Mars/Olympus",
            "working_hours": '{"0": [["09:00", "18:00"]]}',
            "days-TOTAL_FORMS": "0",
            "days-INITIAL_FORMS": "0",
        },
    )
    assert "Unknown time zone" in response.content.decode()
    assert not BusinessCalendar.objects.exists()


def test_load_official_holidays_action(admin_client):
    calendar = BusinessCalendar.objects.create(name="HQ", time_zone="Asia/Shanghai")
    response = admin_client.post(
        url("businesscalendar_changelist"),
        {
            "action": "load_official_holidays",
            helpers.ACTION_CHECKBOX_NAME: [calendar.pk],
            "country": "cn",
            "year": "2026",
        },
        follow=True,
    )
    assert response.status_code == 200
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("6 make-up working days" in m for m in messages), messages
    assert calendar.days.filter(date=date(2026, 10, 1), kind="holiday").exists()
    assert calendar.days.filter(date=date(2026, 10, 10), kind="workday").exists()
    # Attributed to the admin in the days' history.
    assert calendar.days.first().history.first().history_user.username == "admin"
