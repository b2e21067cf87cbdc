"""Real concurrency on PostgreSQL: two sweeps at once, a call and a survey answer at
once, two calls at once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection

from complaints.errors import ServiceError
from complaints.models import CallbackAttempt, CallbackResult, CallbackTask, ComplaintEvent
from complaints.services import callbacks, survey
from tests.support import run_at_once

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
]


def test_two_sweeps_at_once_open_each_callback_once(org, make_complaint):
    complaints = [make_complaint("resolved") for _ in range(5)]
    later = max(c.resolved_at for c in complaints) + timedelta(days=3)

    results = run_at_once([lambda: callbacks.callbacks_due_sweep(now=later)] * 2)

    assert all(isinstance(r, int) for r in results), results
    assert sum(results) == 5
    assert CallbackTask.objects.count() == 5
    opened = ComplaintEvent.objects.filter(kind=ComplaintEvent.Kind.CALLBACK)
    assert opened.count() == 5


def test_a_call_and_a_survey_answer_at_once_leave_one_outcome(org, due_callback):
    task = due_callback()
    complaint = task.complaint

    results = run_at_once(
        [
            lambda: callbacks.callback_record(
                task=CallbackTask.objects.get(pk=task.pk),
                actor=org.agent,
                result=CallbackResult.REACHED_UNSATISFIED,
            ),
            lambda: survey.survey_submit(
                complaint=type(complaint).objects.get(pk=complaint.pk), rating=5, solved=True
            ),
        ]
    )

    # Whichever came second was refused with a readable error, not a deadlock.
    failures = [r for r in results if isinstance(r, Exception)]
    assert len(failures) == 1 and isinstance(failures[0], ServiceError), results
    complaint.refresh_from_db()
    task.refresh_from_db()
    if isinstance(results[0], Exception):
        assert (complaint.status, task.outcome) == ("closed", "overtaken")
    else:
        assert (complaint.status, task.outcome) == ("reopened", "unsatisfied")


def test_two_not_reached_at_once_count_once_with_the_seen_count(org, due_callback):
    task = due_callback()

    def call():
        return callbacks.callback_record(
            task=CallbackTask.objects.get(pk=task.pk),
            actor=org.agent,
            result=CallbackResult.NOT_REACHED,
            expected_attempts=0,
        )

    results = run_at_once([call, call])

    assert sum(isinstance(r, ServiceError) for r in results) == 1, results
    task.refresh_from_db()
    assert task.attempts == 1
    assert CallbackAttempt.objects.count() == 1
