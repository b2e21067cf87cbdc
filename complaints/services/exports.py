"""CSV and XLSX exports of complaint lists and of the dashboard's tables.

Formula injection: a spreadsheet runs a cell that starts with = + - @ (or a tab or a
carriage return before one) as a formula, and complaint titles and customer names
are typed by anyone. Every text cell starting with one of those characters is
prefixed with an apostrophe, in CSV and XLSX alike. Numbers and dates that the
product computed are written as such.

Customer contact details (phone, email) are left out of complaint exports: a file
leaves the system's access control, so it carries no more personal data than a
report needs.

Up to COMPLAINT_EXPORT_MAX_ROWS rows an export is a direct download. Larger ones
become an ExportJob written by a background task (complaints.tasks_analytics) in
chunks, with its progress stored on the job, up to COMPLAINT_EXPORT_JOB_MAX_ROWS
rows. The file is stored under a random name (never served by the web server);
only its creator downloads it, through a view. Access is checked again when the
task runs: the rows are the creator's queue *then*, and a creator who lost their
role gets a failed job. Files are purged after COMPLAINT_EXPORT_KEEP_DAYS days.
"""

from __future__ import annotations

import csv
import io
import logging
import secrets
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints import roles, selectors
from complaints.analytics import charts
from complaints.analytics.filters import DashboardFilter, DashboardFilterForm, sees_everything
from complaints.errors import ActionForbidden, InvalidInput, NotFound
from complaints.filters import ComplaintFilter
from complaints.models import Channel, Complaint, ExportJob, RootCause
from complaints.workflow import ComplaintStatus

log = logging.getLogger(__name__)

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
DEFAULT_MAX_ROWS = 20_000
DEFAULT_JOB_MAX_ROWS = 1_000_000
DEFAULT_KEEP_DAYS = 7
# Rows between two progress updates of a background export (and the read chunk).
CHUNK = 2000
FORMATS = ("csv", "xlsx")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def export_max_rows() -> int:
    """The most rows of a direct download; larger exports run in the background."""
    return int(getattr(settings, "COMPLAINT_EXPORT_MAX_ROWS", DEFAULT_MAX_ROWS))


def export_job_max_rows() -> int:
    """The most rows of a background export."""
    return int(getattr(settings, "COMPLAINT_EXPORT_JOB_MAX_ROWS", DEFAULT_JOB_MAX_ROWS))


def export_keep_days() -> int:
    return int(getattr(settings, "COMPLAINT_EXPORT_KEEP_DAYS", DEFAULT_KEEP_DAYS))


def neutralise(value: Any) -> Any:
    """A cell value that no spreadsheet runs as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, datetime):
        return timezone.localtime(value).replace(tzinfo=None, microsecond=0)
    if isinstance(value, date):
        return value
    text = str(value)
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


def _csv_text(value: Any) -> str:
    value = neutralise(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


class _Line:
    """A file-like object that hands back what csv.writer writes (for streaming)."""

    def write(self, text: str) -> str:
        return text


def csv_lines(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The CSV text line by line, starting with a UTF-8 byte-order mark so that
    spreadsheet programs read Chinese correctly."""
    writer = csv.writer(_Line())
    yield "\ufeff" + writer.writerow([_csv_text(h) for h in headers])
    for row in rows:
        yield writer.writerow([_csv_text(v) for v in row])


