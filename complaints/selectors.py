"""Every read that a view, the API or a report needs, scoped by the user."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from complaints import permissions
from complaints.errors import NotFound
from complaints.models import Complaint, ComplaintEvent, StatusChange
from complaints.workflow import TRANSITIONS, Rule


def complaints_visible_to(user: Any) -> QuerySet[Complaint]:
    qs = Complaint.objects.all()
    condition = permissions.visibility_filter(user)
    return qs if condition is None else qs.filter(condition)


def complaint_get_for_user(*, user: Any, pk: int | str) -> Complaint:
    """The complaint with its related rows, or NotFound for missing and forbidden alike."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound() from None
    complaint = (
        complaints_visible_to(user)
        .select_related("customer", "category", "product", "priority", "team", "assignee")
        .filter(pk=pk)
        .first()
    )
    if complaint is None:
        raise NotFound()
    return complaint


def complaint_available_transitions(*, complaint: Complaint, user: Any) -> list[Rule]:
    """Transitions the state machine offers this user now (their inputs still to check)."""
    return [
        TRANSITIONS[t.name]
        for t in complaint.get_all_status_transitions()
        if t.source == complaint.status and t.has_perm(complaint, user)
    ]


def complaint_status_changes(*, complaint: Complaint) -> QuerySet[StatusChange]:
    return complaint.status_changes.select_related("actor").order_by("created_at", "pk")


def complaint_timeline(*, complaint: Complaint, include_internal: bool) -> QuerySet[ComplaintEvent]:
    qs = complaint.events.select_related("actor").order_by("created_at", "pk")
    return qs if include_internal else qs.filter(is_internal=False)
