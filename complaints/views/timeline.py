"""How the staff timeline reads: events described for people (status words, field
changes, who wrote what), for the complaint detail page."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from complaints import selectors
from complaints.models import Complaint, ComplaintEvent
from complaints.workflow import TRANSITIONS, ComplaintStatus

Kind = ComplaintEvent.Kind
_FROM_CUSTOMER = {Kind.RECEIVED, Kind.CUSTOMER_MESSAGE}
# Events whose text is the reason given for the change.
_REASON_KINDS = {
    Kind.STATUS_CHANGED,
    Kind.ASSIGNED,
    Kind.REASSIGNED,
    Kind.FIELD_CHANGED,
    Kind.MERGED,
}


# -----------------------------------------------------------------------------------


def _status_label(value: str | None) -> str:
    if value in ComplaintStatus.values:
        return str(ComplaintStatus(value).label)
    return value or "—"


def _readable(field: Any, value: Any) -> str:
    """A value from event data (ids were stored with their names) as a person reads it."""
    if value is None or value == "":
        return "—"
    if isinstance(value, dict):
        return str(value.get("name") or value.get("tracking_number") or f"#{value.get('id')}")
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if field is not None and getattr(field, "choices", None):
        return str(dict(field.flatchoices).get(value, value))
    if field is not None and field.get_internal_type() == "DateTimeField":
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            return str(value)
        return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")
    return str(value)


def _change_rows(changes: dict, skip: set[str]) -> list[dict[str, Any]]:
    """{field: {"from": a, "to": b}} or {field: value} as rows of label, from, to."""
    rows = []
    for attname, value in (changes or {}).items():
        if attname in skip:
            continue
        try:
            field = Complaint._meta.get_field(attname)
            label = capfirst(str(field.verbose_name))
        except FieldDoesNotExist:
            field, label = None, capfirst(attname.replace("_", " "))
        is_pair = isinstance(value, dict) and ("from" in value or "to" in value)
        rows.append(
            {
                "label": label,
                "has_from": is_pair,
                "from": _readable(field, value.get("from")) if is_pair else "",
                "to": _readable(field, value.get("to") if is_pair else value),
            }
        )
    return rows


def describe_events(events: list[ComplaintEvent], complaint: Complaint) -> list[ComplaintEvent]:
    """Annotate events with what the timeline shows (no queries: actors and attachments
    come with the events)."""
    customer = complaint.customer
    for event in events:
        data = event.data if isinstance(event.data, dict) else {}
        from_customer = event.kind in _FROM_CUSTOMER
        event.by_system = event.actor_id is None and not from_customer
        if event.actor_id is not None:
            event.author = str(event.actor)
        elif from_customer:
            event.author = _("Customer: %(name)s") % {"name": customer}
        else:
            event.author = _("System")
        classes = ["internal" if event.is_internal else "customer"]
        classes.append("system" if event.by_system else "staff")
        if from_customer and event.actor_id is None:
            classes.append("from-customer")
        event.css = " ".join(classes)
        event.status_from = event.status_to = None
        rule = TRANSITIONS.get(data.get("transition") or "")
        # "Resolve", "Reassign"… says more than "Status changed".
        event.title = rule.label if rule and event.kind == Kind.STATUS_CHANGED else None
        if "to" in data and "from" in data and "transition" in data:
            event.status_from, event.status_to = data["from"], data["to"]
            event.status_from_label = _status_label(data["from"])
            event.status_to_label = _status_label(data["to"])
        assignee = data.get("assignee") if isinstance(data.get("assignee"), dict) else None
        previous = data.get("from_assignee")
        event.assignment = (
            {
                "from": previous.get("name") if isinstance(previous, dict) else None,
                "to": assignee.get("name"),
            }
            if assignee
            else None
        )
        merge = data.get("merged_into") or data.get("merged")
        event.merge = {"into": "merged_into" in data, **merge} if isinstance(merge, dict) else None
        skip = {"assignee_id", "merged_into_id"} if assignee or merge else set()
        event.changes = _change_rows(data.get("changes"), skip)
        # The resolution is in the changes; an attachment's name is its link.
        event.show_body = bool(event.body) and not (
            data.get("transition") == "resolve" or event.kind == Kind.ATTACHMENT_ADDED
        )
        event.body_is_reason = event.kind in _REASON_KINDS
    return events


def timeline_for(complaint: Complaint) -> list[ComplaintEvent]:
    events = selectors.complaint_timeline(complaint=complaint, include_internal=True)
    return describe_events(list(events), complaint)
