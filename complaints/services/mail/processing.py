"""Acting on a stored message, once: `inbound_process` parses it and, in one
transaction, ignores auto-replies, bounces and loops, threads replies onto their
complaint (a subject's tracking number only when the sender is its customer), creates
a complaint from a new mail, or leaves it for a person (review). Any error ends in
`quarantined`; it never raises. `inbound_process_pending` picks up what a crash left."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils.translation import gettext as _

from complaints import roles
from complaints.contacts import normalize_email
from complaints.errors import InvalidInput
from complaints.models import Complaint, InboundMessage
from complaints.services.mail.outcomes import Status, _append, _create, _finish
from complaints.services.mail.parsing import parse_message
from complaints.services.mail.rules import (
    _AUTO_SUBJECT,
    _ignore_reason,
    _thread_complaint,
    clean_subject,
    tracking_numbers_in,
)

log = logging.getLogger(__package__)  # one logger for inbound mail, as before the split


def _review(note: str) -> dict:
    return {"status": Status.REVIEW, "note": note}


def _act(message: InboundMessage) -> dict:
    """Decide what this message is and do it. Returns the fields for _finish()."""
    parsed = parse_message(bytes(message.raw))
    reason = _ignore_reason(parsed)
    if reason:
        return {"status": Status.IGNORED, "note": reason}
    if not parsed.from_address:
        return _review(_("The message has no usable sender address."))
    if not parsed.text and not parsed.attachments:
        return _review(_("The message has no text and no attachments."))

    complaint = _thread_complaint(parsed)
    if complaint is not None:
        return _append(message, parsed, complaint, roles.SYSTEM, parsed.reply_text)

    numbers = tracking_numbers_in(parsed.subject)
    if numbers:
        found = list(
            Complaint.objects.select_related("customer").filter(tracking_number__in=numbers)
        )
        if len(found) != 1:
            return _review(
                _("The subject names %(numbers)s, which matches no single complaint.")
                % {"numbers": ", ".join(numbers)}
            )
        complaint = found[0]
        if normalize_email(complaint.customer.email) != parsed.from_address:
            # Never put a stranger's mail on someone's complaint: a person decides.
            return _review(
                _("The subject names %(number)s, but the sender %(sender)s is not its customer.")
                % {"number": complaint.tracking_number, "sender": parsed.from_address}
            )
        return _append(message, parsed, complaint, roles.SYSTEM, parsed.reply_text)

    if _AUTO_SUBJECT.match(parsed.subject):
        return _review(_("The subject looks like an automatic reply or a bounce."))
    try:
        with transaction.atomic():
            return _create(
                message,
                parsed,
                roles.SYSTEM,
                email=parsed.from_address,
                name=parsed.from_name,
                title=clean_subject(parsed.subject),
            )
    except InvalidInput as exc:
        details = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.fields.items())
        return _review(_("No complaint could be created: %(error)s") % {"error": details or exc})


def inbound_process(*, message: InboundMessage) -> InboundMessage:
    """Parse and act on a stored message, once. Ends in created, appended, review,
    ignored or quarantined; never raises (the raw bytes stay for a person)."""
    try:
        with transaction.atomic():
            row = InboundMessage.objects.select_for_update().filter(pk=message.pk).first()
            # Otherwise processed already (a retried fetch, a second worker): nothing to do.
            if row is not None and row.status == Status.RECEIVED:
                _finish(row, **_act(row))
    except Exception as exc:
        log.exception("Inbound message %s could not be processed", message.pk)
        _quarantine(message.pk, exc)
    try:
        message.refresh_from_db(fields=["status", "note", "complaint", "processed_at"])
    except Exception:
        log.warning("Could not reload inbound message %s", message.pk, exc_info=True)
    return message


def _quarantine(pk: int, exc: Exception) -> None:
    try:
        with transaction.atomic():
            row = InboundMessage.objects.select_for_update().filter(pk=pk).first()
            if row is not None and row.status == Status.RECEIVED:
                _finish(
                    row,
                    status=Status.QUARANTINED,
                    note=_("Processing failed: %(error)s")
                    % {"error": f"{type(exc).__name__}: {exc}"},
                )
    except Exception:
        log.exception("Could not quarantine inbound message %s", pk)


def inbound_process_pending(*, limit: int = 100) -> int:
    """Process messages stored but never processed (a crash between the two steps)."""
    pks = list(
        InboundMessage.objects.filter(status=Status.RECEIVED)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in pks:
        inbound_process(message=InboundMessage(pk=pk))
    return len(pks)
