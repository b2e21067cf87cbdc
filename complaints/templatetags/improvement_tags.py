"""What the improvement-action panel of the complaint detail page shows, and the
overdue count for the navigation and the supervisors' screens.

Used by templates/complaints/improvements/_panel.html (which needs only `complaint`
and `user`) and by base.html (`{% improvements_overdue_count user as n %}`).
"""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from complaints import permissions, roles
from complaints.services import improvements

register = template.Library()

# The "link to an open action" select lists at most this many (the earliest due).
LINKABLE_SHOWN = 100


@register.simple_tag
def improvement_panel(complaint, user) -> dict[str, Any]:
    """The actions linked to the complaint, the open ones it may be linked to, and
    the address of a new action prefilled with it."""
    actions = list(improvements.improvements_for_complaint(complaint=complaint))
    may_link = improvements.can_create(user) and permissions.can_view_complaint(user, complaint)
    linkable = []
    if may_link:
        linked_ids = [a.pk for a in actions]
        linkable = list(
            improvements.improvements_open_for_linking(user).exclude(pk__in=linked_ids)[
                :LINKABLE_SHOWN
            ]
        )
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
