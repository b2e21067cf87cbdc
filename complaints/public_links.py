"""Signed, expiring links to a complaint's public status page.

The token is `<tracking number>:<timestamp>:<signature>` (django.core.signing's
TimestampSigner). The salt contains the complaint's id, so a signature is bound to
both the id and the tracking number, while the id itself never appears in the link
(public pages never show sequential ids). Tokens expire after
`settings.COMPLAINT_STATUS_LINK_DAYS` days (default 90).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse

from complaints.models import Complaint
from complaints.tracking import clean_tracking_number

SALT = "complaints.public-status-link"
DEFAULT_DAYS = 90


def link_days() -> int:
    return int(getattr(settings, "COMPLAINT_STATUS_LINK_DAYS", DEFAULT_DAYS))


def link_max_age() -> timedelta:
    return timedelta(days=link_days())


def _signer(complaint_id: int) -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=f"{SALT}:{complaint_id}")


def status_token(complaint: Complaint) -> str:
    return _signer(complaint.pk).sign(complaint.tracking_number)


def status_path(complaint: Complaint) -> str:
    return reverse("complaints:public-track-link", args=[status_token(complaint)])


def site_url() -> str:
    return getattr(settings, "SITE_URL", "http://127.0.0.1:8000").rstrip("/")


def status_url(complaint: Complaint) -> str:
    """The absolute link for mail: SITE_URL plus the signed path."""
    return site_url() + status_path(complaint)


def complaint_for_token(token: str) -> Complaint | None:
    """The complaint a valid, unexpired token names, or None (tampered, expired,
    malformed or unknown alike)."""
    parts = (token or "").rsplit(":", 2)
    if len(parts) != 3 or clean_tracking_number(parts[0]) != parts[0]:
        return None
    # The unverified number only picks the key to check the signature with.
    complaint = (
        Complaint.objects.select_related("customer", "merged_into")
        .filter(tracking_number=parts[0])
        .first()
    )
    if complaint is None:
        return None
    try:
        value = _signer(complaint.pk).unsign(token, max_age=link_max_age())
    except signing.BadSignature:  # SignatureExpired is a BadSignature too
        return None
    return complaint if value == complaint.tracking_number else None
