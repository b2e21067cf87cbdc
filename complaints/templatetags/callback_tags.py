"""The call-back (回访) panel of the complaint detail page and the navigation's count
of call-backs due.

Used by templates/complaints/callbacks/_panel.html (which needs only `complaint` and
`user` in its context) and by base.html's navigation.
"""

from __future__ import annotations

from typing import Any

from django import template

from complaints import permissions
from complaints.models import CallbackResult, CallbackTask
from complaints.services import callbacks

register = template.Library()


@register.simple_tag
def callback_panel(complaint, user) -> dict[str, Any]:
    """The complaint's latest call-back, its attempts, and whether this user may record
    a call now. `task` is None when the complaint never had one (the panel hides)."""
    task = callbacks.callback_latest_of(complaint)
    if task is None:
        return {"task": None}
    is_current = task.cycle == complaint.reopen_count
    can_record = (
        task.status == CallbackTask.Status.OPEN
        and is_current
        and callbacks.can_record_callbacks(user)
        and permissions.can_view_complaint(user, complaint)
    )
    return {
        "task": task,
        "is_current": is_current,
        "attempts": list(callbacks.callback_attempts_of(task)),
        "max_attempts": callbacks.max_attempts(),
        "can_record": can_record,
        "results": CallbackResult.choices,
        "note_max": callbacks.MAX_NOTE,
    }


@register.simple_tag
def callbacks_due_count(user) -> int:
    """Open call-backs due now on complaints the user may see: the navigation badge
    (0, without a query, for users who do not call customers back)."""
    return callbacks.callbacks_due_count(user)


@register.filter
def may_call_back(user) -> bool:
    """Whether the navigation offers the Call-backs screen to this user."""
    return callbacks.can_record_callbacks(user)
