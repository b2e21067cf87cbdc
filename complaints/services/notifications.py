"""Telling the customer what happened, through their channel (email for now).

Called from Celery tasks after commit: a failed send never rolls back a complaint.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMessage, make_msgid
from django.utils import translation
from django.utils.translation import gettext as _

from complaints.models import Complaint, ComplaintEvent, MailThread, StatusChange
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


def _language(complaint: Complaint) -> str:
    lang = complaint.language or complaint.customer.language or settings.LANGUAGE_CODE
    return lang if lang in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def _send(complaint: Complaint, subject: str, body: str, *, automatic: bool = True) -> bool:
    """Mail the customer, threading it: our Message-ID is remembered so their reply
    (In-Reply-To/References) lands on this complaint."""
    address = complaint.customer.email
    if not address:
        return False
    message_id = make_msgid(domain=settings.COMPLAINT_MAIL_DOMAIN)
    headers = {"Message-ID": message_id, "X-Complaint-Tracking": complaint.tracking_number}
    if automatic:
        # RFC 3834: auto-responders must not answer this (no mail loops).
        headers["Auto-Submitted"] = "auto-generated"
    reply_to = [settings.COMPLAINT_REPLY_TO] if settings.COMPLAINT_REPLY_TO else None
    message = EmailMessage(
        subject=subject, body=body, to=[address], headers=headers, reply_to=reply_to
    )
    MailThread.objects.get_or_create(
        message_id=message_id.strip("<>"), defaults={"complaint": complaint, "outgoing": True}
    )
    message.send()
    return True


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
        return _send(complaint, subject, body)


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
        return _send(complaint, subject, "\n\n".join(lines) + "\n")


def reply_send(*, event: ComplaintEvent) -> bool:
    complaint = event.complaint
    with translation.override(_language(complaint)):
        subject = _("[%(number)s] Reply to your complaint") % {"number": complaint.tracking_number}
        return _send(complaint, subject, event.body + "\n", automatic=False)
