"""Celery task of the SLA clock: the sweep, every minute from the beat schedule.

Overlapping runs are harmless: each crossing is recorded and escalated once.
"""

from __future__ import annotations

from celery import shared_task

from complaints.services.sweep import sla_sweep


@shared_task(name="complaints.tasks_sla.sla_sweep_task", ignore_result=True)
def sla_sweep_task() -> dict:
    result = sla_sweep()
    return {"sweep_id": str(result.sweep_id), **result.counts, "escalated": result.escalated}
