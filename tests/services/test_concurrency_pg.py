"""Real concurrency on PostgreSQL: two threads, two connections, one complaint."""

import threading

import pytest
from django.db import connection, connections

from complaints.errors import ComplaintConflict
from complaints.models import Complaint
from complaints.services import transitions as t

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
]


def _race(actions):
    barrier = threading.Barrier(len(actions))
    results = [None] * len(actions)

    def run(i, action):
        try:
            barrier.wait()
            results[i] = action()
        except Exception as exc:  # noqa: BLE001 - the outcome is what we compare
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    return results


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
