"""Fixtures of the escalation ladder and business calendars for these tests."""

from __future__ import annotations

import pytest

from complaints import roles
from complaints.models import BusinessCalendar, EscalationStep
from tests.factories import UserFactory

NINE_TO_SIX = {str(day): [["09:00", "18:00"]] for day in range(5)}


@pytest.fixture
def ladder(org):
    """P3: level 1 climbs after 30 minutes, level 2 after 60; team A has a head and
    the department a supervisor."""
    EscalationStep.objects.create(priority=org.p3, level=1, climb_after_minutes=30)
    EscalationStep.objects.create(priority=org.p3, level=2, climb_after_minutes=60)
    org.head = UserFactory(username="head", role=roles.SUPERVISOR)
    org.team.head = org.head
    org.team.save()
    org.tech_lead = UserFactory(username="tech_lead", role=roles.SUPERVISOR)
    org.department.supervisor = org.tech_lead
    org.department.save()
    return org


@pytest.fixture
def calendar(org):
    """Monday to Friday 09:00–18:00 in Shanghai, for the department."""
    cal = BusinessCalendar.objects.create(
        name="Mon–Fri 9–18", time_zone="Asia/Shanghai", working_hours=NINE_TO_SIX
    )
    org.department.calendar = cal
    org.department.collaboration_minutes = 120
    org.department.save()
    return cal
