"""Two SLA sweeps at once on PostgreSQL: every breached complaint of a backlog is
recorded, put on the timeline and escalated exactly once."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Count

from complaints.models import Complaint, ComplaintEvent, Escalation, SlaCrossing
from complaints.services.sweep import sla_sweep
from tests.sla.calendars import SHANGHAI, at
from tests.support import run_at_once

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]

RECEIVED = at(SHANGHAI, 2026, 6, 1, 9)
LATE = at(SHANGHAI, 2026, 6, 3, 9)  # after every deadline of the policy below


def _at_once(*actions):
    return run_at_once(list(actions))


def test_two_sweeps_at_once_escalate_each_breach_once(org, make_complaint, policy, clock):
    policy(response=120, resolution=16 * 60)
    clock.set(RECEIVED)
    backlog = [make_complaint("in_progress", received_at=RECEIVED) for _ in range(12)]
    clock.set(LATE)

    results = _at_once(
        lambda: sla_sweep(now=LATE, batch_size=5), lambda: sla_sweep(now=LATE, batch_size=5)
    )

    assert not [r for r in results if isinstance(r, Exception)], results
    ids = [c.pk for c in backlog]
    assert sum(r.total for r in results) == 4 * len(ids)
    assert sum(r.escalated for r in results) == len(ids)
    assert SlaCrossing.objects.filter(complaint_id__in=ids).count() == 4 * len(ids)
    events = ComplaintEvent.objects.filter(complaint_id__in=ids, data__has_key="sla")
    per_crossing = events.values("complaint_id", "data__sla").annotate(n=Count("pk"))
    assert len(per_crossing) == 4 * len(ids)
    assert {row["n"] for row in per_crossing} == {1}
    escalations = Escalation.objects.filter(complaint_id__in=ids, reason="sla_breach")
    assert escalations.count() == len(ids)
    assert set(escalations.values_list("complaint_id", flat=True)) == set(ids)
    assert set(Complaint.objects.filter(pk__in=ids).values_list("escalation_level", flat=True)) == {
        1
    }
    # A third sweep afterwards finds nothing left to do.
    assert sla_sweep(now=LATE).total == 0
