"""Personal data: masking, logged reads, the customer data export and erasure.

Masking: phone numbers and emails are masked in staff lists for users without
`complaints.view_personal_data` (names are not masked). A masked contact is revealed
on request (a logged POST); holders of the permission see full values and every
detail view of a customer card by them is logged (the card is "the full record").

Export (`customer_export`): everything held about one person (the customer record
and the records merged into it) as a ZIP of JSON files plus the attachment files and
the raw inbound mail.

Erasure (`customer_erase`) anonymises the person and keeps the statistics (status,
dates, channel, category, product, priority, team, root cause, ratings):
- texts the customer wrote (title, description, demand details, their messages,
  survey comments, raw mail) are replaced whole by ERASED: free text may hold an
  address or a relative's name we cannot recognise;
- texts staff wrote (notes, replies, reasons, resolution, remedies, call notes) keep
  their content with the person's name, phone, email, order numbers and external
  ids replaced by ERASED;
- the same for the simple-history rows of Customer, CustomerExternalId, Complaint
  and the remedies/escalations/collaboration requests of those complaints;
- attachments: files deleted (after commit), metadata kept with the name ERASED;
- outbox: recipient and body erased, pending messages not sent any more;
- status-change reasons that named the person are scrubbed and their hash chain
  resealed from the first changed row (the access log records it).
Erasure is idempotent: an erased customer (`erased_at` set) is left as it is.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO, Any

from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

from complaints.models import (
    AccessLog,
    Attachment,
    CallbackAttempt,
    CollaborationRequest,
    Complaint,
    ComplaintEvent,
    Customer,
    CustomerExternalId,
    Escalation,
    InboundMessage,
    Notification,
    OutboxMessage,
    Remedy,
    StatusChange,
    SurveyResponse,
)
from complaints.services import audit
from complaints.services.access_log import access_log_record
from complaints.services.base import actor_user, locked, record_event, save_complaint, snapshot

ERASED = "[erased]"
PERMISSION = "complaints.view_personal_data"

Kind = ComplaintEvent.Kind
# Events whose text the customer wrote (also when an agent typed it in for them).
_CUSTOMER_EVENTS = (Kind.RECEIVED, Kind.CUSTOMER_MESSAGE)
_CUSTOMER_TEXT = ("title", "description", "demand_detail")
_STAFF_TEXT = ("status_reason", "resolution_summary", "remedy_decision", "recourse")
# Other rows of a complaint with staff-written text: (model, text fields).
_RELATED_TEXT: tuple[tuple[type[models.Model], tuple[str, ...]], ...] = (
    (Remedy, ("description", "decision_reason")),
    (Escalation, ("note", "settlement")),
    (CollaborationRequest, ("question", "answer")),
)


# --- Masking and logged reads -----------------------------------------------------------------


def may_view_personal_data(user: Any) -> bool:
    """The user may see customers' full phone numbers and emails."""
    return bool(user is not None and user.is_authenticated and user.has_perm(PERMISSION))


def mask_phone(value: str) -> str:
    """138****8000 (+86 kept as a prefix); short numbers keep at most their last two
    digits; a value without digits is hidden whole."""
    value = (value or "").strip()
    if not value:
        return ""
    prefix = ""
    digits = re.sub(r"\D", "", value)
    if value.startswith("+86") and len(digits) == 13:
        prefix, digits = "+86 ", digits[2:]
    elif value.startswith("+"):
        prefix = "+"
    n = len(digits)
    if n == 0:
        return "***"
    tail = 4 if n >= 10 else 2 if n >= 6 else 0
    head = 3 if n >= 11 else 0
    return f"{prefix}{digits[:head]}{'*' * (n - head - tail)}{digits[n - tail :] if tail else ''}"


def mask_email(value: str) -> str:
    """z***@example.com; local parts of one or two characters are hidden whole."""
    value = (value or "").strip()
    if not value:
        return ""
    local, at, domain = value.rpartition("@")
    if not at or not local:
        return "***"
    shown = local[0] if len(local) >= 3 else ""
    return f"{shown}***@{domain}"


