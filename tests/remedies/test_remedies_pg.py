"""Real concurrency on PostgreSQL: two supervisors decide the same remedy at once."""

from __future__ import annotations

import pytest
from django.db import connection

from complaints.models import Remedy
from complaints.services import remedies
from tests.support import run_at_once

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
]


def test_two_supervisors_deciding_at_once_give_one_decision(limits, make_complaint, propose):
    remedy = propose(make_complaint("in_progress"), amount="250")
    first = Remedy.objects.get(pk=remedy.pk)
    second = Remedy.objects.get(pk=remedy.pk)

    results = run_at_once(
        [
            lambda: remedies.remedy_decide(remedy=first, actor=limits.supervisor, approve=True),
            lambda: remedies.remedy_decide(
                remedy=second, actor=limits.admin, approve=False, reason="Too much"
            ),
        ]
    )

    refused = [r for r in results if isinstance(r, Exception)]
    assert len(refused) == 1, results
    assert isinstance(refused[0], remedies.RemedyConflict)
    assert "already" in refused[0].message
    remedy.refresh_from_db()
    winner = next(r for r in results if not isinstance(r, Exception))
    assert remedy.status == winner.status
    assert remedy.decided_by_id == winner.decided_by_id
    assert remedy.history.filter(history_type="~").count() == 1
