"""What every public page shares: the rate limits per client IP, the session that
remembers which complaints this visitor proved access to, the one neutral answer for
a complaint that cannot be shown, and the clean-up of files after a rollback."""

from __future__ import annotations

import math
import time

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy

from complaints import ratelimit
from complaints.models import Attachment, Complaint
from complaints.tracking import clean_tracking_number
from complaints.views.public.forms import TrackForm

# Rate limits per client IP: (requests, window in seconds).
VIEW_LIMIT = (30, 60)  # form pages shown (/submit/, /track/)
SUBMIT_LIMIT = (5, 10 * 60)  # complaints submitted
TRACK_LIMIT = (10, 10 * 60)  # tracking number + contact tries
LINK_LIMIT = (30, 10 * 60)  # signed links opened
MESSAGE_LIMIT = (20, 10 * 60)  # messages posted on the status page

# Session: ids of the complaints this visitor proved access to, newest last.
SESSION_KEY = "public_complaints"
SESSION_KEPT = 20

NEUTRAL = gettext_lazy(
    "We could not find a complaint with these details. Check the tracking number "
    "and the email address or phone number you gave us."
)


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


def _discard(stored: list[Attachment]) -> None:
    # The transaction rolled back: the rows are gone, the files would stay behind.
    for attachment in stored:
        attachment.file.delete(save=False)