def customer_contact_viewed(
    *, actor: Any, customer: Customer, request=None, purpose: str, complaint=None
) -> AccessLog:
    """Log that `actor` saw the customer's full phone and email.

    purpose: "reveal" (the show button), "call" (the call-backs queue), "card" (a
    permission holder opened the customer card), "admin".
    """
    detail: dict[str, Any] = {"purpose": purpose}
    if complaint is not None:
        detail["complaint"] = complaint.pk
    return access_log_record(
        event=AccessLog.Event.PERSONAL_DATA_VIEWED,
        request=request,
        user=actor,
        target=f"customer:{customer.pk}",
        detail=detail,
    )


def customer_card_viewed(*, actor: Any, customer: Customer, complaint, request=None) -> None:
    """A detail page showed the customer card: logged when it showed full values."""
    if may_view_personal_data(actor):
        customer_contact_viewed(
            actor=actor, customer=customer, request=request, purpose="card", complaint=complaint
        )


# --- Who the person is ------------------------------------------------------------------------


def customer_records(customer: Customer) -> list[Customer]:
    """The customer and every record merged into it (the same person), recursively."""
    found = [customer]
    frontier = [customer.pk]
    while frontier:
        merged = list(Customer.objects.filter(merged_into_id__in=frontier))
        merged = [c for c in merged if c.pk not in {f.pk for f in found}]
        found.extend(merged)
        frontier = [c.pk for c in merged]
    return found


def _phone_pattern(phone: str) -> str | None:
    digits = re.sub(r"\D", "", phone)
    if len(digits) < 5:
        return None
    variants = {digits}
    if phone.startswith("+86") and len(digits) == 13:
        variants.add(digits[2:])
    sep = r"[\s\-.]?"
    alternatives = "|".join(sep.join(v) for v in sorted(variants, key=len, reverse=True))
    return rf"(?<!\d)\+?(?:{alternatives})(?!\d)"


