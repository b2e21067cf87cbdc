"""Downloads: a filtered staff queue, and the dashboard's tables, as CSV or XLSX.

A queue over COMPLAINT_EXPORT_MAX_ROWS rows becomes a background export: the user
lands on its progress page (polled with htmx) and downloads the file from there.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from complaints import selectors
from complaints.analytics.filters import DashboardFilterForm
from complaints.errors import ActionForbidden, InvalidInput, NotFound
from complaints.filters import ComplaintFilter
from complaints.models import ExportJob
from complaints.services import exports
from complaints.views.common import staff_required

# While a job is waiting or running its page asks again this often.
POLL_SECONDS = 2


def _no_cache(response: HttpResponse) -> HttpResponse:
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def _download(
    fmt: str, stem: str, headers: Sequence[str], rows: Iterable[Sequence[Any]], sheet: str
) -> HttpResponse:
    name = exports.export_filename(stem, fmt)
    if fmt == "csv":
        response = StreamingHttpResponse(
            exports.csv_lines(headers, rows), content_type=exports.CONTENT_TYPES["csv"]
        )
    else:
        response = HttpResponse(
            exports.xlsx_bytes(sheet, headers, rows), content_type=exports.CONTENT_TYPES["xlsx"]
        )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return _no_cache(response)


def _job_url(job: ExportJob) -> str:
    return reverse("complaints:export-job", args=[job.pk])


@staff_required
@require_GET
def queue_export(request, slug: str, fmt: str):
    """The queue as the user sees it, with the same filters (no pagination): a direct
    download up to the limit, a background export above it."""
    if fmt not in exports.FORMATS:
        raise Http404
    try:
        complaints = selectors.queue_complaints(user=request.user, slug=slug)
    except NotFound:
        raise Http404 from None
    filterset = ComplaintFilter(request.GET or None, queryset=complaints)
    rows = filterset.qs if filterset.is_bound and filterset.is_valid() else complaints
    limit = exports.export_max_rows()
    if rows.order_by()[: limit + 1].count() > limit:
        try:
            job = exports.export_job_start(
                source=f"queue:{slug}",
                params=exports.params_from_query(request.GET),
                fmt=fmt,
                actor=request.user,
            )
        except (InvalidInput, ActionForbidden):
            raise Http404 from None
        messages.info(
            request,
            _("More than %(max)d complaints: the file is being prepared.") % {"max": limit},
        )
        return redirect(_job_url(job))
    return _download(
        fmt,
        f"complaints-{slug}",
        exports.complaint_headers(),
        exports.complaint_rows(rows),
        sheet=slug,
    )


@staff_required
@require_GET
def dashboard_export(request, table: str, fmt: str):
    """A dashboard table for the dashboard's filter (a few hundred rows at most)."""
    if table not in exports.DASHBOARD_TABLES or fmt not in exports.FORMATS:
        raise Http404
    f = DashboardFilterForm(request.GET or None).to_filter()
    try:
        head, rows = exports.dashboard_table(table=table, f=f, user=request.user)
    except ActionForbidden:
        raise PermissionDenied from None
    stem = f"dashboard-{table}-{f.start.isoformat()}-{f.end.isoformat()}"
    return _download(fmt, stem, head, rows, sheet=table)


def _get_job(request, pk: int) -> ExportJob:
    try:
        return exports.export_job_get_for_user(user=request.user, pk=pk)
    except NotFound:
        raise Http404 from None


@staff_required
@require_GET
def export_job(request, pk: int):
    """A background export's progress; htmx polls the status fragment until the job
    is finished, then it shows the download link."""
    job = _get_job(request, pk)
    finished = job.status in (ExportJob.Status.DONE, ExportJob.Status.FAILED)
    percent = None
    if job.total_rows:
        percent = min(100, round(100 * job.processed_rows / job.total_rows))
    if job.status == ExportJob.Status.DONE:
        percent = 100
    context = {
        "job": job,
        "finished": finished,
        "percent": percent,
        "poll_seconds": POLL_SECONDS,
        "download_name": exports.export_job_filename(job),
        "keep_days": exports.export_keep_days(),
        "expires_on": timezone.localdate(job.created_at)
        + timedelta(days=exports.export_keep_days()),
    }
    template = "complaints/dashboard/export_job.html"
    if request.htmx:
        template = "complaints/dashboard/_export_job_status.html"
    return _no_cache(render(request, template, context))


@staff_required
@require_GET
def export_job_download(request, pk: int):
    """The finished file, for its creator only (anyone else: 404)."""
    job = _get_job(request, pk)
    if job.status != ExportJob.Status.DONE or not job.file:
        raise Http404
    try:
        handle = job.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=exports.export_job_filename(job),
        content_type=exports.CONTENT_TYPES[job.format],
    )
    return _no_cache(response)


urlpatterns = [
    path("queue/<slug:slug>/export.<str:fmt>", queue_export, name="queue-export"),
    path(
        "dashboard/export/<str:table>.<str:fmt>",
        dashboard_export,
        name="dashboard-export",
    ),
    path("exports/<int:pk>/", export_job, name="export-job"),
    path("exports/<int:pk>/download/", export_job_download, name="export-job-download"),
]
