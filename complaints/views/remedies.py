"""Remedies: the forms of the complaint detail page's remedy panel
(templates/complaints/remedies/_panel.html) and the supervisors' Approvals screen.

Thin views: validate, call complaints.services.remedies, go back where the user was.
Proposing is deduplicated by a one-time form token stored as an IdempotencyKey in the
same transaction as the remedy: a double click or a re-post records one remedy.
Deciding twice is settled by the service's row lock ("already decided").
"""

from __future__ import annotations

import re
import secrets

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from complaints import roles, selectors
from complaints import selectors_remedies as remedy_selectors
from complaints.errors import InvalidInput, NotFound, ServiceError
from complaints.models import Complaint, IdempotencyKey, Remedy, RemedyKind
from complaints.services import remedies as services
from complaints.views.common import staff_required

PAGE_SIZE = 50
IDEMPOTENCY_SCOPE = "remedy-propose"
_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{16,64}")


# --- Forms ----------------------------------------------------------------------------------


class ProposeForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Type"), choices=RemedyKind.choices)
    # Text, parsed by the service's rules so the messages match the API's.
    amount = forms.CharField(label=gettext_lazy("Amount"), max_length=32, required=False)
    description = forms.CharField(
        label=gettext_lazy("Details"),
        max_length=services.DESCRIPTION_MAX,
        required=False,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    form_token = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def clean_amount(self):
        try:
            return services.parse_amount(self.cleaned_data.get("amount"))
        except InvalidInput as err:
            raise ValidationError(err.fields.get("amount") or [err.message]) from None

    def clean_form_token(self):
        token = self.cleaned_data["form_token"]
        if not _TOKEN_RE.fullmatch(token):
            raise ValidationError(_("This form is out of date: reload the page."))
        return token


class DecideForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("approve", gettext_lazy("Approve")), ("reject", gettext_lazy("Reject"))]
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"), max_length=services.REASON_MAX, required=False, strip=True
    )


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why"), max_length=services.REASON_MAX, required=True, strip=True
    )


def new_propose_form(**initial) -> ProposeForm:
    """An empty propose form with its one-time token."""
    return ProposeForm(initial={"form_token": secrets.token_urlsafe(16), **initial})


# --- Helpers ------------------------------------------------------------------------------


def _complaint(request, pk: int) -> Complaint:
    try:
        return selectors.complaint_get_for_user(user=request.user, pk=pk)
    except NotFound:
        raise Http404 from None


def _remedy(request, pk: int) -> Remedy:
    try:
        return remedy_selectors.remedy_get_for_user(user=request.user, pk=pk)
    except NotFound:
        raise Http404 from None


def _detail_url(complaint_id: int) -> str:
    return reverse("complaints:staff-detail", args=[complaint_id])


def _to_detail(request, complaint_id: int) -> HttpResponse:
    if request.htmx:
        return HttpResponseClientRedirect(_detail_url(complaint_id))
    return HttpResponseRedirect(_detail_url(complaint_id))


def _back(request, default: str) -> HttpResponseRedirect:
    """Back to the page the form was on (`next`, same site only), else `default`."""
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = default
    return HttpResponseRedirect(target)


def _form_errors(form: forms.Form) -> str:
    return " ".join(str(message) for errors in form.errors.values() for message in errors)


def _add_service_error(form: forms.Form, err: ServiceError) -> None:
    """The service's per-field messages under their fields; its message above the
    form unless a field already says exactly that."""
    placed: list[str] = []
    for field, field_messages in err.fields.items():
        if field in form.fields and not form.fields[field].widget.is_hidden:
            form.add_error(field, field_messages)
            placed += field_messages
    if err.message not in placed:
        form.add_error(None, [err.message, *err.reasons])


def _panel_refused(request, complaint: Complaint, form: ProposeForm, status: int) -> HttpResponse:
    """The propose form again, with why: the panel alone for htmx (static/js/app.js
    swaps a 4xx that names its target), else the whole detail page."""
    if request.htmx:
        context = {"complaint": complaint, "user": request.user, "remedy_form": form}
        response = render(request, "complaints/remedies/_panel.html", context, status=status)
        response["HX-Retarget"] = "#remedy-panel"
        response["HX-Reswap"] = "outerHTML"
        return response
    from complaints.views.detail import _page  # the page, with this form bound

    return _page(request, complaint, status=status, remedy_form=form)


# --- The panel's writes ---------------------------------------------------------------------


class _SentTwice(Exception):
    pass


def _propose_once(request, complaint: Complaint, data: dict) -> Remedy:
    """One remedy per form token. The key row is written first in the remedy's
    transaction: a second request with the same token waits on the unique index
    (PostgreSQL) or the write lock (SQLite), then fails: _SentTwice."""
    key = f"{request.user.pk}:{data['form_token']}"
    try:
        with transaction.atomic():
            IdempotencyKey.objects.create(scope=IDEMPOTENCY_SCOPE, key=key, complaint=complaint)
            return services.remedy_propose(
                complaint=complaint,
                actor=request.user,
                kind=data["kind"],
                amount=data["amount"],
                description=data["description"],
            )
    except IntegrityError:
        if IdempotencyKey.objects.filter(scope=IDEMPOTENCY_SCOPE, key=key).exists():
            raise _SentTwice from None
        raise


