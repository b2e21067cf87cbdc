"""What the improvement-action panel of the complaint detail page shows, and the
overdue count for the navigation and the supervisors' screens.

Used by templates/complaints/improvements/_panel.html (which needs only `complaint`
and `user`) and by base.html (`{% improvements_overdue_count user as n %}`).
"""

from __future__ import annotations

from typing import Any

from django import template
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse

from complaints import permissions, roles
from complaints.models import ImprovementAction
from complaints.services import improvements

register = template.Library()

# The "link to an open action" select lists at most this many (the earliest due).
LINKABLE_SHOWN = 100
# Room kept for the actions already linked when both come in one query.
LINKED_SHOWN = 50


def _linked_or_linkable(complaint, user):
    linked = Exists(
        ImprovementAction.complaints.through.objects.filter(
            improvementaction_id=OuterRef("pk"), complaint_id=complaint.pk
        )
    )
    open_ids = improvements.improvements_open_for_linking(user).order_by().values("pk")
    return (
        ImprovementAction.objects.annotate(is_linked=linked)
        .filter(Q(is_linked=True) | Q(pk__in=open_ids))
        .select_related("owner_team")
        .order_by("-is_linked", "due_date", "pk")[: LINKABLE_SHOWN + LINKED_SHOWN]
    )


@register.simple_tag
def improvement_panel(complaint, user) -> dict[str, Any]:
    """The actions linked to the complaint, the open ones it may be linked to, and
    the address of a new action prefilled with it."""
    may_link = improvements.can_create(user) and permissions.can_view_complaint(user, complaint)
    rows = improvements.improvements_for_complaint(complaint=complaint)
    if may_link:
        # The linked actions and the open ones to link, in one query (linked first).
        rows = _linked_or_linkable(complaint, user)
    actions, linkable = [], []
    for row in rows:
        if getattr(row, "is_linked", True):
            actions.append(row)
        elif len(linkable) < LINKABLE_SHOWN:
            linkable.append(row)
    today = improvements.today()
    return {
        "actions": [
            {
                "action": a,
                "overdue": a.status in improvements.OPEN_STATUSES and a.due_date < today,
                "can_unlink": may_link and a.status in improvements.OPEN_STATUSES,
            }
            for a in actions
        ],
        "linkable": linkable,
        "can_link": may_link,
        "new_url": f"{reverse('complaints:improvement-create')}?complaint={complaint.pk}"
        if may_link
        else "",
    }


@register.simple_tag
def improvements_overdue_count(user) -> int:
    """How many actions the user may see are past their due date and not done."""
    if not roles.is_staff_member(user):
        return 0
    return improvements.improvements_overdue(user).count()


@register.simple_tag
def can_create_improvements(user) -> bool:
    """Whether to offer "Create improvement action" (the queue's bulk bar)."""
    return improvements.can_create(user)
