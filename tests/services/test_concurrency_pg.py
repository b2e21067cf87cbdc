"""Real concurrency on PostgreSQL: two threads, two connections, one complaint."""

import pytest
from django.db import connection

from complaints.errors import ComplaintConflict
from complaints.models import Complaint
from complaints.services import transitions as t
from tests.support import run_at_once

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
]


def _race(actions):
    return run_at_once(actions)


def test_two_agents_claiming_at_once_one_owner(org, make_complaint):
    complaint = make_complaint("triaged")
    copies = [Complaint.objects.get(pk=complaint.pk) for _ in range(2)]
    results = _race(
        [
            lambda: t.complaint_claim(complaint=copies[0], actor=org.agent),
            lambda: t.complaint_claim(complaint=copies[1], actor=org.agent2),
        ]
    )
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1 and isinstance(errors[0], ComplaintConflict), results
    complaint.refresh_from_db()
    assert complaint.status == "assigned"
    assert complaint.status_changes.filter(transition="assign").count() == 1
    assert complaint.history.filter(status="assigned").count() == 1
