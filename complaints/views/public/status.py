"""The status page where customers follow their complaint: the status in their
words, the public timeline, their messages to us and the files they may download.
Staff are shown by first name only; internal events and attachments never appear."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from complaints import permissions, roles, selectors
from complaints.errors import InvalidInput, ServiceError
from complaints.models import Attachment, Channel, Complaint, ComplaintEvent
from complaints.services import attachments as attachment_services
from complaints.services import survey as survey_services
from complaints.services.messages import (
    can_customer_reopen,
    complaint_record_customer_message,
    follow_up_opened,
    opens_follow_up,
)
from complaints.views.common import attachment_response
from complaints.views.public.common import (
    MESSAGE_LIMIT,
    _accessible,
    _discard,
    _grant,
    _limited,
    _status_url,
)
from complaints.views.public.forms import MessageForm
from complaints.workflow import ComplaintStatus

Kind = ComplaintEvent.Kind
S = ComplaintStatus

# What the customer reads for each status: (label, explanation, Bootstrap colour).
CUSTOMER_STATUS = {
    S.NEW: (
        gettext_lazy("Received"),
        gettext_lazy("We have received your complaint and will look at it shortly."),
        "secondary",
    ),
    S.TRIAGED: (
        gettext_lazy("Received"),
        gettext_lazy("We have received your complaint and will look at it shortly."),
        "secondary",
    ),
    S.ASSIGNED: (
        gettext_lazy("Being handled"),
        gettext_lazy("Someone in our customer service team is handling your complaint."),
        "primary",
    ),
    S.IN_PROGRESS: (
        gettext_lazy("Being handled"),
        gettext_lazy("Someone in our customer service team is handling your complaint."),
        "primary",
    ),
    S.AWAITING_CUSTOMER: (
        gettext_lazy("Waiting for your answer"),
        gettext_lazy("We asked you a question. Please answer below so that we can go on."),
        "warning",
    ),
    S.RESOLVED: (
        gettext_lazy("Resolved"),
        gettext_lazy(
            "We have resolved your complaint. If you are not satisfied, write to us below."
        ),
        "success",
    ),
    S.CLOSED: (
        gettext_lazy("Closed"),
        gettext_lazy("Your complaint is closed. You can still write to us below."),
        "dark",
    ),
    S.REOPENED: (
        gettext_lazy("Being handled again"),
        gettext_lazy("Your complaint was reopened and is being handled again."),
        "primary",
    ),
    S.REJECTED: (
        gettext_lazy("Not accepted"),
        gettext_lazy("We could not accept this as a complaint."),
        "danger",
    ),
    S.MERGED: (
        gettext_lazy("Merged"),
        gettext_lazy("Your complaint is handled together with another complaint."),
        "info",
    ),
}
# The progress bar's steps, and the step each status has reached.
STEPS = [
    gettext_lazy("Received"),
    gettext_lazy("Being handled"),
    gettext_lazy("Resolved"),
    gettext_lazy("Closed"),
]
STEP_OF = {
    S.NEW: 0,
    S.TRIAGED: 0,
    S.ASSIGNED: 1,
    S.IN_PROGRESS: 1,
    S.AWAITING_CUSTOMER: 1,
    S.REOPENED: 1,
    S.RESOLVED: 2,
    S.CLOSED: 3,
}
# Status events whose text was written for the customer (and mailed to them).
_PUBLIC_REASON = {S.RESOLVED, S.REJECTED}
# The explicit "not solved" form's prefix and its submit button's name.
REOPEN_PREFIX = "reopen"


def customer_status(status: str) -> str:
    return str(CUSTOMER_STATUS.get(status, (status,))[0])


@dataclass
class Entry:
    """One line of the public timeline, as the customer reads it."""

    title: str
    at: Any
    from_customer: bool
    body: str = ""
    note: str = ""
    files: list = field(default_factory=list)
    # A complaint this entry leads to (a follow-up opened for the message): its status page.
    link: str = ""
    link_label: str = ""


def _staff_name(event: ComplaintEvent) -> str:
    # First names only: never a username or a last name on a public page.
    first = (event.actor.first_name or "").strip() if event.actor is not None else ""
    return first or _("Customer service")


def _entry(event: ComplaintEvent) -> Entry:
    # Filtered again here: a public page must not depend on how the selector prefetches.
    files = [a for a in event.attachments.all() if not a.is_internal]
    if event.kind == Kind.RECEIVED:
        return Entry(
            _("You submitted your complaint"), event.created_at, True, event.body, files=files
        )
    if event.kind == Kind.CUSTOMER_MESSAGE:
        data = event.data or {}
        via = data.get("via")
        note = _("Sent on complaint %(number)s") % {"number": via} if via else ""
        entry = Entry(_("You wrote"), event.created_at, True, event.body, note, files)
        follow_up = data.get("follow_up")
        if isinstance(follow_up, dict) and follow_up.get("tracking_number"):
            number = follow_up["tracking_number"]
            entry.link = reverse("complaints:public-status", args=[number])
            entry.link_label = _("Handled as complaint %(number)s") % {"number": number}
        return entry
    if event.kind == Kind.REPLY_SENT:
        title = _("%(name)s replied") % {"name": _staff_name(event)}
        return Entry(title, event.created_at, False, event.body, files=files)
    if event.kind == Kind.STATUS_CHANGED:
        to = (event.data or {}).get("to", "")
        title = _("Status: %(status)s") % {"status": customer_status(to)}
        body = event.body if to in _PUBLIC_REASON else ""
        return Entry(title, event.created_at, False, body, files=files)
    # Any other public event (a file customer service shared): its files, no text.
    return Entry(
        _("%(name)s added a file") % {"name": _staff_name(event)},
        event.created_at,
        False,
        files=files,
    )


def _timeline(complaint: Complaint) -> list[Entry]:
    # The selector prefetches the events' attachments (the public ones here).
    events = selectors.complaint_timeline(complaint=complaint, include_internal=False)
    return [_entry(event) for event in events]


def _files_target(complaint: Complaint) -> Complaint | None:
    """Where the customer's files go (a merged complaint's messages land on the
    complaint it was merged into), or None if files can no longer be added."""
    target, seen = complaint, set()
    while target.status == S.MERGED and target.merged_into_id and target.pk not in seen:
        seen.add(target.pk)
        target = target.merged_into
    return target if permissions.can_edit_complaint(roles.SYSTEM, target) else None


def _render_status(
    request,
    complaint: Complaint,
    form: MessageForm,
    status: int = 200,
    reopen_form: MessageForm | None = None,
):
    label, explanation, colour = CUSTOMER_STATUS.get(
        complaint.status, (complaint.status, "", "secondary")
    )
    follow_up = opens_follow_up(complaint)
    if follow_up and complaint.status == S.CLOSED:
        explanation = _(
            "Your complaint is closed. If you write to us below, we will open a new "
            "complaint for your message."
        )
    can_reopen = can_customer_reopen(complaint)
    reached = STEP_OF.get(complaint.status)
    context = {
        "complaint": complaint,
        "status_label": label,
        "status_explanation": explanation,
        "status_colour": colour,
        "steps": [
            {"label": step, "done": reached is not None and i <= reached, "current": i == reached}
            for i, step in enumerate(STEPS)
        ],
        # The question put to the customer, or why it was not accepted: both were
        # written for the customer (and mailed). Other status reasons are internal.
        "question": complaint.status_reason if complaint.status == S.AWAITING_CUSTOMER else "",
        "rejection_reason": complaint.status_reason if complaint.status == S.REJECTED else "",
        "timeline": _timeline(complaint),
        "form": form,
        "files_allowed": _files_target(complaint) is not None,
        "survey_url": _survey_url(complaint),
        "can_reopen": can_reopen,
        "reopen_form": (reopen_form or MessageForm(prefix=REOPEN_PREFIX)) if can_reopen else None,
        "opens_follow_up": follow_up,
    }
    return render(request, "complaints/public/status.html", context, status=status)


def _survey_url(complaint: Complaint) -> str:
    """The satisfaction survey of this handling round, while it waits for an answer."""
    if complaint.status != S.RESOLVED or survey_services.survey_answered(complaint):
        return ""
    return reverse("complaints:public-survey", args=[survey_services.survey_token(complaint)])


@never_cache
@require_GET
def status(request, number: str):
    complaint = _accessible(request, number)
    if complaint is None:
        # The same for unknown numbers and numbers this visitor may not see.
        return redirect(
            reverse("complaints:public-track") + "?" + urlencode({"number": number[:40]})
        )
    return _render_status(request, complaint, MessageForm())


@never_cache
@require_POST
def message(request, number: str):
    """A message from the customer; with the "not solved" button (REOPEN_PREFIX), the
    same message from the explicit reopen form, refused unless it reopens."""
    complaint = _accessible(request, number)
    if complaint is None:
        raise Http404
    if response := _limited(request, "message", MESSAGE_LIMIT):
        return response
    reopening = REOPEN_PREFIX in request.POST
    form = MessageForm(request.POST, request.FILES, prefix=REOPEN_PREFIX if reopening else None)

    def again(status: int = 200):
        if reopening:
            return _render_status(request, complaint, MessageForm(), status, reopen_form=form)
        return _render_status(request, complaint, form, status)

    if reopening and not can_customer_reopen(complaint):
        # The reopen form is gone from the page: say why above it, and keep the text
        # in the ordinary message form.
        messages.error(
            request,
            _(
                "This complaint can no longer be reopened. Write to us below: we will "
                "open a new complaint for your message."
            ),
        )
        body = request.POST.get(f"{REOPEN_PREFIX}-body", "")
        return _render_status(request, complaint, MessageForm(initial={"body": body}))
    if not form.is_valid():
        return again()
    files = form.cleaned_data["attachments"]
    if files and _files_target(complaint) is None:
        form.add_error("attachments", _("Files can no longer be added to this complaint."))
        return again()
    stored: list[Attachment] = []
    field_name = "body"
    try:
        with transaction.atomic():
            event = complaint_record_customer_message(
                complaint=complaint, body=form.cleaned_data["body"], channel=Channel.WEB
            )
            field_name = "attachments"
            for upload in files:
                stored.append(
                    attachment_services.attachment_add(
                        # On a merged complaint the message's event is on the target;
                        # on a follow-up, it is the new complaint's first event.
                        complaint=event.complaint,
                        actor=roles.SYSTEM,
                        upload=upload,
                        internal=False,
                        event=event,
                    )
                )
    except ServiceError as exc:
        _discard(stored)
        form.add_error(field_name if isinstance(exc, InvalidInput) else None, exc.message)
        return again()
    except BaseException:
        _discard(stored)
        raise
    if follow_up_opened(event):
        new = event.complaint
        # The customer may follow the new complaint in this session too.
        _grant(request, new)
        messages.success(
            request,
            _(
                "Complaint %(old)s was closed more than %(days)d days ago, so your message "
                "was recorded as a new complaint: %(number)s. We have sent you its "
                "confirmation."
            )
            % {
                "old": complaint.tracking_number,
                "days": settings.COMPLAINT_REOPEN_WINDOW.days,
                "number": new.tracking_number,
            },
        )
        return redirect(_status_url(new) + "#timeline")
    if reopening:
        messages.success(
            request, _("Your complaint was reopened. We will look at it again and reply.")
        )
    else:
        messages.success(request, _("Thank you. Your message was sent."))
    return redirect(_status_url(complaint) + "#timeline")


@never_cache
@require_GET
def attachment_download(request, number: str, pk: int):
    complaint = _accessible(request, number)
    attachment = (
        Attachment.objects.filter(
            pk=pk, complaint=complaint, is_internal=False, event__is_internal=False
        ).first()
        if complaint is not None
        else None
    )
    if attachment is None:
        raise Http404
    return attachment_response(attachment)
