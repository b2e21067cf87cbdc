"""The inbound statuses and the writes both automatic processing and staff review
make: `_finish()` (the one place a message's status is written), `_append` (the mail
as the customer's message on a complaint) and `_create` (a new complaint from it)."""

from __future__ import annotations

from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints.errors import ServiceError
from complaints.models import Channel, Complaint, ComplaintEvent, InboundMessage, MailThread
from complaints.services.attachments import attachment_add
from complaints.services.intake import MAX_DESCRIPTION, complaint_submit
from complaints.services.mail.parsing import ParsedMail
from complaints.services.mail.rules import guess_demand, guess_language
from complaints.services.messages import complaint_record_customer_message, follow_up_opened

Status = InboundMessage.Status
TERMINAL = frozenset(
    {Status.CREATED, Status.APPENDED, Status.REVIEW, Status.IGNORED, Status.QUARANTINED}
)
OPEN_FOR_REVIEW = frozenset({Status.REVIEW, Status.QUARANTINED})
MAX_MESSAGE = 20000  # complaint_record_customer_message's limit


def _finish(
    message: InboundMessage, *, status: str, note: str = "", complaint=None, **extra
) -> None:
    """The one place an inbound message's status is written."""
    changes = {
        "status": status,
        "note": note[:5000],
        "complaint": complaint,
        "processed_at": timezone.now(),
        **extra,
    }
    for name, value in changes.items():
        setattr(message, name, value)
    message.save(update_fields=list(changes))


def _cap(text: str, limit: int) -> tuple[str, bool]:
    if len(text) <= limit:
        return text, False
    return text[: limit - 1] + "…", True


def _no_text_placeholder(parsed: ParsedMail) -> str:
    names = ", ".join(a.name for a in parsed.attachments)
    return _("(Email without text; attachments: %(names)s)") % {"names": names}


def _add_attachments(complaint: Complaint, event, parsed: ParsedMail, actor: Any) -> list[str]:
    """Attach what is allowed; a refused file is noted (the raw message still holds it)."""
    problems = []
    for item in parsed.attachments:
        upload = ContentFile(item.content, name=item.name)
        try:
            with transaction.atomic():
                attachment_add(
                    complaint=complaint, actor=actor, upload=upload, internal=False, event=event
                )
        except ServiceError as exc:
            problems.append(_("Not attached: %(error)s") % {"error": exc})
    return problems


def _remember_thread(parsed: ParsedMail, complaint: Complaint) -> None:
    """Later mail in this thread (answers to this one) lands on the same complaint."""
    if parsed.message_id:
        MailThread.objects.get_or_create(
            message_id=parsed.message_id, defaults={"complaint": complaint, "outgoing": False}
        )


def _append(
    message: InboundMessage, parsed: ParsedMail, complaint: Complaint, actor: Any, body: str
) -> dict:
    if not body and not parsed.attachments:
        return {
            "status": Status.REVIEW,
            "note": _("The reply has nothing but quoted text: nothing new to add."),
        }
    body, truncated = _cap(body or _no_text_placeholder(parsed), MAX_MESSAGE)
    try:
        with transaction.atomic():
            event = complaint_record_customer_message(
                complaint=complaint, body=body, channel=Channel.EMAIL
            )
    except ServiceError as exc:
        return {
            "status": Status.REVIEW,
            "note": _("Could not add it to %(number)s: %(error)s")
            % {"number": complaint.tracking_number, "error": exc},
        }
    target = event.complaint
    notes = _add_attachments(target, event, parsed, actor)
    if truncated:
        notes.append(_("The text was shortened; the raw message has all of it."))
    if follow_up_opened(event):
        # The customer was acknowledged with the new tracking number; later mail in
        # this thread belongs to the follow-up, not to the closed complaint.
        notes.insert(
            0,
            _("%(old)s was closed beyond the reopen window: follow-up complaint %(number)s opened.")
            % {"old": complaint.tracking_number, "number": target.tracking_number},
        )
        _remember_thread(parsed, target)
    else:
        _remember_thread(parsed, complaint)
    status = Status.CREATED if follow_up_opened(event) else Status.APPENDED
    return {"status": status, "note": "\n".join(notes), "complaint": target}


def _create(
    message: InboundMessage,
    parsed: ParsedMail,
    actor: Any,
    *,
    email: str,
    name: str = "",
    phone: str = "",
    title: str = "",
    description: str = "",
    demand: str = "",
) -> dict:
    description = (
        description or parsed.text or (_no_text_placeholder(parsed) if parsed.attachments else "")
    )
    description, truncated = _cap(description, MAX_DESCRIPTION)
    complaint = complaint_submit(
        channel=Channel.EMAIL,
        email=email,
        phone=phone,
        name=(name or "")[:200],
        title=(title or "")[:200],
        description=description,
        demand=demand or guess_demand(f"{parsed.subject}\n{description}"),
        language=guess_language(f"{parsed.subject}\n{description}"),
        actor=actor,
    )
    event = complaint.events.filter(kind=ComplaintEvent.Kind.RECEIVED).first()
    notes = _add_attachments(complaint, event, parsed, actor)
    if truncated:
        notes.append(_("The text was shortened; the raw message has all of it."))
    _remember_thread(parsed, complaint)
    return {"status": Status.CREATED, "note": "\n".join(notes), "complaint": complaint}
