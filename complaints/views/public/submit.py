"""The public complaint form and its confirmation page.

One complaint per form token: a double click or a re-post gets the same confirmation,
never a second complaint, and a token that leaked never reveals someone's complaint.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import secrets

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from complaints import public_links, ratelimit, roles
from complaints.errors import InvalidInput
from complaints.models import Attachment, Channel, Complaint, ComplaintEvent, IdempotencyKey
from complaints.services import attachments as attachment_services
from complaints.services import intake
from complaints.views.public.common import (
    SESSION_KEY,
    SUBMIT_LIMIT,
    VIEW_LIMIT,
    _discard,
    _grant,
    _limited,
    _neutral,
)
from complaints.views.public.forms import ComplaintForm

# The logger keeps the name it had before the views became a package.
log = logging.getLogger(__package__)
Kind = ComplaintEvent.Kind

IDEMPOTENCY_SCOPE = "web-form"
_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{20,64}")
HONEYPOT = "website"


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
