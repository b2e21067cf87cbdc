"""The "Similar resolved complaints" card of the complaint detail page.

The detail page includes templates/complaints/similar/_panel.html, which only asks for
the card with htmx once the page has loaded (complaints/views/similar.py): the
comparison costs a query or two and never slows the page itself. The card,
templates/complaints/similar/_list.html, calls `similar_panel`.
"""

from __future__ import annotations

from typing import Any

from django import template

from complaints.services import similar

register = template.Library()

# How many the card lists.
SHOWN = 5


@register.simple_tag
def similar_panel(complaint, user) -> dict[str, Any]:
    """The resolved complaints most like this one that `user` may see."""
    return {"items": similar.similar_resolved(complaint=complaint, user=user, limit=SHOWN)}
