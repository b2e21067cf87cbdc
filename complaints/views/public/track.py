"""Tracking: the form (tracking number + the email or phone used) and the signed
link from the acknowledgment email, each granting this session access to the
complaint's status page."""

from __future__ import annotations

import hmac

from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from complaints import public_links
from complaints.contacts import normalize_email, normalize_phone
from complaints.models import Complaint
from complaints.tracking import clean_tracking_number
from complaints.views.public.common import (
    LINK_LIMIT,
    TRACK_LIMIT,
    VIEW_LIMIT,
    _grant,
    _limited,
    _neutral,
    _status_url,
)
from complaints.views.public.forms import TrackForm


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