@staff_required
@require_POST
def remedy_propose(request, pk: int):
    complaint = _complaint(request, pk)
    form = ProposeForm(request.POST)
    if not form.is_valid():
        return _panel_refused(request, complaint, form, 400)
    try:
        remedy = _propose_once(request, complaint, form.cleaned_data)
    except _SentTwice:
        messages.info(request, _("This remedy was already recorded; it was not proposed twice."))
        return _to_detail(request, complaint.pk)
    except NotFound:
        raise Http404 from None
    except ServiceError as err:
        complaint = _complaint(request, pk)
        _add_service_error(form, err)
        return _panel_refused(request, complaint, form, err.status_code)
    values = {"kind": remedy.get_kind_display(), "amount": services.format_amount(remedy.amount)}
    if remedy.status == Remedy.Status.PENDING:
        messages.success(
            request,
            _("%(kind)s of %(amount)s proposed: it waits for a supervisor's approval.") % values,
        )
    else:
        messages.success(request, _("%(kind)s of %(amount)s granted.") % values)
    return _to_detail(request, complaint.pk)


def _row_response(request, remedy: Remedy, *, status: int = 200, error: str = "", done=""):
    """A row of the Approvals screen after an htmx decision (or a refusal)."""
    limits = services.authority_limits()
    remedy.proposer_limit = services.authority_limit_for(
        user=remedy.proposed_by, kind=remedy.kind, limits=limits
    )
    remedy.may_decide = services.can_decide(request.user, remedy, limits=limits)
    context = {"r": remedy, "error": error, "done": done, "currency": services.currency()}
    response = render(request, "complaints/remedies/_approval_row.html", context, status=status)
    if status >= 400:
        response["HX-Retarget"] = f"#approval-{remedy.pk}"
        response["HX-Reswap"] = "outerHTML"
    return response


@staff_required
@require_POST
def remedy_decide(request, pk: int):
    """Approve or reject (with a reason): from the Approvals screen (htmx, the row
    comes back) or from the complaint's panel (back to the page)."""
    if not roles.is_supervisor(request.user):
        raise PermissionDenied
    remedy = _remedy(request, pk)
    approvals_url = reverse("complaints:approvals")
    form = DecideForm(request.POST)
    if not form.is_valid():
        error = _form_errors(form)
        if request.htmx:
            return _row_response(request, remedy, status=400, error=error)
        messages.error(request, error)
        return _back(request, approvals_url)
    approve = form.cleaned_data["decision"] == "approve"
    try:
        services.remedy_decide(
            remedy=remedy, actor=request.user, approve=approve, reason=form.cleaned_data["reason"]
        )
    except NotFound:
        raise Http404 from None
    except ServiceError as err:
        if request.htmx:
            remedy = _remedy(request, pk)
            return _row_response(request, remedy, status=err.status_code, error=err.message)
        messages.error(request, err.message)
        return _back(request, approvals_url)
    values = {
        "number": remedy.complaint.tracking_number,
        "kind": remedy.get_kind_display(),
        "amount": services.format_amount(remedy.amount),
    }
    if approve:
        done = _("%(kind)s of %(amount)s on %(number)s approved.") % values
    else:
        done = _("%(kind)s of %(amount)s on %(number)s rejected.") % values
    if request.htmx:
        return _row_response(request, remedy, done=done)
    messages.success(request, done)
    return _back(request, approvals_url)


def _panel_action(request, pk: int, *, form_class=None, call, done: str) -> HttpResponse:
    remedy = _remedy(request, pk)
    detail_url = _detail_url(remedy.complaint_id)
    data = {}
    if form_class is not None:
        form = form_class(request.POST)
        if not form.is_valid():
            messages.error(request, _form_errors(form))
            return _back(request, detail_url)
        data = form.cleaned_data
    try:
        call(remedy, data)
    except NotFound:
        raise Http404 from None
    except ServiceError as err:
        messages.error(request, err.message)
    else:
        messages.success(
            request,
            done
            % {"kind": remedy.get_kind_display(), "amount": services.format_amount(remedy.amount)},
        )
    return _back(request, detail_url)


@staff_required
@require_POST
def remedy_deliver(request, pk: int):
    return _panel_action(
        request,
        pk,
        call=lambda r, data: services.remedy_mark_delivered(remedy=r, actor=request.user),
        done=_("%(kind)s of %(amount)s marked delivered."),
    )


@staff_required
@require_POST
def remedy_cancel(request, pk: int):
    return _panel_action(
        request,
        pk,
        form_class=CancelForm,
        call=lambda r, data: services.remedy_cancel(
            remedy=r, actor=request.user, reason=data["reason"]
        ),
        done=_("%(kind)s of %(amount)s cancelled."),
    )


# --- The Approvals screen -----------------------------------------------------------------------


@staff_required
@require_GET
def approvals(request):
    """Remedies waiting for this supervisor's decision, the oldest first."""
    if not roles.is_supervisor(request.user):
        raise PermissionDenied
    limits = services.authority_limits()
    pending = remedy_selectors.remedies_awaiting_approval(request.user, limits=limits)
    page = Paginator(pending, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = remedy_selectors.with_proposer_limits(list(page.object_list), limits=limits)
    for remedy in rows:
        remedy.may_decide = True  # the list holds only what this user may decide
    context = {
        "page": page,
        "rows": rows,
        "currency": services.currency(),
        "reason_max": services.REASON_MAX,
    }
    return render(request, "complaints/remedies/approvals.html", context)


urlpatterns = [
    path("approvals/", approvals, name="approvals"),
    path("complaints/<int:pk>/remedies/propose/", remedy_propose, name="remedy-propose"),
    path("remedies/<int:pk>/decide/", remedy_decide, name="remedy-decide"),
    path("remedies/<int:pk>/deliver/", remedy_deliver, name="remedy-deliver"),
    path("remedies/<int:pk>/cancel/", remedy_cancel, name="remedy-cancel"),
]
