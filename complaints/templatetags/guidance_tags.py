"""What the SOP panel and the reply template picker of the complaint detail page show.

Used by templates/complaints/guidance/_sop_panel.html and _template_picker.html, which
need only `complaint` and `user` in their context (the htmx views render them too).
"""

from __future__ import annotations

from typing import Any

from django import template

from complaints import permissions
from complaints.services import guidance, reply_templates

register = template.Library()


@register.simple_tag
def sop_panel(complaint, user) -> dict[str, Any]:
    """The complaint's checklist (None: no SOP applies) and whether the user may tick."""
    return {
        "checklist": guidance.sop_checklist(complaint),
        "can_check": permissions.can_edit_complaint(user, complaint),
    }


@register.simple_tag
def reply_template_choices(complaint) -> list:
    """The reply templates offered for this complaint, most specific first."""
    return reply_templates.reply_templates_for(complaint=complaint)
