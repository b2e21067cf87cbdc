"""Every read that a view, the API or a report needs, scoped by the user."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db.models import F, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from complaints import permissions, roles
from complaints.errors import NotFound
from complaints.models import Attachment, Complaint, ComplaintEvent, StatusChange
from complaints.workflow import OPEN_STATES, TRANSITIONS, Rule
from complaints.workflow import ComplaintStatus as S


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
        .select_related(
            "customer",
            "category__parent__parent",
            "product",
            "priority",
            "team",
            "assignee",
            "merged_into",
            # The detail page's triage card (a one-to-one: no extra query for it).
            "triage_proposal__category",
            "triage_proposal__product",
            "triage_proposal__priority",
            "triage_proposal__team",
        )
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
    if not include_internal:
        qs = qs.filter(is_internal=False)
    attachments = Attachment.objects.order_by("created_at", "pk")
    if not include_internal:
        attachments = attachments.filter(is_internal=False)
    return qs.prefetch_related(Prefetch("attachments", queryset=attachments))


# --- Queues ---------------------------------------------------------------------------

DUE_SOON = timedelta(hours=4)


@dataclass(frozen=True)
class Queue:
    slug: str
    label: Any
    supervisors_only: bool = False


QUEUES = [
    Queue("mine", _("My complaints")),
    Queue("team", _("My team's queue")),
    Queue("unassigned", _("Unassigned")),
    Queue("due", _("Due soon / overdue")),
    Queue("awaiting", _("Awaiting customer")),
    Queue("escalated", _("Escalated")),
    Queue("all", _("All complaints"), supervisors_only=True),
]
QUEUES_BY_SLUG = {q.slug: q for q in QUEUES}


def queues_for(user: Any) -> list[Queue]:
    return [q for q in QUEUES if not q.supervisors_only or roles.is_supervisor(user)]


def queue_condition(slug: str, user: Any, now) -> Q:
    open_ = Q(status__in=list(OPEN_STATES))
    if slug == "mine":
        return open_ & Q(assignee_id=user.pk)
    if slug == "team":
        return open_ & Q(team_id__in=permissions.team_ids_of(user))
    if slug == "unassigned":
        return Q(status__in=[S.NEW, S.TRIAGED, S.REOPENED])
    if slug == "due":
        return open_ & ~Q(status=S.AWAITING_CUSTOMER) & Q(resolution_due_at__lte=now + DUE_SOON)
    if slug == "awaiting":
        return Q(status=S.AWAITING_CUSTOMER)
    if slug == "escalated":
        return open_ & Q(escalation_level__gt=0)
    if slug == "all":
        return Q()
    raise NotFound()


def queue_complaints(*, user: Any, slug: str) -> QuerySet[Complaint]:
    """The queue's complaints with what a row shows, soonest deadline first."""
    queue = QUEUES_BY_SLUG.get(slug)
    if queue is None or queue not in queues_for(user):
        raise NotFound()
    qs = (
        complaints_visible_to(user)
        .filter(queue_condition(slug, user, timezone.now()))
        .select_related("customer", "category", "product", "priority", "team", "assignee")
    )
    if slug == "all":
        # Mostly finished work: the newest first.
        return qs.order_by("-received_at", "-pk")
    # Soonest deadline first; served by the partial index on open complaints (no join
    # in the ORDER BY: the deadline already reflects the priority).
    return qs.order_by(F("resolution_due_at").asc(nulls_last=True), "received_at", "pk")


# Queues of finished work too: not counted on every page (a count over the whole
# table grows with the history; the queue page itself shows its total).
UNCOUNTED = frozenset({"all"})


def queue_counts(user: Any) -> dict[str, int | None]:
    """The size of every queue of open work (None for the uncounted queues): one
    query over open complaints only, with the navigation's other badges."""
    from complaints.selectors_nav import nav_badges

    return nav_badges(user).queues
