"""Real concurrency on PostgreSQL: two admins saving an SOP at once, two agents ticking
the same step at once."""

from __future__ import annotations

import pytest
from django.db import connection

from complaints.models import ComplaintEvent, Sop, SopCheck
from complaints.services import guidance
from tests.support import run_at_once

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
]


def _save(org, title):
    return lambda: guidance.sop_save_version(
        category=org.category, actor=org.admin, title=title, steps=[title]
    )


def test_two_admins_saving_at_once_make_two_versions_one_current(org, sop):
    results = run_at_once([_save(org, "Alpha"), _save(org, "Beta")])

    assert all(isinstance(r, Sop) for r in results), results
    assert sorted(r.version for r in results) == [2, 3]
    assert Sop.objects.filter(category=org.category, is_current=True).count() == 1
    assert Sop.objects.get(is_current=True).version == 3


def test_two_agents_ticking_the_same_step_record_it_once(org, working, sop):
    def tick(user):
        return lambda: guidance.sop_step_check(complaint=working, actor=user, step=1)

    results = run_at_once([tick(org.agent), tick(org.agent2)])

    assert all(isinstance(r, SopCheck) for r in results), results
    assert SopCheck.objects.count() == 1
    assert working.events.filter(kind=ComplaintEvent.Kind.SOP_STEP).count() == 1