def xlsx_write(
    target: IO[bytes], title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """An XLSX workbook with one sheet written to `target` (write-only mode: rows go
    to a temporary file as they come, memory stays bounded)."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    def clean(value: Any) -> Any:
        value = neutralise(value)
        return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=ILLEGAL_CHARACTERS_RE.sub("", title)[:31] or "Sheet")
    sheet.append([clean(h) for h in headers])
    for row in rows:
        sheet.append([clean(v) for v in row])
    book.save(target)


def xlsx_bytes(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """An XLSX workbook with one sheet, in memory (the direct downloads)."""
    buffer = io.BytesIO()
    xlsx_write(buffer, title, headers, rows)
    return buffer.getvalue()


# --- Complaint lists ---------------------------------------------------------------------

COMPLAINT_FIELDS = (
    ("tracking_number", lambda: _("Tracking number")),
    ("title", lambda: _("Title")),
    ("status", lambda: _("Status")),
    ("priority__code", lambda: _("Priority")),
    ("category__name", lambda: _("Category")),
    ("product__name", lambda: _("Product")),
    ("channel", lambda: _("Channel")),
    ("team__name", lambda: _("Team")),
    ("assignee__username", lambda: _("Assignee")),
    ("customer__name", lambda: _("Customer")),
    ("received_at", lambda: _("Received")),
    ("first_response_at", lambda: _("First response")),
    ("response_due_at", lambda: _("Respond by")),
    ("resolved_at", lambda: _("Resolved")),
    ("resolution_due_at", lambda: _("Resolve by")),
    ("closed_at", lambda: _("Closed")),
    ("reopen_count", lambda: _("Times reopened")),
    ("escalation_level", lambda: _("Escalation level")),
    ("root_cause", lambda: _("Root cause")),
)


def complaint_headers() -> list[str]:
    return [str(label()) for _field, label in COMPLAINT_FIELDS]


def complaint_rows(qs: QuerySet[Complaint]) -> Iterator[list[Any]]:
    """The complaints as rows of COMPLAINT_FIELDS, read in chunks (one query per
    chunk: no related-object queries per row)."""
    labels = {
        "status": dict(ComplaintStatus.choices),
        "channel": dict(Channel.choices),
        "root_cause": dict(RootCause.choices),
    }
    names = [name for name, _label in COMPLAINT_FIELDS]
    for values in qs.values_list(*names).iterator(chunk_size=CHUNK):
        row = list(values)
        for i, name in enumerate(names):
            if name in labels and row[i]:
                row[i] = str(labels[name].get(row[i], row[i]))
        yield row


def export_filename(stem: str, fmt: str) -> str:
    return f"{stem}-{timezone.localdate().isoformat()}.{fmt}"


# --- The dashboard's tables ---------------------------------------------------------------

DASHBOARD_TABLES = ("teams", "agents", "products", "categories")


def dashboard_table(
    *, table: str, f: DashboardFilter, user: Any, now: datetime | None = None
) -> tuple[list[str], list[list[Any]]]:
    """(headers, rows) of a dashboard table for the filter, as the user sees it.
    Raises NotFound for an unknown table, ActionForbidden for the team table of a
    user who sees only their own figures."""
    now = now or timezone.now()
    if table not in DASHBOARD_TABLES:
        raise NotFound()
    if table in ("products", "categories"):
        top = charts.top_items(f, user)["product" if table == "products" else "category"]
        head = [_("Product") if table == "products" else _("Category"), _("Complaints received")]
        return head, [[r["name"], r["count"]] for r in top["rows"]]
    if table == "teams":
        if not sees_everything(user):
            raise ActionForbidden(_("Only supervisors see the team table."))
        data, first = charts.team_table(f, user, now), _("Team")
    else:
        data, first = charts.agent_table(f, user, now), _("Agent")
    head = [
        first,
        _("Received"),
        _("Resolved"),
        _("Backlog"),
        _("Resolution on time %"),
        _("Average rating"),
        _("Survey answers"),
        _("Median resolution (business minutes)"),
    ]
    keys = (
        "name",
        "received",
        "resolved",
        "backlog",
        "resolution_compliance",
        "csat",
        "answers",
        "resolution_median",
    )
    return head, [[r[k] for k in keys] for r in data]


# --- Background exports -------------------------------------------------------------------


def params_from_query(query: QueryDict) -> dict[str, list[str]]:
    """A request's query string as JSON-able data (every value a list)."""
    return {key: query.getlist(key) for key in query}


def _query(params: dict[str, list[str]]) -> QueryDict:
    query = QueryDict(mutable=True)
    for key, values in params.items():
        query.setlist(key, [str(v) for v in values])
    return query


def _parse_source(source: str) -> tuple[str, str]:
    kind, _sep, name = source.partition(":")
    if kind == "queue" and name:
        return kind, name
    if kind == "dashboard" and name in DASHBOARD_TABLES:
        return kind, name
    raise InvalidInput(_("Unknown export."))


def export_job_start(
    *, source: str, params: dict[str, list[str]], fmt: str, actor: Any
) -> ExportJob:
    """Queue a background export of `source` ("queue:<slug>", "dashboard:<table>")
    with the query-string `params`. The same export still waiting or running for
    the same user is returned instead of a second one (a double click)."""
    if fmt not in FORMATS:
        raise InvalidInput(_("Unknown export format."), fields={"format": _("Unknown format.")})
    _parse_source(source)
    if not roles.is_staff_member(actor):
        raise ActionForbidden(_("Only staff members export complaints."))
    with transaction.atomic():
        pending = (
            ExportJob.objects.select_for_update()
            .filter(
                created_by=actor,
                source=source,
                format=fmt,
                status__in=[ExportJob.Status.QUEUED, ExportJob.Status.RUNNING],
            )
            .order_by("-pk")
        )
        for job in pending:
            if job.params == params:
                return job
        job = ExportJob.objects.create(created_by=actor, source=source, params=params, format=fmt)
        pk = job.pk

        def queue() -> None:
            from complaints import tasks_analytics  # lazy: that module imports this one

            tasks_analytics.export_job_task.delay(pk)

        # Queued after commit, so the worker finds the row; a broker that is down
        # leaves the job queued (shown as waiting) rather than failing the request.
        transaction.on_commit(queue, robust=True)
    return job


def export_job_get_for_user(*, user: Any, pk: int) -> ExportJob:
    """The user's own export job; anyone else's is missing (NotFound)."""
    try:
        return ExportJob.objects.get(pk=pk, created_by_id=getattr(user, "pk", None))
    except ExportJob.DoesNotExist:
        raise NotFound() from None


def export_job_filename(job: ExportJob) -> str:
    """The name the download is offered under (the stored name is random)."""
    kind, name = job.source.split(":", 1)
    stem = f"complaints-{name}" if kind == "queue" else f"dashboard-{name}"
    day = timezone.localdate(job.created_at).isoformat()
    return f"{stem}-{day}.{job.format}"


def _job_rows(job: ExportJob, user: Any) -> tuple[str, list[str], Iterable[Sequence[Any]], int]:
    """(sheet title, headers, rows, row count) of the job's source for `user` now."""
    kind, name = _parse_source(job.source)
    query = _query(job.params)
    if kind == "queue":
        complaints = selectors.queue_complaints(user=user, slug=name)
        filterset = ComplaintFilter(query or None, queryset=complaints)
        qs = filterset.qs if filterset.is_bound and filterset.is_valid() else complaints
        # The count is bounded too: a queue far over the limit is not counted to the end.
        total = qs.order_by()[: export_job_max_rows() + 1].count()
        return name, complaint_headers(), complaint_rows(qs), total
    f = DashboardFilterForm(query or None).to_filter()
    head, rows = dashboard_table(table=name, f=f, user=user)
    return name, head, rows, len(rows)


def _counted(job: ExportJob, rows: Iterable[Sequence[Any]]) -> Iterator[Sequence[Any]]:
    """The rows, storing the progress on the job every CHUNK rows."""
    done = 0
    for row in rows:
        yield row
        done += 1
        if done % CHUNK == 0:
            ExportJob.objects.filter(pk=job.pk).update(processed_rows=done)
    job.processed_rows = done


def _fail(job: ExportJob, message: str) -> ExportJob:
    job.status = ExportJob.Status.FAILED
    job.error = message
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "error", "finished_at"])
    return job


