"""Celery tasks of the closing loop (periodic, see CELERY_BEAT_SCHEDULE). Overlapping
runs are harmless: a complaint's round gets one call-back (a database constraint)."""

from __future__ import annotations

from celery import shared_task

from complaints.services.callbacks import callbacks_due_sweep


@shared_task(name="complaints.tasks_loop.callbacks_due_task")
def callbacks_due_task() -> int:
    """Open the call-backs of resolved complaints whose survey is unanswered."""
    return callbacks_due_sweep()
