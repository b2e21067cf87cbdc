"""Celery tasks of the dashboard: the business-time rollup, the daily rollup and
the trend warnings
(periodic, see CELERY_BEAT_SCHEDULE), and the background exports. Overlapping runs
are harmless: the durations upsert the same values, the daily rollup runs take
turns on a lock, a warning is unique per week and
item, and an export job is claimed by one run only."""

from __future__ import annotations

from celery import shared_task

from complaints.analytics.durations import durations_refresh_all
from complaints.analytics.rollup import rollup_refresh
from complaints.services.exports import export_job_run
from complaints.services.trends import trend_warnings_detect


@shared_task(name="complaints.tasks_analytics.durations_refresh_task")
def durations_refresh_task() -> int:
    """Compute the business-time durations of the complaints that changed."""
    return durations_refresh_all()


@shared_task(name="complaints.tasks_analytics.rollup_refresh_task")
def rollup_refresh_task() -> int:
    """Bring the dashboard's daily rollup up to date (the durations first); returns
    how many days were recomputed. Every minute: the dashboard's lag."""
    return rollup_refresh()


@shared_task(name="complaints.tasks_analytics.trend_warnings_task")
def trend_warnings_task() -> int:
    """Check this week's complaints per product and category; returns new warnings."""
    return len(trend_warnings_detect())


@shared_task(name="complaints.tasks_analytics.export_job_task")
def export_job_task(job_id: int) -> str | None:
    """Write a queued export's file; returns the job's final status."""
    job = export_job_run(job_id=job_id)
    return job.status if job is not None else None
