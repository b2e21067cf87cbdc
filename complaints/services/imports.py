"""Importing complaints and their customers from spreadsheets (CSV, XLSX).

The steps, each one service: `import_job_create` stores the upload, `import_read`
streams its rows, `mapping_guess` proposes which column is which field,
`import_check` (the dry run) lists every bad row in plain words, `import_run` creates
the good rows. The same services serve the screens, the Celery task and the
`import_complaints` command.

What an imported complaint is (decided here, documented in the README):
- channel "imported" (the marker); the source's own channel is kept in the import
  event's data. No acknowledgment, webhook, triage proposal or SLA clock: these are
  history, the customers were answered long ago.
- Its status is the source's, set in the constructor (never assigned afterwards) and
  logged as a StatusChange "import" from nothing to that status, with a timeline
  event and a history reason "Imported from <file>, row <n>".
- Resolved and closed rows need their resolution; a missing root cause is recorded
  as "other". A closed row is closed by override (loop outcome "override") with the
  reason "Imported as closed from <file>": the customer's answer is not in the file.
  The date the customer was told is the resolution date of the source (or the
  received date when the file has none), as the reason says.
- `import_key`: the source's id column when mapped ("id:<value>"), else a hash of the
  row's mapped values, so a file imported twice creates nothing the second time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.files.base import File
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from complaints.errors import InvalidInput
from complaints.models import (
    Channel,
    Complaint,
    ComplaintEvent,
    Customer,
    ImportJob,
    LoopOutcome,
    RootCause,
    StatusChange,
)
from complaints.services import audit
from complaints.services.base import actor_user
from complaints.services.import_rows import (
    FIELDS,
    Row,
    RowChecker,
    field_choices,
    import_read,
    mapping_guess,
)
from complaints.tracking import new_tracking_number
from complaints.workflow import ComplaintStatus

__all__ = ["field_choices", "import_read", "mapping_guess"]

S = ComplaintStatus
BATCH = 500
MAX_ERRORS_KEPT = 500

# --- Jobs ---------------------------------------------------------------------------


def import_job_create(*, file, name: str, actor: Any) -> ImportJob:
    """Store an uploaded file under a generated name and read its header."""
    limit = getattr(settings, "IMPORT_MAX_BYTES", 50 * 1024 * 1024)
    if getattr(file, "size", 0) > limit:
        raise InvalidInput(_("The file is larger than %(mb)d MB.") % {"mb": limit // (1024 * 1024)})
    digest = hashlib.sha256()
    for chunk in File(file).chunks():
        digest.update(chunk)
    with import_read(file) as source:
        headers = source.headers
    file.seek(0)
    suffix = ".xlsx" if name.lower().endswith((".xlsx", ".xlsm")) else ".csv"
    job = ImportJob(
        created_by=actor_user(actor), original_name=name[:255], sha256=digest.hexdigest()
    )
    job.mapping = mapping_guess(headers)
    job.file.save(f"{digest.hexdigest()[:16]}{suffix}", File(file), save=False)
    job.save()
    return job


def import_headers(*, job: ImportJob) -> list[str]:
    with job.file.open("rb") as handle, import_read(handle) as source:
        return source.headers


def import_mapping_set(*, job: ImportJob, mapping: dict[str, str], actor: Any) -> ImportJob:
    """Keep which column is which field; the mapping must name a description or title
    column and at least one contact column, each field at most once."""
    headers = import_headers(job=job)
    source = str(mapping.get("_source") or "").strip()[:40]
    mapping = {h: t for h, t in mapping.items() if t and t in FIELDS and h in headers}
    targets = list(mapping.values())
    problems = []
    if len(targets) != len(set(targets)):
        problems.append(_("Each field may be given by one column only."))
    if not {"description", "title"} & set(targets):
        problems.append(_("Choose the column with the description (or the title)."))
    if not {"phone", "email"} & set(targets):
        problems.append(_("Choose the column with the phone number or the email address."))
    if "received_at" not in targets:
        problems.append(_("Choose the column with the date received."))
    if problems:
        raise InvalidInput(" ".join(problems))
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.status not in (ImportJob.Status.UPLOADED, ImportJob.Status.CHECKED):
            raise InvalidInput(_("This import has already started."))
        job.mapping = {**mapping, "_source": source} if source else mapping
        job.status = ImportJob.Status.UPLOADED
        job.save(update_fields=["mapping", "status"])
    return job


def _errors_json(rows: list[Row], checker: RowChecker) -> list[dict]:
    return [
        {"row": r.number, "column": checker.header_of.get(col, col), "message": msg}
        for r in rows
        for col, msg in r.errors
    ]


def _language(job: ImportJob) -> str:
    user = job.created_by
    return (user.language if user else "") or settings.LANGUAGE_CODE


def import_check(*, job: ImportJob, progress: Callable[[int], None] | None = None) -> ImportJob:
    """The dry run: every row checked, nothing written but the job's counters."""
    with translation.override(_language(job)):
        return _walk(job, write=False, progress=progress)


