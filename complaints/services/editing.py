"""Changing a complaint's fields (not its status: see transitions.py)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from complaints import permissions
from complaints.errors import ActionForbidden, InvalidInput, NotFound
from complaints.models import Complaint, ComplaintEvent, Demand
from complaints.services import sla, triage
from complaints.services.base import display_value, locked, record_event, save_complaint, snapshot
from complaints.workflow import TERMINAL_STATES, ComplaintStatus

# What staff may edit directly. Team and assignee change through transitions
# (assign, reassign, release) so that ownership always has a log entry.
EDITABLE_FIELDS = frozenset(
    {
        "title",
        "description",
        "demand",
        "demand_detail",
        "order_number",
        "category",
        "product",
        "priority",
    }
)


def complaint_update(
    *, complaint: Complaint, actor: Any, reason: str = "", **changes: Any
) -> list[str]:
    """Apply `changes`; returns the names of the fields that really changed."""
    if not permissions.can_view_complaint(actor, complaint):
        raise NotFound()
    if not permissions.can_edit_complaint(actor, complaint):
        raise ActionForbidden(_("This complaint can no longer be changed."))
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise InvalidInput(
            _("These fields cannot be changed here: %(fields)s.")
            % {"fields": ", ".join(sorted(unknown))}
        )
    if "title" in changes and not (changes["title"] or "").strip():
        raise InvalidInput(_("A title is required."))
    if "description" in changes and not (changes["description"] or "").strip():
        raise InvalidInput(_("Describe what happened."))
    if "demand" in changes and changes["demand"] not in Demand.values:
        raise InvalidInput(_("Unknown demand: %(value)s.") % {"value": changes["demand"]})

    before = snapshot(complaint)
    with transaction.atomic(), locked(complaint):
        for name, value in changes.items():
            setattr(complaint, name, value.strip() if isinstance(value, str) else value)
        changed = [
            f
            for f in (Complaint._meta.get_field(n).attname for n in changes)
            if getattr(complaint, f) != before[f]
        ]
        if not changed:
            return []
        if {"category_id", "priority_id"} & set(changed) and complaint.status not in (
            ComplaintStatus.NEW,
            *TERMINAL_STATES,
        ):
            # Reclassified after triage: the targets of the new class apply, counted
            # from receipt (time already paused for the customer is not re-applied).
            sla.set_deadlines(complaint)
        old = {f: before[f] for f in changed}
        save_complaint(complaint, actor=actor, reason=reason or _("Fields changed"), before=before)
        record_event(
            complaint,
            kind=ComplaintEvent.Kind.FIELD_CHANGED,
            actor=actor,
            body=reason,
            data={
                "changes": {
                    f: {"from": _plain(Complaint, f, old[f]), "to": display_value(complaint, f)}
                    for f in changed
                }
            },
        )
        if {"category_id", "priority_id"} & set(changed):
            triage.triage_mark_kept(complaint=complaint)
    return changed


def _plain(model, attname: str, value: Any) -> Any:
    field = model._meta.get_field(attname.removesuffix("_id"))
    if value is None or not field.is_relation:
        return value
    obj = field.related_model._default_manager.filter(pk=value).first()
    return {"id": value, "name": str(obj) if obj else None}
