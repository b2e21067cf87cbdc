from datetime import timedelta

import pytest
from django.utils import timezone

from complaints.services import sla
from complaints.services import transitions as t

pytestmark = pytest.mark.django_db


def test_triage_sets_deadlines_from_priority(org, make_complaint):
    complaint = make_complaint("new")
    t.complaint_triage(complaint=complaint, actor=org.agent, category=org.category, priority=org.p1)
    assert complaint.response_due_at == complaint.received_at + timedelta(hours=1)
    assert complaint.resolution_due_at == complaint.received_at + timedelta(hours=24)


def test_waiting_for_the_customer_pauses_the_clock(org, make_complaint):
    complaint = make_complaint("awaiting_customer")
    due = complaint.resolution_due_at
    now = timezone.now()
    complaint.awaiting_since = now - timedelta(hours=2)  # in memory only
    sla.resume_clock(complaint, now)
    assert complaint.resolution_due_at - due == timedelta(hours=2)


def test_resume_moves_the_stored_deadline(org, make_complaint):
    complaint = make_complaint("awaiting_customer")
    due = complaint.resolution_due_at
    t.complaint_resume(complaint=complaint, actor=org.agent)
    complaint.refresh_from_db()
    assert complaint.awaiting_since is None
    assert complaint.resolution_due_at > due
