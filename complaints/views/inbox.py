"""The inbound mail inbox: messages the mail intake left for a person (review) or could
not process (quarantined), and what a person does with them.

Agents and supervisors only. Everything a message says is shown as escaped text,
never as HTML; the raw message is offered as a download. Every action is a POST
that a service in complaints.services.mail carries out.
"""

from __future__ import annotations

import logging
from functools import wraps

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from complaints import selectors
from complaints.errors import ServiceError
from complaints.models import Demand, InboundMessage
from complaints.services import mail
from complaints.services.intake import MAX_DESCRIPTION
from complaints.tracking import clean_tracking_number
from complaints.views.common import staff_required

log = logging.getLogger(__name__)
Status = InboundMessage.Status
PAGE_SIZE = 50
# Shown first on the detail page; all headers are there too, folded away.
MAIN_HEADERS = ("From", "To", "Cc", "Reply-To", "Date", "Subject", "Message-ID", "In-Reply-To")
# What the list can show: open work by default, the rest to find a message again.
LIST_FILTERS = {
    "open": (Status.REVIEW, Status.QUARANTINED),
    **{value: (value,) for value in Status.values},
}


def inbox_required(view):
    """Staff, and of them agents and supervisors (responders do not triage mail)."""

    @staff_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not mail.can_review_inbound(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


class _Form(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for f in self.fields.values():
            css = "form-select" if isinstance(f.widget, forms.Select) else "form-control"
            f.widget.attrs.setdefault("class", f"{css} {css}-sm")


class AttachForm(_Form):
    tracking_number = forms.CharField(label=gettext_lazy("Tracking number"), max_length=40)

    def clean_tracking_number(self) -> str:
        number = clean_tracking_number(self.cleaned_data["tracking_number"])
        if number is None:
            raise forms.ValidationError(_("This is not a tracking number."))
        return number


class CreateForm(_Form):
    email = forms.EmailField(label=gettext_lazy("Email"), max_length=254, required=False)
    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=40, required=False)
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200, required=False)
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200, required=False)
    description = forms.CharField(
        label=gettext_lazy("Description"),
        max_length=MAX_DESCRIPTION,
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    demand = forms.ChoiceField(label=gettext_lazy("Demand"), choices=Demand.choices)


class ReviewedForm(_Form):
    note = forms.CharField(
        label=gettext_lazy("Note"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def _message(pk: int) -> InboundMessage:
    message = (
        InboundMessage.objects.select_related("complaint", "reviewed_by").filter(pk=pk).first()
    )
    if message is None:
        raise Http404
    return message


def _parsed(message: InboundMessage) -> tuple[mail.ParsedMail | None, str]:
    """The decoded message, or None and why not (a quarantined message may not parse)."""
    try:
        return mail.parse_message(bytes(message.raw)), ""
    except Exception as exc:
        log.warning("Inbound message %s cannot be parsed for display", message.pk, exc_info=True)
        return None, f"{type(exc).__name__}: {exc}"


def _create_initial(message: InboundMessage, parsed: mail.ParsedMail | None) -> dict:
    if parsed is None:
        return {"email": message.from_address, "title": message.subject[:200]}
    text = parsed.text or ""
    return {
        "email": parsed.from_address,
        "name": parsed.from_name[:200],
        "title": mail.clean_subject(parsed.subject)[:200],
        "description": text[:MAX_DESCRIPTION],
        "demand": mail.guess_demand(f"{parsed.subject}\n{text}"),
    }


def _render_detail(request, message: InboundMessage, *, status: int = 200, **forms_in):
    parsed, parse_error = _parsed(message)
    headers = parsed.headers if parsed else []
    main = [
        (name, value)
        for name in MAIN_HEADERS
        for key, value in headers
        if key.lower() == name.lower()
    ]
    raw_preview = ""
    if parsed is None:
        raw_preview = bytes(message.raw[:200_000]).decode("utf-8", errors="replace")
    context = {
        "message": message,
        "parsed": parsed,
        "parse_error": parse_error,
        "raw_preview": raw_preview,
        "main_headers": main,
        "all_headers": headers,
        "open": message.status in mail.OPEN_FOR_REVIEW,
        "attach_form": forms_in.get("attach_form") or AttachForm(),
        "create_form": forms_in.get("create_form")
        or CreateForm(initial=_create_initial(message, parsed)),
        "reviewed_form": forms_in.get("reviewed_form") or ReviewedForm(),
    }
    return render(request, "complaints/inbox/detail.html", context, status=status)


@require_GET
@inbox_required
def inbox_list(request):
    """Messages waiting for a person, newest first (other statuses by filter)."""
    current = request.GET.get("status") or "open"
    if current not in LIST_FILTERS:
        current = "open"
    rows = (
        InboundMessage.objects.filter(status__in=LIST_FILTERS[current])
        .select_related("complaint")
        .defer("raw")
        .order_by("-received_at", "-pk")
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    filters = [("open", _("Needs attention"))] + [(v, label) for v, label in Status.choices]
    return render(
        request,
        "complaints/inbox/list.html",
        {"page": page, "current": current, "filters": filters},
    )


@require_GET
@inbox_required
def inbox_detail(request, pk: int):
    return _render_detail(request, _message(pk))


@require_GET
@inbox_required
def inbox_raw(request, pk: int):
    """The message exactly as received, as a download (never shown inline)."""
    message = _message(pk)
    response = HttpResponse(bytes(message.raw), content_type="message/rfc822")
    response["Content-Disposition"] = f'attachment; filename="inbound-{message.pk}.eml"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _done(request, text: str):
    messages.success(request, text)
    return redirect(reverse("complaints:inbox-list"))


def _refused(request, message: InboundMessage, exc: ServiceError, **forms_in):
    messages.error(request, exc.message)
    return _render_detail(request, message, status=400, **forms_in)


@require_POST
@inbox_required
def inbox_attach(request, pk: int):
    """Add the message to a complaint, by its tracking number."""
    message = _message(pk)
    form = AttachForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, message, status=400, attach_form=form)
    number = form.cleaned_data["tracking_number"]
    # Only complaints this user may see; missing and forbidden read the same.
    complaint = (
        selectors.complaints_visible_to(request.user)
        .select_related("customer")
        .filter(tracking_number=number)
        .first()
    )
    if complaint is None:
        form.add_error("tracking_number", _("No such complaint, or you may not see it."))
        return _render_detail(request, message, status=400, attach_form=form)
    try:
        mail.inbound_attach(message=message, actor=request.user, complaint=complaint)
    except ServiceError as exc:
        return _refused(request, message, exc, attach_form=form)
    return _done(request, _("The message was added to %(number)s.") % {"number": number})


@require_POST
@inbox_required
def inbox_create(request, pk: int):
    """A new complaint from the message, with what the reviewer confirmed."""
    message = _message(pk)
    form = CreateForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, message, status=400, create_form=form)
    try:
        complaint = mail.inbound_create_complaint(
            message=message, actor=request.user, **form.cleaned_data
        )
    except ServiceError as exc:
        for name, errors in exc.fields.items():
            for error in errors:
                form.add_error(name if name in form.fields else None, error)
        return _refused(request, message, exc, create_form=form)
    return _done(
        request,
        _("Complaint %(number)s was created from the message.")
        % {"number": complaint.tracking_number},
    )


@require_POST
@inbox_required
def inbox_mark_reviewed(request, pk: int):
    """Nothing to do with it: recorded as reviewed, by whom."""
    message = _message(pk)
    form = ReviewedForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, message, status=400, reviewed_form=form)
    try:
        mail.inbound_mark_reviewed(
            message=message, actor=request.user, note=form.cleaned_data["note"]
        )
    except ServiceError as exc:
        return _refused(request, message, exc, reviewed_form=form)
    return _done(request, _("The message was marked as reviewed."))


urlpatterns = [
    path("inbox/", inbox_list, name="inbox-list"),
    path("inbox/<int:pk>/", inbox_detail, name="inbox-detail"),
    path("inbox/<int:pk>/raw/", inbox_raw, name="inbox-raw"),
    path("inbox/<int:pk>/attach/", inbox_attach, name="inbox-attach"),
    path("inbox/<int:pk>/create/", inbox_create, name="inbox-create"),
    path("inbox/<int:pk>/reviewed/", inbox_mark_reviewed, name="inbox-reviewed"),
]
