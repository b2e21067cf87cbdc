"""Replies, internal notes and customer messages on a complaint's timeline."""

from __future__ import annotations

from typing import Any

from django.conf import settings
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


def complaint_record_customer_message(
    *, complaint: Complaint, body: str, channel: str | None = None
) -> ComplaintEvent:
    """A message from the customer (tracking page, email reply), through `channel`
    (default: the complaint's own).

    It resumes a complaint waiting for the customer and reopens a resolved one (or a
    closed one within the reopen window); on a merged complaint it lands on the
    complaint it was merged into as well.

    On a complaint closed longer ago than the reopen window it opens a follow-up
    complaint instead (see `_follow_up_open`), or lands on the follow-up already opened
    while that one can still take it. Returns the event the message became: on the
    complaint that handles it (`event.complaint`); for a new follow-up, that
    complaint's `received` event (`follow_up_opened(event)` is then true).
    """
    from complaints.workflow import is_within_reopen_window

    text = _text(body)
    with transaction.atomic():
        target = _surviving(complaint)
        follow_up = None
        if target.status == ComplaintStatus.CLOSED and not is_within_reopen_window(target):
            # Serialises two messages sent at once: the second finds the first's
            # follow-up and lands on it instead of opening another.
            Complaint.objects.select_for_update().filter(pk=target.pk).first()
            follow_up = _current_follow_up(target)
            if follow_up is None:
                return _follow_up_open(
                    complaint=complaint,
                    closed=target,
                    text=text,
                    channel=channel or complaint.channel,
                )
        data = {"follow_up": _ref(follow_up)} if follow_up is not None else {}
        event = record_event(
            complaint,
            kind=Kind.CUSTOMER_MESSAGE,
            actor=None,
            body=text,
            internal=False,
            data=data,
        )
        if follow_up is not None:
            target = follow_up
        if target.pk != complaint.pk:
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


def follow_up_opened(event: ComplaintEvent) -> bool:
    """Whether complaint_record_customer_message opened a follow-up complaint."""
    return event.kind == Kind.RECEIVED


def can_customer_reopen(complaint: Complaint) -> bool:
    """Whether a message from the customer reopens this very complaint (resolved, or
    closed within the reopen window)."""
    from complaints.workflow import is_within_reopen_window

    return complaint.status == ComplaintStatus.RESOLVED or (
        complaint.status == ComplaintStatus.CLOSED and is_within_reopen_window(complaint)
    )


def opens_follow_up(complaint: Complaint) -> bool:
    """Whether a message from the customer on this complaint (or the one it was merged
    into) is handled as a follow-up complaint: closed longer ago than the window."""
    from complaints.workflow import is_within_reopen_window

    target = _surviving(complaint)
    return target.status == ComplaintStatus.CLOSED and not is_within_reopen_window(target)


def _surviving(complaint: Complaint) -> Complaint:
    """Follow merged_into to the complaint that handles this one's messages."""
    target, seen = complaint, set()
    while (
        target.status == ComplaintStatus.MERGED and target.merged_into_id and target.pk not in seen
    ):
        seen.add(target.pk)
        target = target.merged_into
    return target


def _ref(complaint: Complaint) -> dict[str, Any]:
    return {"id": complaint.pk, "tracking_number": complaint.tracking_number}


def _current_follow_up(closed: Complaint) -> Complaint | None:
    """The newest follow-up (repeat) of `closed` that a message can still land on:
    open, resolved, or closed within its own window."""
    from complaints.workflow import is_within_reopen_window

    latest = (
        closed.repeats.exclude(status__in=[ComplaintStatus.MERGED, ComplaintStatus.REJECTED])
        .order_by("-received_at", "-pk")
        .first()
    )
    latest = _surviving(latest) if latest is not None else None
    if latest is None or latest.status == ComplaintStatus.REJECTED:
        return None
    if latest.status == ComplaintStatus.CLOSED and not is_within_reopen_window(latest):
        return None
    return latest


def _follow_up_open(
    *, complaint: Complaint, closed: Complaint, text: str, channel: str
) -> ComplaintEvent:
    """A new complaint for the customer's message on `closed` (closed longer ago than
    the reopen window): same customer, demand, category and product, `repeat_of` =
    `closed`, acknowledged at once with its own tracking number (intake). Both
    timelines link the two."""
    from complaints.services import intake, triage

    title = _("Follow-up to %(number)s: %(title)s") % {
        "number": closed.tracking_number,
        "title": closed.title,
    }
    new = intake.complaint_create(
        actor=None,
        channel=channel,
        customer=closed.customer,
        title=title[:200],
        description=text,
        demand=closed.demand,
        demand_detail=closed.demand_detail,
        order_number=closed.order_number,
        product=closed.product,
        category=closed.category,
        language=closed.language,
        # A follow-up is a repeat of the complaint written on, whatever its age.
        repeat_of=closed,
    )
    days = settings.COMPLAINT_REOPEN_WINDOW.days
    record_event(
        complaint,
        kind=Kind.CUSTOMER_MESSAGE,
        actor=None,
        body=text,
        internal=False,
        data={"follow_up": _ref(new)},
    )
    if complaint.pk != closed.pk:
        record_event(
            closed,
            kind=Kind.CUSTOMER_MESSAGE,
            actor=None,
            body=text,
            internal=False,
            data={"via": complaint.tracking_number, "follow_up": _ref(new)},
        )
    record_event(
        closed,
        kind=Kind.NOTE_ADDED,
        actor=None,
        body=_(
            "The customer wrote more than %(days)d days after this complaint was closed: "
            "follow-up complaint %(number)s was opened for the message."
        )
        % {"days": days, "number": new.tracking_number},
        data={"follow_up": _ref(new)},
    )
    record_event(
        new,
        kind=Kind.NOTE_ADDED,
        actor=None,
        body=_(
            "Follow-up to %(number)s, closed on %(date)s: the customer wrote again after "
            "the %(days)d-day reopen window."
        )
        % {
            "number": closed.tracking_number,
            "date": closed.closed_at.date().isoformat() if closed.closed_at else "?",
            "days": days,
        },
        data={"repeat_of": _ref(closed)},
    )
    # Triaged at once when the keyword rules are sure, like any submitted complaint.
    triage.triage_auto_apply(complaint=new)
    if closed.assignee_id is not None and permissions.can_view_complaint(closed.assignee, new):
        inapp.notify(
            user=closed.assignee,
            kind=Notification.Kind.CUSTOMER_MESSAGE,
            complaint=new,
            text=_("The customer of %(old)s wrote again: follow-up %(number)s")
            % {"old": closed.tracking_number, "number": new.tracking_number},
        )
    return new.events.get(kind=Kind.RECEIVED)


def _react_to_customer(complaint: Complaint) -> None:
    from complaints.services.transitions import complaint_reopen, complaint_resume

    if complaint.status == ComplaintStatus.AWAITING_CUSTOMER:
        complaint_resume(
            complaint=complaint, actor=roles.SYSTEM, reason=_("The customer answered.")
        )
    elif can_customer_reopen(complaint):
        complaint_reopen(
            complaint=complaint,
            actor=roles.SYSTEM,
            reason=_("The customer wrote again after the resolution."),
        )
