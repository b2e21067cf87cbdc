"""The sweep as a management command and as a Celery task."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from complaints import tasks_sla
from complaints.models import SlaCrossing

pytestmark = pytest.mark.django_db


def test_sla_sweep_command_prints_the_counts(org, make_complaint):
    complaint = make_complaint("in_progress")  # wall-clock fallback: P3, 8h and 72h
    out = StringIO()
    call_command("sla_sweep", "--now", complaint.received_at.isoformat(), stdout=out)
    assert "response_breach=0" in out.getvalue()
    out = StringIO()
    call_command("sla_sweep", "--now", complaint.resolution_due_at.isoformat(), stdout=out)
    assert "response_breach=1" in out.getvalue()
    assert "resolution_breach=1" in out.getvalue()
    assert "escalated=1" in out.getvalue()
    assert SlaCrossing.objects.filter(complaint=complaint).count() == 4


def test_sla_sweep_command_refuses_a_bad_time(db):
    with pytest.raises(CommandError, match="--now"):
        call_command("sla_sweep", "--now", "yesterday")


def test_the_task_runs_the_same_sweep(org, make_complaint):
    make_complaint("in_progress")
    assert tasks_sla.sla_sweep_task.name == "complaints.tasks_sla.sla_sweep_task"
    result = tasks_sla.sla_sweep_task.delay().get()
    assert result["response_breach"] == 0 and "sweep_id" in result