class Scrubber:
    """Replaces the person's identifiers in a text by ERASED."""

    def __init__(self, records: Iterable[Customer], order_numbers: Iterable[str]):
        parts: list[str] = []
        literals: set[str] = set()
        for c in records:
            if len(c.name.strip()) >= 2:
                literals.add(c.name.strip())
            if c.email:
                literals.add(c.email)
            literals.update(e.value for e in c.external_ids.all() if len(e.value) >= 3)
            if c.phone and (pattern := _phone_pattern(c.phone)):
                parts.append(pattern)
        literals.update(o for o in order_numbers if len(o) >= 3)
        # Longest first, so "Li Na Zhang" goes before "Li Na".
        parts.extend(re.escape(v) for v in sorted(literals, key=len, reverse=True))
        self.pattern = re.compile("|".join(parts), re.IGNORECASE) if parts else None

    def text(self, value: str) -> str:
        if not value or self.pattern is None:
            return value
        return self.pattern.sub(ERASED, value)

    def data(self, value: Any) -> Any:
        """Scrub every string of JSON data; customer-written fields go whole."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.data(v) for v in value]
        if isinstance(value, dict):
            return {
                k: (ERASED if k in (*_CUSTOMER_TEXT, "order_number") and v else self.data(v))
                for k, v in value.items()
            }
        return value


# --- Export -----------------------------------------------------------------------------------


def _row(obj: models.Model, *, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in obj._meta.concrete_fields:
        if f.name in skip or isinstance(f, models.BinaryField):
            continue
        value = f.value_from_object(obj)
        if isinstance(f, models.FileField):
            value = value.name if value else ""
        out[f.attname] = value
    return out


def _json(data: Any) -> str:
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)


def _inbound_for(records: list[Customer], complaints: list[Complaint]):
    emails = [c.email for c in records if c.email]
    query = models.Q(complaint__in=complaints)
    for email in emails:
        query |= models.Q(from_address__icontains=email)
    return InboundMessage.objects.filter(query)


def _outbox_for(records: list[Customer], complaints: list[Complaint]):
    contacts = [v for c in records for v in (c.email, c.phone) if v]
    return OutboxMessage.objects.filter(
        models.Q(complaint__in=complaints) | models.Q(to__in=contacts)
    )


def customer_export(*, customer: Customer, actor: Any, out: IO[bytes], request=None) -> dict:
    """Write a ZIP of everything held about the person to `out`; returns the counts."""
    records = customer_records(customer)
    complaints = list(
        Complaint.objects.filter(customer__in=records)
        .select_related("category", "product", "priority", "team")
        .order_by("received_at", "pk")
    )
    counts = {"complaints": len(complaints), "attachments": 0, "mails": 0, "outbox": 0}
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(
            "customer.json",
            _json(
                [
                    {**_row(c), "external_ids": [_row(e) for e in c.external_ids.all()]}
                    for c in records
                ]
            ),
        )
        for c in complaints:
            attachments = list(c.attachments.all())
            data = {
                **_row(c),
                "status_changes": [_row(s) for s in c.status_changes.order_by("pk")],
                "timeline": [_row(e) for e in c.events.order_by("created_at", "pk")],
                "survey_responses": [_row(s) for s in c.survey_responses.all()],
                "remedies": [_row(r) for r in Remedy.objects.filter(complaint=c)],
                "callback_attempts": [
                    _row(a) for a in CallbackAttempt.objects.filter(task__complaint=c)
                ],
                "attachments": [_row(a) for a in attachments],
            }
            zf.writestr(f"complaints/{c.tracking_number}.json", _json(data))
            for a in attachments:
                if not a.file:
                    continue
                name = f"attachments/{c.tracking_number}/{a.pk}-{get_valid_filename(a.original_name) or 'file'}"
                try:
                    with a.file.open("rb") as handle:
                        zf.writestr(name, handle.read())
                    counts["attachments"] += 1
                except (FileNotFoundError, ValueError):
                    pass
        for m in _inbound_for(records, complaints):
            zf.writestr(f"mail/{m.pk}.eml", bytes(m.raw))
            zf.writestr(f"mail/{m.pk}.json", _json(_row(m)))
            counts["mails"] += 1
        outbox = [_row(m) for m in _outbox_for(records, complaints)]
        counts["outbox"] = len(outbox)
        zf.writestr("outbox.json", _json(outbox))
        zf.writestr(
            "manifest.json",
            _json({"customer": customer.pk, "exported_at": timezone.now(), **counts}),
        )
    with transaction.atomic():
        access_log_record(
            event=AccessLog.Event.CUSTOMER_EXPORTED,
            request=request,
            user=actor,
            target=f"customer:{customer.pk}",
            detail=counts,
        )
        for c in complaints:
            record_event(
                c,
                kind=Kind.NOTE_ADDED,
                actor=actor,
                body=_("The customer's personal data was exported (data access request)."),
                data={"privacy": "exported"},
            )
    return counts


# --- Erasure ----------------------------------------------------------------------------------


@dataclass
class ErasureResult:
    customer: Customer
    already_erased: bool = False
    counts: dict[str, int] = field(default_factory=dict)


def _scrub_rows(queryset, fields: Iterable[str], scrubber: Scrubber, *, whole=()) -> int:
    """Scrub text fields row by row with UPDATE (no new history rows); returns rows changed."""
    changed = 0
    for row in queryset:
        values = {}
        for name in fields:
            old = getattr(row, name)
            new = (ERASED if old else old) if name in whole else scrubber.text(old)
            max_length = type(row)._meta.get_field(name).max_length
            if new and max_length:
                new = new[:max_length]
            if new != old:
                values[name] = new
        if values:
            type(row)._default_manager.filter(pk=row.pk).update(**values)
            changed += 1
    return changed


def _erase_complaint(complaint: Complaint, scrubber: Scrubber, actor: Any, counts: dict) -> list:
    """Anonymise one complaint under its lock; returns storage names to delete."""
    with locked(complaint):
        before = snapshot(complaint)
        for name in _CUSTOMER_TEXT:
            if getattr(complaint, name):
                setattr(complaint, name, ERASED)
        complaint.order_number = ""
        for name in _STAFF_TEXT:
            setattr(complaint, name, scrubber.text(getattr(complaint, name)))
        save_complaint(complaint, actor=actor, reason=_("Personal data erased"), before=before)

        history = Complaint.history.filter(id=complaint.pk)
        history.exclude(order_number="").update(order_number="")
        for name in _CUSTOMER_TEXT:
            history.exclude(**{name: ""}).update(**{name: ERASED})
        _scrub_rows(history, (*_STAFF_TEXT, "history_change_reason"), scrubber)

        first_changed = None
        for change in complaint.status_changes.order_by("pk"):
            reason = scrubber.text(change.reason)
            if reason != change.reason:
                StatusChange.objects.filter(pk=change.pk).update(reason=reason)
                first_changed = first_changed or change.pk
        if first_changed is not None:
            audit.chain_reseal_from(complaint_id=complaint.pk, first_pk=first_changed)
            counts["resealed_chains"] += 1

        for event in complaint.events.all():
            body = ERASED if event.kind in _CUSTOMER_EVENTS and event.body else event.body
            values = {"body": scrubber.text(body), "data": scrubber.data(event.data)}
            if values != {"body": event.body, "data": event.data}:
                ComplaintEvent.objects.filter(pk=event.pk).update(**values)
                counts["events"] += 1
        counts["surveys"] += _scrub_rows(
            SurveyResponse.objects.filter(complaint=complaint), ("comment",), scrubber,
            whole=("comment",),
        )  # fmt: skip
        counts["call_notes"] += _scrub_rows(
            CallbackAttempt.objects.filter(task__complaint=complaint), ("note",), scrubber
        )
        _scrub_rows(Notification.objects.filter(complaint=complaint), ("text",), scrubber)
        for model, fields in _RELATED_TEXT:
            rows = model.objects.filter(complaint=complaint)
            _scrub_rows(rows, fields, scrubber)
            _scrub_rows(model.history.filter(complaint_id=complaint.pk), fields, scrubber)

        files = []
        for a in complaint.attachments.all():
            if a.file:
                files.append(a.file.name)
            if a.file or a.original_name != ERASED:
                Attachment.objects.filter(pk=a.pk).update(file="", original_name=ERASED, sha256="")
                counts["attachments"] += 1
        record_event(
            complaint,
            kind=Kind.FIELD_CHANGED,
            actor=actor,
            body=_("The customer's personal data was erased on request."),
            data={"privacy": "erased"},
        )
    return files


def customer_erase(*, customer: Customer, actor: Any, request=None) -> ErasureResult:
    """Anonymise the person across complaints, history, mail, outbox and attachments."""
    customer.refresh_from_db()
    if customer.erased_at is not None:
        return ErasureResult(customer=customer, already_erased=True)
    counts = dict.fromkeys(
        ("complaints", "events", "surveys", "call_notes", "attachments", "mails", "outbox",
         "resealed_chains"), 0,
    )  # fmt: skip
    files: list[str] = []
    with transaction.atomic():
        records = customer_records(customer)
        complaints = list(Complaint.objects.filter(customer__in=records).order_by("pk"))
        scrubber = Scrubber(records, [c.order_number for c in complaints if c.order_number])
        for complaint in complaints:
            files += _erase_complaint(complaint, scrubber, actor, counts)
            counts["complaints"] += 1
        for m in _inbound_for(records, complaints):
            InboundMessage.objects.filter(pk=m.pk).update(
                raw=b"", from_address="", subject=ERASED, note=scrubber.text(m.note)
            )
            counts["mails"] += 1
        for m in _outbox_for(records, complaints):
            values: dict[str, Any] = {"to": ERASED, "body": ERASED, "headers": {}}
            values["subject"] = scrubber.text(m.subject)[:300]
            if m.state == OutboxMessage.State.PENDING:
                values.update(state=OutboxMessage.State.FAILED, last_error=ERASED)
            OutboxMessage.objects.filter(pk=m.pk).update(**values)
            counts["outbox"] += 1
        now = timezone.now()
        ids = [c.pk for c in records]
        CustomerExternalId.objects.filter(customer_id__in=ids).delete()
        CustomerExternalId.history.filter(customer_id__in=ids).update(value=ERASED)
        for record in records:
            record.name = record.phone = record.email = ""
            record.erased_at = now
            record._change_reason = _("Personal data erased")
            record._history_user = actor_user(actor)
            record.save(update_fields=["name", "phone", "email", "erased_at"])
        Customer.history.filter(id__in=ids).update(name="", phone="", email="")
        access_log_record(
            event=AccessLog.Event.CUSTOMER_ERASED,
            request=request,
            user=actor,
            target=f"customer:{customer.pk}",
            detail={"records": ids, **counts},
        )
        # Files go only once the anonymised rows are committed.
        transaction.on_commit(lambda: _delete_files(files))
    customer.refresh_from_db()
    return ErasureResult(customer=customer, counts=counts)


def _delete_files(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)
