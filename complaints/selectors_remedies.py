"""Reads about remedies: authority limits and who may do what with a remedy, a
complaint's remedies, one remedy for a user, and the supervisors' Approvals list.
Writes are in complaints/services/remedies.py.

Authority: an AuthorityLimit row per role and remedy type. No row for agents: any
amount above zero needs approval (an apology, 0, never does). No row for supervisors:
no limit. A user with several roles gets the most generous limit; admins count as
supervisors.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.db.models import Prefetch, Q, QuerySet
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from complaints import config_cache, permissions, roles
from complaints.config_choices import category_chain, current_sop_for_chain
from complaints.errors import NotFound
from complaints.models import (
    AuthorityLimit,
    Complaint,
    Remedy,
    RemedyKind,
    Sop,
)
from complaints.workflow import ComplaintStatus

Status = Remedy.Status
# The statuses in which a complaint takes no new remedy, and why.
NO_NEW_REMEDY = {
    ComplaintStatus.CLOSED: gettext_lazy("This complaint is closed: it takes no new remedy."),
    ComplaintStatus.REJECTED: gettext_lazy("This complaint was rejected: it takes no remedy."),
    ComplaintStatus.MERGED: gettext_lazy(
        "This complaint was merged into another: propose the remedy on that one."
    ),
    ComplaintStatus.RESOLVED: gettext_lazy(
        "This complaint is resolved: reopen it before proposing another remedy."
    ),
}

Limits = dict[tuple[str, str], Decimal]


# --- Amounts ------------------------------------------------------------------------------


def currency() -> str:
    return settings.COMPLAINT_CURRENCY


def format_amount(amount: Decimal | None) -> str:
    """'1,200.50 CNY' (grouped and localised)."""
    if amount is None:
        return ""
    return f"{number_format(amount, 2, force_grouping=True)} {currency()}"


# --- Authority ----------------------------------------------------------------------------


def authority_limits() -> Limits:
    """Every configured limit, {(role, kind): largest amount}, read now (decisions)."""
    return {
        (role, kind): amount
        for role, kind, amount in AuthorityLimit.objects.values_list("role", "kind", "max_amount")
    }


def authority_limits_for_display() -> Limits:
    """authority_limits kept by config_cache, for what a page shows (the panel's
    buttons, the badge); every decision re-reads them. Do not change the dict."""
    return config_cache.lookup("authority-limits", authority_limits)


def authority_limit_for(*, user: Any, kind: str, limits: Limits | None = None) -> Decimal | None:
    """The largest amount of `kind` the user may grant without approval; None: no limit.

    `limits` (from authority_limits()) saves the query when asking about many rows.
    """
    if user is None or roles.is_system(user) or not getattr(user, "is_active", False):
        return Decimal("0")
    table = authority_limits() if limits is None else limits
    found: list[Decimal] = []
    if roles.is_supervisor(user):
        supervisor = table.get((roles.SUPERVISOR, kind))
        if supervisor is None:
            return None
        found.append(supervisor)
    if roles.is_agent(user):
        found.append(table.get((roles.AGENT, kind), Decimal("0")))
    return max(found, default=Decimal("0"))


def within_authority(
    *, user: Any, kind: str, amount: Decimal, limits: Limits | None = None
) -> bool:
    """Whether the user may grant this remedy without anyone's approval. An amount of
    zero (an apology) is always within anyone's authority."""
    if amount <= 0:
        return True
    limit = authority_limit_for(user=user, kind=kind, limits=limits)
    return limit is None or amount <= limit


# --- Who may do what ----------------------------------------------------------------------


def can_propose(user: Any, complaint: Complaint) -> bool:
    """Agents and supervisors who may work on the complaint, while it is open."""
    return (
        (roles.is_agent(user) or roles.is_supervisor(user))
        and complaint.status not in NO_NEW_REMEDY
        and permissions.can_edit_complaint(user, complaint)
    )


def can_decide(user: Any, remedy: Remedy, *, limits: Limits | None = None) -> bool:
    """A supervisor (or admin) other than the proposer, whose limit covers the amount."""
    return (
        remedy.status == Status.PENDING
        and roles.is_supervisor(user)
        and remedy.proposed_by_id != getattr(user, "pk", None)
        and within_authority(user=user, kind=remedy.kind, amount=remedy.amount, limits=limits)
    )


