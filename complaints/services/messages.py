"""Replies, internal notes and customer messages on a complaint's timeline."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints import permissions, roles
from complaints.errors import ActionForbidden, InvalidInput, NotFound
from complaints.models import Complaint, ComplaintEvent, Notification
from complaints.services import inapp, notifications
from complaints.services.base import locked, record_event, save_complaint, snapshot
from complaints.workflow import ComplaintStatus

Kind = ComplaintEvent.Kind


def _check_may_write(actor: Any, complaint: Complaint) -> None:
    if not permissions.can_view_complaint(actor, complaint):
        raise NotFound()
    if not permissions.can_edit_complaint(actor, complaint):
        raise ActionForbidden(_("This complaint can no longer be changed."))


def _text(body: str) -> str:
    text = (body or "").strip()
    if not text:
        raise InvalidInput(_("The message is empty."))
    if len(text) > 20000:
        raise InvalidInput(_("The message is too long (at most 20,000 characters)."))
    return text


def complaint_add_note(*, complaint: Complaint, actor: Any, body: str) -> ComplaintEvent:
    """An internal note: never shown to the customer."""
    _check_may_write(actor, complaint)
    text = _text(body)
    with transaction.atomic():
        event = record_event(complaint, kind=Kind.NOTE_ADDED, actor=actor, body=text)
        for user in inapp.mentioned_users(text):
            if user.pk != getattr(actor, "pk", None) and permissions.can_view_complaint(
                user, complaint
            ):
                inapp.notify(
                    user=user,
                    kind=Notification.Kind.MENTIONED,
                    complaint=complaint,
                    text=_("%(actor)s mentioned you on %(number)s")
                    % {"actor": actor, "number": complaint.tracking_number},
                )
    return event


def complaint_reply(*, complaint: Complaint, actor: Any, body: str) -> ComplaintEvent:
    """A reply to the customer; the first one stamps the first-response time."""
    _check_may_write(actor, complaint)
    text = _text(body)
    with transaction.atomic():
        if complaint.first_response_at is None:
            with locked(complaint):
                before = snapshot(complaint)
                complaint.first_response_at = timezone.now()
                save_complaint(complaint, actor=actor, reason=_("First response"), before=before)
        event = record_event(
            complaint, kind=Kind.REPLY_SENT, actor=actor, body=text, internal=False
        )
        notifications.reply_send(event=event)
    return event


def complaint_record_customer_message(*, complaint: Complaint, body: str) -> ComplaintEvent:
    """A message from the customer (tracking page, email reply).

    It resumes a complaint waiting for the customer and reopens a resolved one (or a
    closed one within the reopen window); on a merged complaint it lands on the
    complaint it was merged into as well.
    """
    text = _text(body)
    with transaction.atomic():
        event = record_event(
            complaint, kind=Kind.CUSTOMER_MESSAGE, actor=None, body=text, internal=False
        )
        target = complaint
        if complaint.status == ComplaintStatus.MERGED and complaint.merged_into_id:
            target = complaint.merged_into
            while target.status == ComplaintStatus.MERGED and target.merged_into_id:
                target = target.merged_into
            event = record_event(
                target,
                kind=Kind.CUSTOMER_MESSAGE,
                actor=None,
                body=text,
                internal=False,
                data={"via": complaint.tracking_number},
            )
        _react_to_customer(target)
        if target.assignee_id is not None:
            inapp.notify(
                user=target.assignee,
                kind=Notification.Kind.CUSTOMER_MESSAGE,
                complaint=target,
                text=_("The customer wrote on %(number)s") % {"number": target.tracking_number},
            )
    return event


def _react_to_customer(complaint: Complaint) -> None:
    from complaints.services.transitions import complaint_reopen, complaint_resume
    from complaints.workflow import is_within_reopen_window

    if complaint.status == ComplaintStatus.AWAITING_CUSTOMER:
        complaint_resume(
            complaint=complaint, actor=roles.SYSTEM, reason=_("The customer answered.")
        )
    elif complaint.status == ComplaintStatus.RESOLVED or (
        complaint.status == ComplaintStatus.CLOSED and is_within_reopen_window(complaint)
    ):
        complaint_reopen(
            complaint=complaint,
            actor=roles.SYSTEM,
            reason=_("The customer wrote again after the resolution."),
        )
