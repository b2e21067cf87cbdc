"""What the remedy panel of the complaint detail page shows, the money filter, and
the number of remedies waiting for the user's approval (the navigation's badge).

Used by templates/complaints/remedies/_panel.html, which needs only `complaint` and
`user` in its context (and `remedy_form` when a refused form comes back).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

from complaints import selectors_remedies
from complaints.models import Remedy, RemedyKind
from complaints.services import remedies

register = template.Library()

_BADGES = {
    Remedy.Status.PENDING: "warning",
    Remedy.Status.APPROVED: "success",
    Remedy.Status.REJECTED: "danger",
    Remedy.Status.DELIVERED: "primary",
    Remedy.Status.CANCELLED: "secondary",
}


@register.filter
def money(amount: Decimal | None) -> str:
    """An amount in the installation's currency: '1,200.50 CNY'."""
    return remedies.format_amount(amount)


@register.filter
def remedy_badge(status: str) -> str:
    """The Bootstrap colour of a remedy status badge."""
    return _BADGES.get(status, "secondary")


@register.simple_tag
def remedy_panel(complaint, user, form=None) -> dict[str, Any]:
    """The complaint's remedies, what this user may do with each, and the propose
    form (a fresh one with its one-time token, or the refused one given back)."""
    from complaints.views.remedies import new_propose_form

    limits = selectors_remedies.authority_limits_for_display()
    rows = list(selectors_remedies.remedies_of(complaint))
    for remedy in rows:
        remedy.may_decide = remedies.can_decide(user, remedy, limits=limits)
        remedy.may_deliver = remedies.can_deliver(user, remedy)
        remedy.may_cancel = remedies.can_cancel(user, remedy, complaint)
    can_propose = remedies.can_propose(user, complaint)
    allowed = remedies.allowed_kinds(complaint) if can_propose else []
    return {
        "remedies": rows,
        "pending_count": sum(r.status == Remedy.Status.PENDING for r in rows),
        "can_propose": can_propose,
        "kinds": [(k, RemedyKind(k).label) for k in allowed],
        "restricted": len(allowed) < len(RemedyKind.values),
        "form": (form or new_propose_form()) if can_propose else None,
        # A form refused because the complaint moved on (resolved meanwhile): the
        # panel has no form to show it in, so it shows why on its own.
        "refused": [str(e) for errors in form.errors.values() for e in errors]
        if form and not can_propose
        else [],
        "currency": remedies.currency(),
    }


@register.simple_tag
def approvals_count(user) -> int:
    """Remedies waiting for this user's decision; 0 (no query) for non-supervisors."""
    return selectors_remedies.approvals_count(user)
