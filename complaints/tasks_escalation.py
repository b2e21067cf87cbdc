"""Celery tasks of the escalation ladder and collaboration deadlines (periodic, e.g.
every minute in CELERY_BEAT_SCHEDULE). Overlapping runs are harmless: each overdue
request is marked and escalated once, each escalation climbs a level once."""

from __future__ import annotations

from celery import shared_task

from complaints.services.collaboration import collaboration_sweep
from complaints.services.escalation import escalations_climb


@shared_task(name="complaints.tasks_escalation.collaboration_sweep_task")
def collaboration_sweep_task() -> int:
    """Mark overdue collaboration requests and escalate them; returns how many."""
    return collaboration_sweep()


@shared_task(name="complaints.tasks_escalation.escalations_climb_task")
def escalations_climb_task() -> int:
    """Climb the escalations whose climb time passed; returns how many climbed."""
    return escalations_climb()
