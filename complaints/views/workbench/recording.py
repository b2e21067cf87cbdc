"""Recording a phone or in-store complaint, with the customer's other open
complaints shown as the agent types. A one-time form token per open form makes a
double click record the complaint once."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.db.models import Q
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from complaints import selectors
from complaints.contacts import normalize_email, normalize_phone
from complaints.errors import NotFound, ServiceError
from complaints.models import Channel, Complaint, Customer, User
from complaints.services import intake
from complaints.views.common import staff_required
from complaints.views.workbench.forms import _MIN_PHONE_DIGITS, RecordComplaintForm
from complaints.workflow import OPEN_STATES

_TOKENS = "workbench_record_tokens"  # session: {one-time form token: complaint pk or 0}
_TOKENS_KEPT = 20  # open record forms remembered per session


def _issue_token(request) -> str:
    tokens = dict(request.session.get(_TOKENS, {}))
    token = secrets.token_urlsafe(16)
    tokens[token] = 0
    while len(tokens) > _TOKENS_KEPT:
        tokens.pop(next(iter(tokens)))
    request.session[_TOKENS] = tokens
    return token


def _contact_matches(user: Any, phone: str, email: str) -> dict[str, Any] | None:
    """The known customers with this phone or email and their open complaints that
    `user` may see; None when nothing usable was typed yet."""
    phone_n = normalize_phone(phone) if sum(c.isdigit() for c in phone) >= _MIN_PHONE_DIGITS else ""
    email_n = normalize_email(email) if "@" in email else ""
    condition = Q()
    if phone_n:
        condition |= Q(phone=phone_n)
    if email_n:
        condition |= Q(email=email_n)
    if not condition:
        return None
    customers = list(Customer.objects.filter(condition).order_by("pk")[:5])
    complaints = (
        selectors.complaints_visible_to(user)
        .filter(customer__in=customers, status__in=list(OPEN_STATES))
        .select_related("customer", "priority", "assignee")
        .order_by("-received_at")[:20]
        if customers
        else []
    )
    return {"customers": customers, "complaints": list(complaints)}


def _already_recorded(request, pk: int):
    try:
        complaint = selectors.complaint_get_for_user(user=request.user, pk=pk)
    except NotFound:
        messages.info(request, _("This form was already submitted; nothing was recorded twice."))
        return redirect("complaints:staff-home")
    messages.info(
        request,
        _("This complaint was already recorded as %(number)s; it was not recorded twice.")
        % {"number": complaint.tracking_number},
    )
    return redirect("complaints:staff-detail", pk=complaint.pk)


def _create_once(request, form: RecordComplaintForm) -> tuple[int, bool]:
    """(complaint pk, created now). A token already used returns its complaint."""
    data, token = form.cleaned_data, form.cleaned_data["form_token"]
    with transaction.atomic():
        # Serialise this user's submissions (a row lock on PostgreSQL; SQLite's
        # IMMEDIATE transactions serialise writers anyway), then read the tokens as
        # stored: a double click's second request waits here and finds the first's.
        list(User.objects.select_for_update().filter(pk=request.user.pk).values_list("pk"))
        stored = type(request.session)(request.session.session_key).get(_TOKENS, {})
        if stored.get(token):
            return stored[token], False
        customer = intake.customer_find_or_create(
            name=data["customer_name"], phone=data["phone"], email=data["email"]
        )
        complaint = intake.complaint_create(
            actor=request.user,
            channel=data["channel"],
            customer=customer,
            title=data["title"],
            description=data["description"],
            demand=data["demand"],
            demand_detail=data["demand_detail"],
            order_number=data["order_number"],
            product=data["product"],
            category=data["category"],
        )
        tokens = {**request.session.get(_TOKENS, {}), **stored, token: complaint.pk}
        request.session[_TOKENS] = tokens
        # Saved inside the transaction, so the waiting request sees it when it gets the lock.
        request.session.save()
    return complaint.pk, True


@staff_required
@require_http_methods(["GET", "POST"])
def record(request):
    if request.method == "POST":
        token = request.POST.get("form_token", "")
        tokens = request.session.get(_TOKENS, {})
        if tokens.get(token):
            return _already_recorded(request, tokens[token])
        form = RecordComplaintForm(request.POST)
        if token not in tokens:
            messages.warning(
                request,
                _("This form had expired. Check the details and record the complaint again."),
            )
            form = RecordComplaintForm({**request.POST.dict(), "form_token": _issue_token(request)})
        elif form.is_valid():
            try:
                pk, created = _create_once(request, form)
            except ServiceError as err:
                form.add_error(None, str(err))
            else:
                if not created:
                    return _already_recorded(request, pk)
                complaint = Complaint.objects.only("tracking_number").get(pk=pk)
                messages.success(
                    request,
                    _("Complaint %(number)s recorded. Give the customer this tracking number.")
                    % {"number": complaint.tracking_number},
                )
                return redirect("complaints:staff-detail", pk=pk)
        matches = _contact_matches(
            request.user, request.POST.get("phone", ""), request.POST.get("email", "")
        )
    else:
        form = RecordComplaintForm(
            initial={"form_token": _issue_token(request), "channel": Channel.PHONE}
        )
        matches = None
    return render(
        request, "complaints/staff/workbench_record.html", {"form": form, "matches": matches}
    )


@staff_required
@require_GET
def record_lookup(request):
    matches = _contact_matches(
        request.user, request.GET.get("phone", "")[:64], request.GET.get("email", "")[:254]
    )
    return render(
        request, "complaints/staff/_workbench_customer_matches.html", {"matches": matches}
    )