def import_start(*, job: ImportJob, actor: Any) -> ImportJob:
    """Mark a checked job as running (once: a second click is refused)."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.status != ImportJob.Status.CHECKED:
            raise InvalidInput(_("Run the check first, or this import has already started."))
        job.status, job.started_at, job.processed_rows = ImportJob.Status.RUNNING, timezone.now(), 0
        job.save(update_fields=["status", "started_at", "processed_rows"])
    return job


def import_run(
    *, job: ImportJob, actor: Any = None, progress: Callable[[int], None] | None = None
) -> ImportJob:
    """Create the complaints of the good rows; rows already imported are skipped."""
    with translation.override(_language(job)):
        try:
            return _walk(job, write=True, progress=progress, actor=actor or job.created_by)
        except Exception:
            import_fail(
                job=job, message=_("The import stopped on an error; rows already imported stay.")
            )
            raise


def import_fail(*, job: ImportJob, message: str) -> None:
    """Record that a check or an import stopped, with a message for the page."""
    job.refresh_from_db()
    job.status, job.finished_at = ImportJob.Status.FAILED, timezone.now()
    job.errors = [{"row": 0, "column": "", "message": str(message)}, *job.errors][:MAX_ERRORS_KEPT]
    job.save(update_fields=["status", "finished_at", "errors"])


def _walk(job: ImportJob, *, write: bool, progress=None, actor=None) -> ImportJob:
    counts = {"processed_rows": 0, "created_count": 0, "skipped_count": 0, "error_count": 0}
    errors: list[dict] = []
    seen: set[str] = set()
    batch: list[Row] = []
    writer = _Writer(job, actor) if write else None

    def flush() -> None:
        good = [r for r in batch if not r.errors]
        bad = [r for r in batch if r.errors]
        existing = set(
            Complaint.objects.filter(import_key__in=[r.key for r in good]).values_list(
                "import_key", flat=True
            )
        )
        fresh = []
        for r in good:
            if r.key in existing or r.key in seen:
                counts["skipped_count"] += 1
            else:
                seen.add(r.key)
                fresh.append(r)
        created = len(fresh) if writer is None else writer.write(fresh)
        counts["skipped_count"] += len(fresh) - created
        counts["created_count"] += created
        counts["error_count"] += len(bad)
        if len(errors) < MAX_ERRORS_KEPT:
            errors.extend(_errors_json(bad, checker)[: MAX_ERRORS_KEPT - len(errors)])
        counts["processed_rows"] += len(batch)
        batch.clear()
        ImportJob.objects.filter(pk=job.pk).update(**counts)
        if progress:
            progress(counts["processed_rows"])

    limit = getattr(settings, "IMPORT_MAX_ROWS", 100_000)
    with job.file.open("rb") as handle, import_read(handle) as source:
        checker = RowChecker(job.mapping, source.headers, job.mapping.get("_source", ""))
        for number, raw in enumerate(source.rows(), start=2):
            if number - 1 > limit:
                raise InvalidInput(_("The file has more than %(n)d rows: split it.") % {"n": limit})
            batch.append(checker.check(number, raw))
            if len(batch) >= BATCH:
                flush()
        if batch:
            flush()
    for name, value in counts.items():
        setattr(job, name, value)
    job.errors = errors
    if write:
        job.status, job.finished_at = ImportJob.Status.DONE, timezone.now()
    else:
        job.status, job.total_rows = ImportJob.Status.CHECKED, counts["processed_rows"]
    job.save()
    return job


def _in_use(customer: Customer) -> Customer:
    """A customer merged into another is followed to the record still in use."""
    seen = set()
    while customer.merged_into_id is not None and customer.pk not in seen:
        seen.add(customer.pk)
        customer = customer.merged_into
    return customer


class _Writer:
    """Creates a batch of checked rows: customers, complaints (with history),
    StatusChange rows and timeline events, in bulk inside one transaction; if the
    batch collides with a concurrent import, row by row."""

    def __init__(self, job: ImportJob, actor: Any):
        self.job, self.actor = job, actor_user(actor)
        self.customers: dict[tuple[str, str], Customer] = {}
        self.now = timezone.now()
        self.reason = _("Imported from %(file)s") % {"file": job.original_name}

    def write(self, rows: list[Row]) -> int:
        if not rows:
            return 0
        try:
            with transaction.atomic():
                return self._create(rows)
        except IntegrityError:
            # Customers found or created in the rolled-back batch may not exist.
            self.customers.clear()
            created = 0
            for row in rows:
                try:
                    with transaction.atomic():
                        created += self._create([row])
                except IntegrityError:
                    self.customers.clear()
                    # Imported meanwhile by another run of the same file: skipped.
                    if not Complaint.objects.filter(import_key=row.key).exists():
                        raise
            return created

    def _customers_for(self, rows: list[Row]) -> None:
        """Find the batch's customers in two queries (normalised phone, then email,
        as intake matches them; a merged record is followed to the one in use) and
        create the missing ones in bulk. Existing customers are not changed."""
        wanted: dict[tuple[str, str], str] = {}
        for r in rows:
            key = (r.values["phone"], r.values["email"])
            if key not in self.customers:
                wanted.setdefault(key, r.values["customer_name"])
        if not wanted:
            return
        by_phone: dict[str, Customer] = {}
        by_email: dict[str, Customer] = {}
        phones = {p for p, _e in wanted if p}
        emails = {e for _p, e in wanted if e}
        for c in Customer.objects.filter(phone__in=phones).order_by("-pk"):
            by_phone[c.phone] = _in_use(c)
        for c in Customer.objects.filter(email__in=emails).order_by("-pk"):
            by_email[c.email] = _in_use(c)
        new = []
        for (phone, email), name in wanted.items():
            found = by_phone.get(phone) if phone else None
            found = found or (by_email.get(email) if email else None)
            if found is None:
                found = Customer(name=name, phone=phone, email=email)
                found._change_reason = self.reason
                new.append(found)
                if phone:
                    by_phone[phone] = found
                if email:
                    by_email.setdefault(email, found)
            self.customers[(phone, email)] = found
        if new:
            bulk_create_with_history(new, Customer, default_user=self.actor, default_date=self.now)

    def _create(self, rows: list[Row]) -> int:
        self._customers_for(rows)
        complaints = [self._complaint(r) for r in rows]
        numbers = {c.tracking_number for c in complaints}
        taken = set(
            Complaint.objects.filter(tracking_number__in=numbers).values_list(
                "tracking_number", flat=True
            )
        )
        while taken or len(numbers) < len(complaints):
            numbers = set()
            for c in complaints:
                while c.tracking_number in taken or c.tracking_number in numbers:
                    c.tracking_number = new_tracking_number(c.received_at)
                numbers.add(c.tracking_number)
            taken = set(
                Complaint.objects.filter(tracking_number__in=numbers).values_list(
                    "tracking_number", flat=True
                )
            )
        bulk_create_with_history(
            complaints, Complaint, default_user=self.actor, default_date=self.now
        )
        changes, events = [], []
        for row, c in zip(rows, complaints, strict=True):
            note = self._note(row, c)
            changes.append(
                StatusChange(
                    complaint=c,
                    transition="import",
                    from_status="",
                    to_status=c.status,
                    actor=self.actor,
                    reason=note,
                    created_at=c.received_at,
                )
            )
            events.append(
                ComplaintEvent(
                    complaint=c,
                    kind=ComplaintEvent.Kind.RECEIVED,
                    actor=None,
                    is_internal=False,
                    body=c.description,
                    data={"channel": Channel.IMPORTED, "imported": True},
                    created_at=c.received_at,
                )
            )
            events.append(
                ComplaintEvent(
                    complaint=c,
                    kind=ComplaintEvent.Kind.STATUS_CHANGED,
                    actor=self.actor,
                    is_internal=True,
                    body=note,
                    data={
                        "transition": "import",
                        "from": "",
                        "to": c.status,
                        "imported": {
                            "file": self.job.original_name,
                            "row": row.number,
                            "job": self.job.pk,
                            "source_channel": row.values["source_channel"],
                        },
                    },
                    created_at=self.now,
                )
            )
        for change in changes:
            # The first row of each imported complaint's audit chain.
            change.chain_hash = audit.chain_hash_for(change, "")
        StatusChange.objects.bulk_create(changes)
        ComplaintEvent.objects.bulk_create(events)
        return len(complaints)

    def _note(self, row: Row, c: Complaint) -> str:
        return _("Imported as “%(status)s” from %(file)s, row %(row)d.") % {
            "status": S(c.status).label,
            "file": self.job.original_name,
            "row": row.number,
        }

    def _complaint(self, row: Row) -> Complaint:
        v, status = row.values, row.values["status"]
        received = v["received_at"]
        resolved = v["resolved_at"] or v["closed_at"] or received
        done = status in (S.RESOLVED, S.CLOSED)
        customer = self.customers[(v["phone"], v["email"])]
        fields: dict[str, Any] = {}
        if done:
            cause = v["root_cause"] or RootCause.OTHER
            fields.update(
                resolution_summary=v["resolution"],
                root_cause=cause,
                resolved_at=resolved,
                customer_notified_at=resolved,
            )
        elif v["resolution"]:
            fields["resolution_summary"] = v["resolution"]
        if status == S.CLOSED:
            fields.update(closed_at=v["closed_at"] or resolved, loop_outcome=LoopOutcome.OVERRIDE)
        if status == S.REJECTED:
            fields["closed_at"] = v["closed_at"] or received
        reason = ""
        if status in (S.CLOSED, S.REJECTED, S.RESOLVED):
            reason = _("Imported as “%(status)s” from %(file)s (row %(row)d).") % {
                "status": S(status).label,
                "file": self.job.original_name,
                "row": row.number,
            }
            if done and not (v["resolved_at"] or v["closed_at"]):
                reason += " " + _(
                    "The file gives no resolution date: the received date stands for it."
                )
            if done and not v["root_cause"]:
                reason += " " + _("The file gives no root cause.")
        complaint = Complaint(
            tracking_number=new_tracking_number(received),
            title=v["title"], description=v["description"], demand=v["demand"], channel=Channel.IMPORTED,
            order_number=v["order_number"], customer=customer, language=customer.language,
            category=v["category"], product=v["product"], priority=v["priority"],
            team=v["team"], assignee=v["assignee"], received_at=received, import_key=row.key,
            # The constructor sets the source's status once; nothing assigns it later.
            status=status, status_reason=reason, **fields,
        )  # fmt: skip
        complaint._change_reason = _("Imported from %(file)s, row %(row)d") % {
            "file": self.job.original_name,
            "row": row.number,
        }
        return complaint
