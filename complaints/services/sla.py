"""The SLA clock of a complaint: its deadlines, set at triage and paused while the
complaint waits for the customer.

Targets here are per priority in wall-clock hours (settings.COMPLAINT_DEFAULT_SLA_HOURS);
SLA policies per category × priority in business time replace them in the SLA issue,
behind the same two functions.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings

from complaints.models import Complaint

DEFAULT_HOURS = {  # priority code -> (first response, resolution)
    "P1": (1, 24),
    "P2": (4, 48),
    "P3": (8, 72),
    "P4": (24, 120),
}


def targets_for(complaint: Complaint) -> tuple[timedelta, timedelta] | None:
    if complaint.priority_id is None:
        return None
    table = getattr(settings, "COMPLAINT_DEFAULT_SLA_HOURS", DEFAULT_HOURS)
    hours = table.get(complaint.priority.code)
    if hours is None:
        return None
    return timedelta(hours=hours[0]), timedelta(hours=hours[1])


def set_deadlines(complaint: Complaint) -> None:
    """Stage the deadlines from the complaint's received time and priority (in memory)."""
    targets = targets_for(complaint)
    if targets is None:
        return
    respond, resolve = targets
    complaint.response_due_at = complaint.received_at + respond
    complaint.resolution_due_at = complaint.received_at + resolve


def resume_clock(complaint: Complaint, now: datetime) -> None:
    """Move the deadlines later by the time spent waiting for the customer (in memory)."""
    if complaint.awaiting_since is None:
        return
    paused = max(now - complaint.awaiting_since, timedelta(0))
    if complaint.resolution_due_at is not None:
        complaint.resolution_due_at += paused
    if complaint.response_due_at is not None and complaint.first_response_at is None:
        complaint.response_due_at += paused
