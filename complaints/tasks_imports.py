"""Celery tasks of spreadsheet imports: the dry run and the import of one ImportJob.

Both take the job's id and call the service. Running an import twice (a redelivered
task) is harmless: rows already imported are recognised by their import key."""

from __future__ import annotations

from celery import shared_task
from django.utils.translation import gettext as _

from complaints.errors import ServiceError
from complaints.models import ImportJob
from complaints.services import imports


@shared_task(name="complaints.tasks_imports.import_check_task")
def import_check_task(job_id: int) -> int:
    """Check every row of the job's file; returns the number of rows with errors."""
    job = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.UPLOADED).first()
    if job is None:
        return 0
    try:
        job = imports.import_check(job=job)
    except ServiceError as exc:
        imports.import_fail(job=job, message=exc.message)
        return 0
    except Exception:
        imports.import_fail(job=job, message=_("The file could not be checked."))
        raise
    return job.error_count


@shared_task(name="complaints.tasks_imports.import_run_task")
def import_run_task(job_id: int) -> int:
    """Import the good rows of a started job; returns the number of complaints created."""
    job = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.RUNNING).first()
    if job is None:
        return 0
    try:
        job = imports.import_run(job=job)
    except ServiceError:
        return 0
    return job.created_count
