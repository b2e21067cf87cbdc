"""Real concurrency on PostgreSQL: two sweeps, two climbs, two openers at once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from complaints import roles
from complaints.models import CollaborationRequest, Complaint, Escalation, Notification
from complaints.services import collaboration, escalation
from tests.support import run_at_once

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
]


def _race(actions):
    return run_at_once(actions)


def test_two_collaboration_sweeps_at_once_escalate_each_request_once(ladder, make_complaint):
    requests = [
        collaboration.collaboration_ask(
            complaint=make_complaint("in_progress"),
            actor=ladder.agent,
            department=ladder.department,
            question=f"Question {i}",
        )
        for i in range(6)
    ]
    later = max(r.due_at for r in requests) + timedelta(minutes=1)

    results = _race([lambda: collaboration.collaboration_sweep(now=later)] * 2)

    assert all(isinstance(r, int) for r in results), results
    assert sum(results) == 6
    assert CollaborationRequest.objects.filter(overdue_at=later).count() == 6
    assert Escalation.objects.filter(reason=Escalation.Reason.COLLABORATION).count() == 6
    assert Notification.objects.filter(user=ladder.tech_lead, kind="escalated").count() == 6


def test_two_climbs_at_once_climb_each_escalation_once(ladder, make_complaint):
    rows = [
        escalation.escalation_open(
            complaint=make_complaint("in_progress"), actor=roles.SYSTEM, reason="vip"
        )
        for _ in range(5)
    ]
    later = max(e.climb_at for e in rows) + timedelta(minutes=1)

    results = _race([lambda: escalation.escalations_climb(now=later)] * 2)

    assert sum(results) == 5, results
    assert set(Escalation.objects.values_list("level", flat=True)) == {2}
    assert set(Complaint.objects.values_list("escalation_level", flat=True)) == {2}


def test_two_sla_breach_openers_at_once_open_one_escalation(ladder, make_complaint):
    complaint = make_complaint("in_progress")
    now = timezone.now()

    results = _race(
        [lambda: escalation.escalation_open_for_sla_breach(complaint_ids=[complaint.pk], now=now)]
        * 2
    )

    assert sorted(results) == [0, 1], results
    assert Escalation.objects.filter(complaint=complaint).count() == 1


def test_two_breach_batches_in_opposite_orders_escalate_each_complaint_once(ladder, make_complaint):
    ids = [make_complaint("in_progress").pk for _ in range(8)]
    now = timezone.now()

    results = _race(
        [
            lambda: escalation.escalation_open_for_sla_breach(complaint_ids=ids, now=now),
            lambda: escalation.escalation_open_for_sla_breach(complaint_ids=ids[::-1], now=now),
        ]
    )

    # Both lock in primary-key order: no deadlock; the second finds them all open.
    assert sorted(results) == [0, 8], results
    assert Escalation.objects.filter(reason="sla_breach").count() == 8
    assert set(Complaint.objects.values_list("escalation_level", flat=True)) == {1}
    raised = Complaint.history.filter(history_change_reason="Escalated: SLA breached")
    assert raised.count() == 8
    assert Notification.objects.filter(user=ladder.supervisor, kind="escalated").count() == 8