def can_cancel(user: Any, remedy: Remedy, complaint: Complaint) -> bool:
    """The proposer, the complaint's assignee or a supervisor, before delivery."""
    if remedy.status not in (Status.PENDING, Status.APPROVED):
        return False
    if roles.is_supervisor(user):
        return True
    pk = getattr(user, "pk", None)
    if pk is None or not roles.is_agent(user):
        return False
    return pk in (remedy.proposed_by_id, complaint.assignee_id)


def can_deliver(user: Any, remedy: Remedy) -> bool:
    return remedy.status == Status.APPROVED and (roles.is_agent(user) or roles.is_supervisor(user))


def kind_label(kind: str) -> str:
    return str(RemedyKind(kind).label) if kind in RemedyKind.values else kind


def current_sop(category_id: int | None) -> Sop | None:
    """The current SOP of the category or, failing that, of its nearest ancestor."""
    return current_sop_for_chain(category_chain(category_id))


def allowed_kinds(complaint: Complaint) -> list[str]:
    """The remedy types the complaint's SOP allows; every type without such an SOP."""
    sop = current_sop(complaint.category_id)
    allowed = [k for k in (sop.allowed_remedies if sop else []) if k in RemedyKind.values]
    return allowed or list(RemedyKind.values)


def approver_filter(user: Any, *, limits: Limits | None = None) -> Q | None:
    """A filter on Remedy for the amounts this user's limit covers; None: nothing."""
    if not roles.is_supervisor(user) or not getattr(user, "is_active", False):
        return None
    table = authority_limits() if limits is None else limits
    condition = Q(amount__lte=0)
    for kind in RemedyKind.values:
        limit = authority_limit_for(user=user, kind=kind, limits=table)
        condition |= Q(kind=kind) if limit is None else Q(kind=kind, amount__lte=limit)
    return condition


# --- Remedies ------------------------------------------------------------------------------


def remedies_of(complaint: Complaint) -> QuerySet[Remedy]:
    """Every remedy of the complaint, the oldest first."""
    return (
        Remedy.objects.filter(complaint_id=complaint.pk)
        .select_related("proposed_by", "decided_by")
        .order_by("proposed_at", "pk")
    )


def remedies_visible_to(user: Any) -> QuerySet[Remedy]:
    qs = Remedy.objects.all()
    condition = permissions.visibility_filter(user)
    if condition is None:
        return qs
    return qs.filter(complaint__in=Complaint.objects.filter(condition))


def remedy_get_for_user(*, user: Any, pk: int | str) -> Remedy:
    """The remedy with its complaint, or NotFound for missing and forbidden alike."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound(_("No such remedy, or you may not see it.")) from None
    remedy = (
        remedies_visible_to(user)
        .select_related("complaint__team", "proposed_by", "decided_by")
        .filter(pk=pk)
        .first()
    )
    if remedy is None or not roles.is_staff_member(user):
        raise NotFound(_("No such remedy, or you may not see it."))
    return remedy


def remedies_awaiting_approval(user: Any, *, limits: Limits | None = None) -> QuerySet[Remedy]:
    """Pending remedies on complaints the user may see and that the user may decide
    (a supervisor, not the proposer, whose limit covers the amount), the oldest first."""
    condition = approver_filter(user, limits=limits)
    if condition is None:
        return Remedy.objects.none()
    return (
        remedies_visible_to(user)
        .filter(status=Remedy.Status.PENDING)
        .filter(condition)
        .exclude(proposed_by_id=user.pk)
        .select_related(
            "complaint__team", "complaint__priority", "complaint__assignee", "proposed_by"
        )
        # The proposer's roles, for the limit each row exceeds (one query for the page).
        .prefetch_related(
            Prefetch("proposed_by__groups", queryset=Group.objects.only("pk", "name"))
        )
        .order_by("proposed_at", "pk")
    )


def approvals_count(user: Any) -> int:
    """How many remedies wait for this user's decision (0 without asking for others)."""
    if not roles.is_supervisor(user) or not getattr(user, "is_active", False):
        return 0
    return remedies_awaiting_approval(user).count()


def with_proposer_limits(remedies: list[Remedy], *, limits: Limits) -> list[Remedy]:
    """Set `proposer_limit` (None: no limit) on each remedy of the list, from the
    prefetched groups of remedies_awaiting_approval: no query per row."""
    for remedy in remedies:
        proposer = remedy.proposed_by
        proposer._role_names = frozenset(group.name for group in proposer.groups.all())
        remedy.proposer_limit = authority_limit_for(user=proposer, kind=remedy.kind, limits=limits)
    return remedies
