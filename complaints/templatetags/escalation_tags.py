"""What the escalation and collaboration panels of the complaint detail page show,
and whether the navigation offers the Escalations screen and the department queue.

Used by templates/complaints/escalations/_panel.html and
templates/complaints/collaboration/_panel.html, which need only `complaint` and
`user` in their context.
"""

from __future__ import annotations

from typing import Any

from django import template

from complaints import roles
from complaints.config_choices import cached_rows
from complaints.models import CollaborationRequest, Escalation
from complaints.services import collaboration, escalation

register = template.Library()

# The panel lists the latest requests; the timeline keeps them all.
REQUESTS_SHOWN = 20


@register.simple_tag
def escalation_panel(complaint, user) -> dict[str, Any]:
    """The complaint's open escalations and what this user may do about them."""
    return {
        "escalations": list(escalation.escalations_open_for(complaint)),
        "can_manage": escalation.can_manage_escalations(user),
        "can_raise": escalation.can_raise_escalation(user, complaint),
        "reasons": [(r.value, r.label) for r in escalation.MANUAL_REASONS],
        "levels": Escalation.Level.choices,
    }


@register.simple_tag
def collaboration_panel(complaint, user) -> dict[str, Any]:
    """Who owes what on the complaint, and the form to ask a department."""
    requests = list(collaboration.collaboration_requests_of(complaint)[:REQUESTS_SHOWN])
    can_ask = collaboration.can_ask(user, complaint)
    return {
        "requests": requests,
        "open_count": sum(r.status == CollaborationRequest.Status.OPEN for r in requests),
        "can_ask": can_ask,
        # Withdrawing needs what asking needs: the right to work on the complaint.
        "can_cancel": can_ask,
        "departments": (cached_rows(collaboration.collaboration_departments()) if can_ask else []),
        "question_max": collaboration.QUESTION_MAX,
    }


@register.simple_tag
def escalation_nav(user) -> dict[str, Any]:
    """Which of the two screens the navigation links to, for this user."""
    if not roles.is_staff_member(user):
        return {"escalations": False, "department": False}
    return {
        "escalations": escalation.can_manage_escalations(user),
        "department": bool(collaboration.department_ids_of(user)),
    }
