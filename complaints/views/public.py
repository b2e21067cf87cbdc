"""The public side, for customers without an account: the complaint form, tracking,
and the status page where they follow their complaint and write to us.

Access to a complaint's status page is kept in the session (a list of complaint ids),
granted by one of: submitting the complaint, the tracking form (number + the email or
phone used), or the signed link from the acknowledgment email. Every other request
for a complaint gets the same neutral answer or a 404, so nobody learns whether a
tracking number exists. Staff are shown by first name only; internal events,
attachments and fields never reach these pages.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import os
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from complaints import permissions, public_links, ratelimit, roles, selectors
from complaints.contacts import normalize_email, normalize_phone
from complaints.errors import InvalidInput, ServiceError
from complaints.models import (
    Attachment,
    Channel,
    Complaint,
    ComplaintEvent,
    Demand,
    IdempotencyKey,
    Product,
)
from complaints.services import attachments as attachment_services
from complaints.services import intake
from complaints.services.messages import complaint_record_customer_message
from complaints.tracking import clean_tracking_number
from complaints.workflow import ComplaintStatus

log = logging.getLogger(__name__)
Kind = ComplaintEvent.Kind
S = ComplaintStatus

# Rate limits per client IP: (requests, window in seconds).
VIEW_LIMIT = (30, 60)  # form pages shown (/submit/, /track/)
SUBMIT_LIMIT = (5, 10 * 60)  # complaints submitted
TRACK_LIMIT = (10, 10 * 60)  # tracking number + contact tries
LINK_LIMIT = (30, 10 * 60)  # signed links opened
MESSAGE_LIMIT = (20, 10 * 60)  # messages posted on the status page

MAX_FILES = 5
IDEMPOTENCY_SCOPE = "web-form"
_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{20,64}")
# Session: ids of the complaints this visitor proved access to, newest last.
SESSION_KEY = "public_complaints"
SESSION_KEPT = 20
HONEYPOT = "website"

NEUTRAL = gettext_lazy(
    "We could not find a complaint with these details. Check the tracking number "
    "and the email address or phone number you gave us."
)


# --- Forms ------------------------------------------------------------------------------------
# (Input validation only; complaint_submit stays the authority and its field errors
# are shown on the same fields.)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; each checked like attachment_add checks it, so a
    refused file is reported before anything is created."""

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"class": "form-control"}))
        kwargs.setdefault("allow_empty_file", True)  # reported below, with the file's name
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list:
        single = super().clean
        items = data if isinstance(data, list | tuple) else [data]
        files = [single(item, initial) for item in items if item]
        errors = upload_errors(files)
        if errors:
            raise ValidationError(errors)
        return files


