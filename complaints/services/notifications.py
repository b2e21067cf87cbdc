"""Telling the customer what happened, through their channel: email, and SMS for
customers we only have a phone number for (or who came by phone or in store).

Called by the services inside their transaction: the messages go into the outbox
(complaints/services/outbox.py) with the change, and are delivered after commit
with retries. A rolled-back change sends nothing; a failed send never rolls back
a complaint.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.core.mail import make_msgid
from django.utils import translation
from django.utils.translation import gettext as _

from complaints.models import Complaint, ComplaintEvent, MailThread, StatusChange
from complaints.services import outbox
from complaints.workflow import ComplaintStatus

log = logging.getLogger(__name__)

# Status changes the customer hears about.
CUSTOMER_FACING = {
    ComplaintStatus.AWAITING_CUSTOMER,
    ComplaintStatus.RESOLVED,
    ComplaintStatus.REJECTED,
    ComplaintStatus.REOPENED,
    ComplaintStatus.CLOSED,
    ComplaintStatus.MERGED,
}


def _status_url(complaint: Complaint) -> str:
    from complaints import public_links

    return public_links.status_url(complaint)


def _survey_line(complaint: Complaint) -> str:
    """The satisfaction survey link (满意度回访), signed for this handling round."""
    from django.urls import reverse

    from complaints import public_links
    from complaints.services import survey

    url = public_links.site_url() + reverse(
        "complaints:public-survey", args=[survey.survey_token(complaint)]
    )
    return _(
        "Are you satisfied with how we handled your complaint? Tell us here "
        "(the link is valid for %(days)d days):\n%(url)s"
    ) % {"days": survey.survey_days(), "url": url}


def _language(complaint: Complaint) -> str:
    lang = complaint.language or complaint.customer.language or settings.LANGUAGE_CODE
    return lang if lang in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


# Customers who came through these channels also get a text message.
SMS_CHANNELS = {"phone", "in_store"}

_muted: ContextVar[bool] = ContextVar("notifications_muted", default=False)


@contextmanager
def muted() -> Iterator[None]:
    """Create no customer notifications inside this block (demo data, imports)."""
    token = _muted.set(True)
    try:
        yield
    finally:
        _muted.reset(token)


def _send(
    complaint: Complaint,
    subject: str,
    body: str,
    *,
    automatic: bool = True,
    sms_text: str = "",
) -> bool:
    """Queue the message for the customer; True when anything was queued.

    Mail is threaded: our Message-ID is remembered so the customer's reply
    (In-Reply-To/References) lands on this complaint.
    """
    if _muted.get():
        return False
    customer = complaint.customer
    queued = False
    if customer.email:
        message_id = make_msgid(domain=settings.COMPLAINT_MAIL_DOMAIN)
        headers = {"Message-ID": message_id, "X-Complaint-Tracking": complaint.tracking_number}
        if automatic:
            # RFC 3834: auto-responders must not answer this (no mail loops).
            headers["Auto-Submitted"] = "auto-generated"
        if settings.COMPLAINT_REPLY_TO:
            headers["Reply-To"] = settings.COMPLAINT_REPLY_TO
        MailThread.objects.get_or_create(
            message_id=message_id.strip("<>"), defaults={"complaint": complaint, "outgoing": True}
        )
        outbox.outbox_enqueue_email(
            to=customer.email, subject=subject, body=body, headers=headers, complaint=complaint
        )
        queued = True
    if sms_text and customer.phone and (not customer.email or complaint.channel in SMS_CHANNELS):
        outbox.outbox_enqueue_sms(to=customer.phone, text=sms_text, complaint=complaint)
        queued = True
    return queued


def can_reach(customer) -> bool:
    """Whether a message to the customer has a channel (email, or SMS to a phone)."""
    return bool((customer.email or "").strip() or (customer.phone or "").strip())


def complaint_send_acknowledgment(*, complaint: Complaint) -> bool:
    with translation.override(_language(complaint)):
        subject = _("[%(number)s] We have received your complaint") % {
            "number": complaint.tracking_number
        }
        body = _(
            "Dear customer,\n\nWe have received your complaint “%(title)s”.\n"
            "Your tracking number is %(number)s. Keep it to follow the progress "
            "of your complaint.\n"
        ) % {"title": complaint.title, "number": complaint.tracking_number}
        # The signed status link: the customer follows the complaint without an account.
        from complaints import public_links

        body += "\n" + _(
            "Follow your complaint and write to us here (the link is valid for %(days)d days):\n"
            "%(url)s\n"
        ) % {"days": public_links.link_days(), "url": public_links.status_url(complaint)}
        sms_text = _("We received your complaint. Tracking number %(number)s: %(url)s") % {
            "number": complaint.tracking_number,
            "url": public_links.status_url(complaint),
        }
        return _send(complaint, subject, body, sms_text=sms_text)


def status_change_send(*, change: StatusChange) -> bool:
    complaint = change.complaint
    if change.to_status not in CUSTOMER_FACING:
        return False
    with translation.override(_language(complaint)):
        status = ComplaintStatus(change.to_status).label
        subject = _("[%(number)s] Your complaint is now: %(status)s") % {
            "number": complaint.tracking_number,
            "status": status,
        }
        lines = [
            _("The status of your complaint “%(title)s” is now: %(status)s.")
            % {"title": complaint.title, "status": status}
        ]
        if change.to_status == ComplaintStatus.RESOLVED:
            lines.append(_("Resolution: %(text)s") % {"text": complaint.resolution_summary})
            lines.append(_("Remedy: %(text)s") % {"text": complaint.remedy_decision})
            lines.append(_survey_line(complaint))
        elif change.to_status == ComplaintStatus.REJECTED:
            lines.append(_("Reason: %(text)s") % {"text": change.reason})
            lines.append(_("If you disagree: %(text)s") % {"text": complaint.recourse})
        elif change.to_status == ComplaintStatus.AWAITING_CUSTOMER:
            lines.append(_("We need your answer: %(text)s") % {"text": change.reason})
        elif change.to_status == ComplaintStatus.MERGED and complaint.merged_into_id:
            lines.append(
                _("It is now handled together with complaint %(number)s.")
                % {"number": complaint.merged_into.tracking_number}
            )
        sms_text = _("[%(number)s] Your complaint is now: %(status)s. Details: %(url)s") % {
            "number": complaint.tracking_number,
            "status": status,
            "url": _status_url(complaint),
        }
        return _send(complaint, subject, "\n\n".join(lines) + "\n", sms_text=sms_text)


def reply_send(*, event: ComplaintEvent) -> bool:
    complaint = event.complaint
    with translation.override(_language(complaint)):
        subject = _("[%(number)s] Reply to your complaint") % {"number": complaint.tracking_number}
        sms_text = _("[%(number)s] We replied to your complaint: %(url)s") % {
            "number": complaint.tracking_number,
            "url": _status_url(complaint),
        }
        return _send(complaint, subject, event.body + "\n", automatic=False, sms_text=sms_text)


def improvement_send(*, complaint: Complaint, compose) -> bool:
    """An improvement action's message to the complaint's customer (see
    services/improvements.py): `compose()` returns (subject, body, sms_text) and is
    called in the customer's language."""
    with translation.override(_language(complaint)):
        subject, body, sms_text = compose()
        return _send(complaint, subject, body, sms_text=sms_text)
