"""What staff do with a message left for review (or quarantined): who may
(`can_review_inbound`), and the actions `inbound_attach`, `inbound_create_complaint`
and `inbound_mark_reviewed`."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from complaints import permissions, roles
from complaints.errors import ActionForbidden, InvalidInput
from complaints.models import Complaint, InboundMessage
from complaints.services.mail.outcomes import (
    OPEN_FOR_REVIEW,
    Status,
    _append,
    _create,
    _finish,
)
from complaints.services.mail.parsing import ParsedMail, parse_message

log = logging.getLogger(__package__)  # one logger for inbound mail, as before the split


def can_review_inbound(user: Any) -> bool:
    """Agents and supervisors review the mail that could not be handled automatically."""
    return bool(getattr(user, "is_active", False)) and (
        roles.is_agent(user) or roles.is_supervisor(user)
    )


def _open_for_review(message: InboundMessage, actor: Any) -> InboundMessage:
    if not can_review_inbound(actor):
        raise ActionForbidden()
    row = InboundMessage.objects.select_for_update().filter(pk=message.pk).first()
    if row is None or row.status not in OPEN_FOR_REVIEW:
        raise InvalidInput(_("This message has been handled already."))
    return row


def _parsed_for_staff(row: InboundMessage) -> ParsedMail:
    try:
        return parse_message(bytes(row.raw))
    except Exception as exc:
        log.warning("Inbound message %s cannot be parsed", row.pk, exc_info=True)
        raise InvalidInput(
            _("This message cannot be read; download the raw message instead.")
        ) from exc


@transaction.atomic
def inbound_attach(*, message: InboundMessage, actor: Any, complaint: Complaint) -> InboundMessage:
    """Add the message to a complaint as the customer's message (a person decided)."""
    row = _open_for_review(message, actor)
    if not permissions.can_view_complaint(actor, complaint):
        raise InvalidInput(_("No such complaint, or you may not see it."))
    if not permissions.can_edit_complaint(actor, complaint):
        raise ActionForbidden(_("This complaint can no longer be changed."))
    parsed = _parsed_for_staff(row)
    # A person chose this complaint: if trimming left nothing, the whole text goes.
    outcome = _append(row, parsed, complaint, actor, parsed.reply_text or parsed.text)
    if outcome["status"] != Status.APPENDED:
        raise InvalidInput(outcome["note"])
    _finish(row, reviewed_by=actor, **outcome)
    return row


@transaction.atomic
def inbound_create_complaint(
    *,
    message: InboundMessage,
    actor: Any,
    email: str = "",
    phone: str = "",
    name: str = "",
    title: str = "",
    description: str = "",
    demand: str = "",
) -> Complaint:
    """A new complaint from the message, with what the reviewer confirmed or corrected.
    Raises InvalidInput (with .fields) like complaint_submit."""
    row = _open_for_review(message, actor)
    parsed = _parsed_for_staff(row)
    outcome = _create(
        row,
        parsed,
        actor,
        email=email,
        phone=phone,
        name=name,
        title=title,
        description=description,
        demand=demand,
    )
    _finish(row, reviewed_by=actor, **outcome)
    return outcome["complaint"]


@transaction.atomic
def inbound_mark_reviewed(*, message: InboundMessage, actor: Any, note: str = "") -> InboundMessage:
    """Nothing to do with it (spam, a duplicate, handled by phone…): recorded as reviewed."""
    row = _open_for_review(message, actor)
    note = (note or "").strip()
    if len(note) > 1000:
        raise InvalidInput(_("Please keep the note under 1,000 characters."))
    combined = "\n".join(n for n in (row.note, note) if n)
    _finish(row, status=Status.REVIEWED, note=combined, complaint=row.complaint, reviewed_by=actor)
    return row