def upload_errors(files: list) -> list[str]:
    """What attachment_add would refuse, per file, with its own messages."""
    errors = []
    if len(files) > MAX_FILES:
        errors.append(
            ngettext("Attach at most %(n)d file.", "Attach at most %(n)d files.", MAX_FILES)
            % {"n": MAX_FILES}
        )
    limit = attachment_services.max_bytes()
    for upload in files:
        name = attachment_services.clean_filename(getattr(upload, "name", ""))
        size = getattr(upload, "size", None) or 0
        if size <= 0:
            errors.append(_("The file “%(name)s” is empty.") % {"name": name})
            continue
        if size > limit:
            errors.append(
                _("The file “%(name)s” is too large (at most %(limit)d MB).")
                % {"name": name, "limit": limit // (1024 * 1024)}
            )
            continue
        upload.seek(0)
        head = upload.read(8192)
        upload.seek(0)
        if attachment_services.sniff(head, os.path.splitext(name)[1]) is None:
            errors.append(
                _(
                    "The file “%(name)s” is not an allowed type (%(types)s), or its content does not match its name."
                )
                % {"name": name, "types": ", ".join(sorted(attachment_services.ALLOWED))}
            )
    return errors


def files_help() -> str:
    # Built per request: it has numbers in it, in the visitor's language.
    return _(
        "Optional. Up to %(n)d files of at most %(mb)d MB each: images, PDF, text, "
        "Office documents, audio or video."
    ) % {"n": MAX_FILES, "mb": attachment_services.max_bytes() // (1024 * 1024)}


def _text(label, *, required: bool = True, max_length: int, rows: int = 0, **kwargs: Any):
    widget = (
        forms.Textarea(attrs={"class": "form-control", "rows": rows})
        if rows
        else forms.TextInput(attrs={"class": "form-control"})
    )
    return forms.CharField(
        label=label, required=required, max_length=max_length, widget=widget, **kwargs
    )


class ComplaintForm(forms.Form):
    name = _text(gettext_lazy("Your name"), max_length=200)
    phone = _text(
        gettext_lazy("Phone"),
        required=False,
        max_length=40,
        help_text=gettext_lazy("A phone number or an email address, so we can reach you."),
    )
    email = forms.EmailField(
        label=gettext_lazy("Email"),
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"class": "form-control", "autocomplete": "email"}),
    )
    order_number = _text(gettext_lazy("Order number"), required=False, max_length=64)
    product = forms.ModelChoiceField(
        label=gettext_lazy("Product"),
        required=False,
        queryset=Product.objects.filter(is_active=True).order_by("name"),
        empty_label=gettext_lazy("Not listed / not sure"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    description = _text(
        gettext_lazy("What happened?"),
        max_length=intake.MAX_DESCRIPTION,
        rows=6,
        help_text=gettext_lazy("When and where it happened, and what went wrong."),
        error_messages={"required": gettext_lazy("Describe what happened.")},
    )
    demand = forms.ChoiceField(
        label=gettext_lazy("What would you like us to do?"),
        choices=[("", gettext_lazy("Choose…")), *Demand.choices],
        widget=forms.Select(attrs={"class": "form-select"}),
        error_messages={
            "required": gettext_lazy("Choose what you would like us to do."),
            "invalid_choice": gettext_lazy("Choose what you would like us to do."),
        },
    )
    demand_detail = _text(
        gettext_lazy("Details of your request"),
        required=False,
        max_length=2000,
        rows=3,
        help_text=gettext_lazy("For example the amount, or the replacement you would like."),
    )
    attachments = MultipleFileField(
        label=gettext_lazy("Choose files"),
        required=False,
    )
    # The honeypot: hidden from people by CSS, filled in by form-filling bots.
    website = forms.CharField(
        label=gettext_lazy("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )
    form_token = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["phone"].widget.attrs.update(
            {"autocomplete": "tel", "inputmode": "tel", "type": "tel"}
        )
        self.fields["name"].widget.attrs["autocomplete"] = "name"
        self.fields["attachments"].help_text = files_help()

    def clean(self) -> dict:
        data = super().clean()
        # The same contact rules as intake.complaint_submit, with its messages.
        phone = data.get("phone", "")
        phone_n = normalize_phone(phone)
        if (phone and not phone_n) or (phone_n and not 8 <= len(phone_n) - 1 <= 15):
            self.add_error("phone", _("This does not look like a phone number."))
        elif not phone_n and not data.get("email") and "email" not in self.errors:
            self.add_error(
                "phone", _("Give a phone number or an email address so we can reach you.")
            )
        return data


class TrackForm(forms.Form):
    number = _text(gettext_lazy("Tracking number"), max_length=40)
    contact = _text(
        gettext_lazy("Email or phone number"),
        max_length=254,
        help_text=gettext_lazy("The one you gave us with your complaint."),
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["number"].widget.attrs.update(
            {
                "placeholder": "TS-20260101-XXXXX",
                "autocapitalize": "characters",
                "spellcheck": "false",
            }
        )


class MessageForm(forms.Form):
    body = _text(
        gettext_lazy("Your message"),
        max_length=20000,
        rows=4,
        error_messages={"required": gettext_lazy("The message is empty.")},
    )
    attachments = MultipleFileField(label=gettext_lazy("Add files"), required=False)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["attachments"].help_text = files_help()


# --- Helpers ----------------------------------------------------------------------------------


def _limited(request, scope: str, rule: tuple[int, int]) -> HttpResponse | None:
    """None while the client is within the limit; else the 429 page."""
    limit, window = rule
    if ratelimit.hit(f"public-{scope}", ratelimit.client_ip(request), limit=limit, window=window):
        return None
    # Fixed windows: the count starts again at the next window boundary.
    retry_after = int(window - time.time() % window) + 1
    response = render(
        request,
        "complaints/public/rate_limited.html",
        {"retry_minutes": max(1, math.ceil(retry_after / 60))},
        status=429,
    )
    response["Retry-After"] = str(retry_after)
    return response


def _grant(request, complaint: Complaint) -> None:
    """Remember in the session that this visitor may see the complaint."""
    ids = [pk for pk in request.session.get(SESSION_KEY, []) if pk != complaint.pk]
    # A new session key whenever access is gained (no session fixation).
    request.session.cycle_key()
    request.session[SESSION_KEY] = [*ids, complaint.pk][-SESSION_KEPT:]


def _accessible(request, number: str) -> Complaint | None:
    """The complaint with this tracking number if the session may see it, else None."""
    canonical = clean_tracking_number(number)
    ids = request.session.get(SESSION_KEY, [])
    if not canonical or not ids:
        return None
    return (
        Complaint.objects.select_related("customer", "product", "merged_into")
        .filter(tracking_number=canonical, pk__in=ids)
        .first()
    )


def _status_url(complaint: Complaint) -> str:
    return reverse("complaints:public-status", args=[complaint.tracking_number])


def _neutral(request, form: TrackForm | None = None) -> HttpResponse:
    """The one answer for every complaint that cannot be shown."""
    form = form or TrackForm()
    return render(request, "complaints/public/track.html", {"form": form, "not_found": NEUTRAL})


def _key_for_form_token(token: str) -> IdempotencyKey | None:
    return (
        IdempotencyKey.objects.select_related("complaint")
        .filter(scope=IDEMPOTENCY_SCOPE, key=token, complaint__isnull=False)
        .first()
    )


_FINGERPRINTED = (
    "name",
    "phone",
    "email",
    "order_number",
    "product",
    "description",
    "demand",
    "demand_detail",
)


def _fingerprint(data) -> str:
    """What was typed, hashed: a re-post that differs from the first one is noticed."""
    values = [str(data.get(name) or "").strip() for name in _FINGERPRINTED]
    return hashlib.sha256(json.dumps(values, ensure_ascii=False).encode()).hexdigest()


def _discard(stored: list[Attachment]) -> None:
    # The transaction rolled back: the rows are gone, the files would stay behind.
    for attachment in stored:
        attachment.file.delete(save=False)


def _submitted(request, complaint: Complaint) -> HttpResponse:
    _grant(request, complaint)
    return redirect("complaints:public-submitted", token=public_links.status_token(complaint))


class _AlreadySent(Exception):
    """Another request with the same form token made the complaint first."""

    def __init__(self, key: IdempotencyKey):
        super().__init__(key.key)
        self.key = key


def _create(form: ComplaintForm, fingerprint: str) -> Complaint:
    """One complaint per form token, with its attachments, or nothing at all.

    The key row is written first in the same transaction as the complaint: a second
    request with the same token waits on the unique index (PostgreSQL) or on the
    write lock (SQLite, IMMEDIATE), then fails with IntegrityError: _AlreadySent.
    """
    data = form.cleaned_data
    stored: list[Attachment] = []
    try:
        with transaction.atomic():
            key = IdempotencyKey.objects.create(
                scope=IDEMPOTENCY_SCOPE, key=data["form_token"], fingerprint=fingerprint
            )
            complaint = intake.complaint_submit(
                channel=Channel.WEB,
                name=data["name"],
                phone=data["phone"],
                email=data["email"],
                order_number=data["order_number"],
                product=data["product"],
                description=data["description"],
                demand=data["demand"],
                demand_detail=data["demand_detail"],
                language=translation.get_language() or "",
            )
            received = complaint.events.get(kind=Kind.RECEIVED)
            for upload in data["attachments"]:
                stored.append(
                    attachment_services.attachment_add(
                        complaint=complaint,
                        actor=roles.SYSTEM,
                        upload=upload,
                        internal=False,
                        event=received,
                    )
                )
            key.complaint = complaint
            key.save(update_fields=["complaint"])
    except IntegrityError:
        _discard(stored)
        existing = _key_for_form_token(data["form_token"])
        if existing is None:
            raise
        raise _AlreadySent(existing) from None
    except BaseException:
        _discard(stored)
        raise
    return complaint


def _new_token() -> str:
    return secrets.token_urlsafe(24)


# --- The complaint form -----------------------------------------------------------------------


@never_cache  # the form's token must never be served to two visitors from a cache
@require_http_methods(["GET", "POST"])
def submit(request):
    if response := _limited(request, "view", VIEW_LIMIT):
        return response
    if request.method == "GET":
        form = ComplaintForm(initial={"form_token": _new_token()})
        return _render_submit(request, form)

    token = request.POST.get("form_token", "")
    fingerprint = _fingerprint(request.POST)
    key = _key_for_form_token(token) if _TOKEN_RE.fullmatch(token) else None
    if key is not None:
        # A double click or a re-post after success.
        return _replay(request, key, fingerprint)
    if request.POST.get(HONEYPOT):
        log.info("public form: honeypot filled from %s", ratelimit.client_ip(request))
        form = ComplaintForm(initial={"form_token": _new_token()})
        refused = _("Your complaint could not be sent. Please try again.")
        return _render_submit(request, form, status=400, refused=refused)
    if not _TOKEN_RE.fullmatch(token):
        # No usable token (a tampered or very old form).
        return _send_again(request, _("This form has expired. Please check it and send it again."))

    form = ComplaintForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render_submit(request, form)
    if response := _limited(request, "submit", SUBMIT_LIMIT):
        return response
    try:
        complaint = _create(form, fingerprint)
    except _AlreadySent as sent:
        return _replay(request, sent.key, fingerprint)
    except InvalidInput as exc:
        if exc.fields:
            for name, errors in exc.fields.items():
                form.add_error(name if name in form.fields else None, errors)
        else:
            # Only attachment_add raises without fields here (the files were checked
            # first, so this is a file the checks above let through).
            form.add_error("attachments", exc.message)
        return _render_submit(request, form)
    return _submitted(request, complaint)


def _replay(request, key: IdempotencyKey, fingerprint: str) -> HttpResponse:
    """The answer to a form token that already made a complaint.

    The same form again (a double click, a reload): the same confirmation. Another
    content with the same token is shown the complaint only if this session already
    may see it (back, edit, send again); anyone else gets the form back with a fresh
    token, so a token that leaked (a cached page) never reveals someone's complaint.
    """
    if not key.fingerprint or hmac.compare_digest(key.fingerprint, fingerprint):
        return _submitted(request, key.complaint)
    if key.complaint_id in request.session.get(SESSION_KEY, []):
        messages.info(
            request,
            _(
                "This form had already been sent, so no new complaint was made. "
                "To add something, write to us on your complaint's page."
            ),
        )
        return _submitted(request, key.complaint)
    return _send_again(request, _("This form was already used. Please check it and send it again."))


def _send_again(request, message: str) -> HttpResponse:
    """The form as typed, with a fresh token and the reason it was not sent."""
    data = request.POST.copy()
    data["form_token"] = _new_token()
    form = ComplaintForm(data)
    form.is_valid()
    form.add_error(None, message)
    return _render_submit(request, form)


def _render_submit(
    request, form: ComplaintForm, status: int = 200, refused: str = ""
) -> HttpResponse:
    return render(
        request,
        "complaints/public/submit.html",
        {
            "form": form,
            "has_products": form.fields["product"].queryset.exists(),
            "refused": refused,
        },
        status=status,
    )


@never_cache
@require_GET
def submitted(request, token: str):
    complaint = public_links.complaint_for_token(token)
    if complaint is None:
        return _neutral(request)
    return render(
        request,
        "complaints/public/submitted.html",
        {
            "complaint": complaint,
            "status_link": request.build_absolute_uri(public_links.status_path(complaint)),
            "link_days": public_links.link_days(),
            "has_email": bool(complaint.customer.email),
        },
    )


# --- Tracking ---------------------------------------------------------------------------------


def _match(number: str, contact: str) -> Complaint | None:
    """The complaint if the number and the contact belong together, else None.

    Every path runs one query and one constant-time comparison, so a wrong contact
    and an unknown number take about as long as each other.
    """
    # A malformed number is looked up too (it finds nothing), for the same timing.
    canonical = clean_tracking_number(number) or number.strip()[:40]
    complaint = (
        Complaint.objects.select_related("customer").filter(tracking_number=canonical).first()
    )
    customer = complaint.customer if complaint is not None else None
    if "@" in contact:
        given, expected = normalize_email(contact), customer.email if customer else ""
    else:
        given, expected = normalize_phone(contact), customer.phone if customer else ""
    same = hmac.compare_digest(given.encode(), (expected or "\0").encode())
    return complaint if (same and given and complaint is not None) else None


@require_http_methods(["GET", "POST"])
def track(request):
    if request.method == "GET":
        if response := _limited(request, "view", VIEW_LIMIT):
            return response
        number = request.GET.get("number", "")[:40]
        return render(
            request,
            "complaints/public/track.html",
            {"form": TrackForm(initial={"number": number} if number else None)},
        )
    if response := _limited(request, "track", TRACK_LIMIT):
        return response
    form = TrackForm(request.POST)
    if not form.is_valid():
        return render(request, "complaints/public/track.html", {"form": form})
    complaint = _match(form.cleaned_data["number"], form.cleaned_data["contact"])
    if complaint is None:
        return _neutral(request, form)
    _grant(request, complaint)
    return redirect(_status_url(complaint))


@never_cache
@require_GET
def track_link(request, token: str):
    """The signed link from the acknowledgment email."""
    if response := _limited(request, "link", LINK_LIMIT):
        return response
    complaint = public_links.complaint_for_token(token)
    if complaint is None:
        return _neutral(request)
    _grant(request, complaint)
    return redirect(_status_url(complaint))


# --- The status page --------------------------------------------------------------------------

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
        via = (event.data or {}).get("via")
        note = _("Sent on complaint %(number)s") % {"number": via} if via else ""
        return Entry(_("You wrote"), event.created_at, True, event.body, note, files)
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


def _render_status(request, complaint: Complaint, form: MessageForm, status: int = 200):
    label, explanation, colour = CUSTOMER_STATUS.get(
        complaint.status, (complaint.status, "", "secondary")
    )
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
    }
    return render(request, "complaints/public/status.html", context, status=status)


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
    complaint = _accessible(request, number)
    if complaint is None:
        raise Http404
    if response := _limited(request, "message", MESSAGE_LIMIT):
        return response
    form = MessageForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render_status(request, complaint, form)
    files = form.cleaned_data["attachments"]
    if files and _files_target(complaint) is None:
        form.add_error("attachments", _("Files can no longer be added to this complaint."))
        return _render_status(request, complaint, form)
    stored: list[Attachment] = []
    field_name = "body"
    try:
        with transaction.atomic():
            event = complaint_record_customer_message(
                complaint=complaint, body=form.cleaned_data["body"]
            )
            field_name = "attachments"
            for upload in files:
                stored.append(
                    attachment_services.attachment_add(
                        # On a merged complaint the message's event is on the target.
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
        return _render_status(request, complaint, form)
    except BaseException:
        _discard(stored)
        raise
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
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


urlpatterns = [
    path("submit/", submit, name="public-submit"),
    path("submit/received/<str:token>/", submitted, name="public-submitted"),
    path("track/", track, name="public-track"),
    path("track/status/<str:number>/", status, name="public-status"),
    path("track/status/<str:number>/message/", message, name="public-message"),
    path(
        "track/status/<str:number>/files/<int:pk>/",
        attachment_download,
        name="public-attachment",
    ),
    path("track/<str:token>/", track_link, name="public-track-link"),
]
