"""Deciding on possible duplicates and merging customer records, from the
complaint page."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from complaints import selectors
from complaints.contacts import normalize_email, normalize_phone
from complaints.errors import NotFound, ServiceError
from complaints.models import Complaint, Customer, DuplicateFlag
from complaints.services import customers as customer_services
from complaints.services import duplicates as duplicate_services
from complaints.tracking import clean_tracking_number
from complaints.views.common import staff_required


def _complaint(request, pk: int) -> Complaint:
    try:
        return selectors.complaint_get_for_user(user=request.user, pk=pk)
    except NotFound:
        raise Http404 from None


def _flag(complaint: Complaint, flag_pk: int) -> DuplicateFlag:
    flag = (
        DuplicateFlag.objects.select_related("complaint", "other")
        .filter(pk=flag_pk, complaint=complaint)
        .first()
    )
    if flag is None:
        raise Http404
    return flag


@staff_required
@require_POST
def duplicate_merge(request, pk: int, flag_pk: int):
    complaint = _complaint(request, pk)
    flag = _flag(complaint, flag_pk)
    # "into_other": this complaint is the duplicate; "into_this": the other one is.
    if request.POST.get("direction") == "into_this":
        reverse_flag = DuplicateFlag.objects.filter(complaint=flag.other, other=complaint).first()
        if reverse_flag is None:
            raise Http404
        flag = reverse_flag
    try:
        primary = duplicate_services.duplicate_merge(
            flag=flag, actor=request.user, reason=request.POST.get("reason", "")
        )
    except ServiceError as err:
        messages.error(request, str(err))
        return redirect("complaints:staff-detail", pk=complaint.pk)
    messages.success(
        request,
        _("%(duplicate)s was merged into %(primary)s.")
        % {"duplicate": flag.complaint.tracking_number, "primary": primary.tracking_number},
    )
    return redirect("complaints:staff-detail", pk=primary.pk)


@staff_required
@require_POST
def duplicate_dismiss(request, pk: int, flag_pk: int):
    complaint = _complaint(request, pk)
    flag = _flag(complaint, flag_pk)
    try:
        duplicate_services.duplicate_dismiss(flag=flag, actor=request.user)
    except ServiceError as err:
        messages.error(request, str(err))
    else:
        messages.success(
            request,
            _("Marked as not a duplicate of %(number)s.") % {"number": flag.other.tracking_number},
        )
    return redirect("complaints:staff-detail", pk=complaint.pk)


class CustomerMergeForm(forms.Form):
    other = forms.CharField(
        label=gettext_lazy("The other record"),
        max_length=200,
        help_text=gettext_lazy(
            "Its phone number, email address, or the tracking number of one of its complaints."
        ),
    )
    reason = forms.CharField(label=gettext_lazy("Why they are the same person"), max_length=500)


def _find_customer(user, text: str) -> Customer | None:
    """The customer record the agent means, among those they may see a complaint of."""
    text = text.strip()
    visible = selectors.complaints_visible_to(user)
    number = clean_tracking_number(text)
    if number:
        complaint = visible.filter(tracking_number=number).select_related("customer").first()
        return complaint.customer if complaint else None
    if "@" in text:
        return Customer.objects.filter(
            email=normalize_email(text), merged_into__isnull=True
        ).first()
    phone = normalize_phone(text)
    if phone:
        return Customer.objects.filter(phone=phone, merged_into__isnull=True).first()
    return None


@staff_required
def customer_merge(request, pk: int):
    """Merge another customer record into this complaint's customer."""
    complaint = _complaint(request, pk)
    target = complaint.customer
    form = CustomerMergeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        source = _find_customer(request.user, form.cleaned_data["other"])
        if source is None:
            form.add_error("other", _("No customer record matches this."))
        else:
            try:
                customer_services.customer_merge(
                    source=source,
                    target=target,
                    actor=request.user,
                    reason=form.cleaned_data["reason"],
                )
            except ServiceError as err:
                form.add_error(None, str(err))
            else:
                messages.success(
                    request,
                    _("Customer record #%(source)s was merged into this customer.")
                    % {"source": source.pk},
                )
                return redirect("complaints:staff-detail", pk=complaint.pk)
    return render(
        request,
        "complaints/staff/customer_merge.html",
        {"complaint": complaint, "customer": target, "form": form},
        status=400 if request.method == "POST" else 200,
    )


urlpatterns = [
    path(
        "complaints/<int:pk>/duplicates/<int:flag_pk>/merge/",
        duplicate_merge,
        name="staff-duplicate-merge",
    ),
    path(
        "complaints/<int:pk>/duplicates/<int:flag_pk>/dismiss/",
        duplicate_dismiss,
        name="staff-duplicate-dismiss",
    ),
    path("complaints/<int:pk>/customer/merge/", customer_merge, name="staff-customer-merge"),
]