def export_job_run(*, job_id: int) -> ExportJob | None:
    """Write a queued export's file (the task). A job already taken by another run
    (a redelivered task) is left alone; returns None for a missing job."""
    claimed = ExportJob.objects.filter(pk=job_id, status=ExportJob.Status.QUEUED).update(
        status=ExportJob.Status.RUNNING
    )
    job = ExportJob.objects.select_related("created_by").filter(pk=job_id).first()
    if job is None or not claimed:
        return job
    user = job.created_by
    # The creator's access now, not when they asked: roles and teams may have changed.
    if not roles.is_staff_member(user):
        return _fail(job, _("You no longer have access to these complaints."))
    try:
        title, headers, rows, total = _job_rows(job, user)
    except (NotFound, ActionForbidden):
        return _fail(job, _("You no longer have access to these complaints."))
    except InvalidInput as error:
        return _fail(job, str(error))
    limit = export_job_max_rows()
    if total > limit:
        return _fail(
            job,
            _("More than %(max)d rows: narrow the filter to export them.") % {"max": limit},
        )
    job.total_rows = total
    job.save(update_fields=["total_rows"])
    try:
        with tempfile.TemporaryFile() as handle:
            counted = _counted(job, rows)
            if job.format == "csv":
                for line in csv_lines(headers, counted):
                    handle.write(line.encode("utf-8"))
            else:
                xlsx_write(handle, title, headers, counted)
            handle.seek(0)
            # A random stored name: nothing guessable, even where media is served.
            job.file.save(f"{secrets.token_hex(16)}.{job.format}", File(handle), save=False)
    except Exception:
        log.exception("export %s failed", job.pk)
        return _fail(job, _("The export failed. Please try again or narrow the filter."))
    job.status = ExportJob.Status.DONE
    job.finished_at = timezone.now()
    job.save(update_fields=["file", "status", "processed_rows", "finished_at"])
    return job


def export_jobs_purge(*, now: datetime | None = None, keep_days: int | None = None) -> int:
    """Delete export jobs older than `keep_days` days with their files; returns how
    many. The file goes first: a crash between the two leaves a row without a file
    (harmless), never a file without a row."""
    now = now or timezone.now()
    keep = export_keep_days() if keep_days is None else keep_days
    old = ExportJob.objects.filter(created_at__lt=now - timedelta(days=keep))
    count = 0
    for job in old.iterator(chunk_size=CHUNK):
        if job.file:
            job.file.delete(save=False)
        job.delete()
        count += 1
    return count
