"""Shared mechanics of every service that writes a complaint.

- `locked(complaint)`: inside the caller's transaction, lock the row and refuse a
  stale copy (optimistic concurrency on `version`, for every kind of change).
- `save_complaint(...)`: one save, one history row, with the actor and the reason;
  returns the fields that changed.
- `record_event(...)`: one timeline row.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_fsm import ConcurrentTransition

from complaints import roles
from complaints.errors import ComplaintConflict, NotFound
from complaints.models import Complaint, ComplaintEvent

# Fields a service never reports as "changed by the user".
_BOOKKEEPING = {"id", "version", "updated_at", "created_at", "status"}


def actor_user(actor: Any):
    """The User to store as actor: None for the system."""
    if actor is None or roles.is_system(actor):
        return None
    return actor


def snapshot(complaint: Complaint) -> dict[str, Any]:
    return {f.attname: getattr(complaint, f.attname) for f in Complaint._meta.concrete_fields}


def restore(complaint: Complaint, values: dict[str, Any]) -> None:
    """Undo staged in-memory changes after a refusal (the database was rolled back)."""
    for name, value in values.items():
        if name != "status":
            setattr(complaint, name, value)
    # Cached related objects may disagree with the restored ids.
    complaint._state.fields_cache.clear()


def changed_fields(complaint: Complaint, before: dict[str, Any]) -> list[str]:
    return [
        name
        for name, old in before.items()
        if name not in _BOOKKEEPING and getattr(complaint, name) != old
    ]


@contextmanager
def locked(complaint: Complaint) -> Iterator[Complaint]:
    """Lock the complaint's row for this transaction and check the copy is current.

    Must be used inside transaction.atomic(). On PostgreSQL the row lock serialises
    writers; on SQLite the IMMEDIATE transaction mode does. Either way a copy read
    before someone else's change fails here with ComplaintConflict.
    """
    assert transaction.get_connection().in_atomic_block, "locked() needs a transaction"
    current = (
        Complaint.objects.select_for_update()
        .filter(pk=complaint.pk)
        .values_list("version", flat=True)
        .first()
    )
    if current is None:
        raise NotFound()
    if current != complaint.version:
        raise ComplaintConflict()
    yield complaint


def save_complaint(
    complaint: Complaint, *, actor: Any, reason: str, before: dict[str, Any]
) -> list[str]:
    """Save once, writing exactly one history row attributed to actor with reason."""
    changed = changed_fields(complaint, before)
    complaint.version += 1
    complaint._history_user = actor_user(actor)
    complaint._change_reason = reason
    update_fields = {*changed, "status", "version", "updated_at"}
    try:
        complaint.save(update_fields=sorted(update_fields))
    except ConcurrentTransition:
        # The status moved under us although the version matched: someone wrote
        # the row without going through a service. Treat it like any lost race.
        raise ComplaintConflict() from None
    return changed


def record_event(
    complaint: Complaint,
    *,
    kind: str,
    actor: Any,
    body: str = "",
    internal: bool = True,
    data: dict | None = None,
    at=None,
) -> ComplaintEvent:
    return ComplaintEvent.objects.create(
        complaint=complaint,
        kind=kind,
        actor=actor_user(actor),
        body=body,
        is_internal=internal,
        data=data or {},
        created_at=at or timezone.now(),
    )


def display_value(complaint: Complaint, attname: str) -> Any:
    """A JSON-friendly value of a field, for event data (ids become readable names)."""
    field = Complaint._meta.get_field(attname.removesuffix("_id"))
    value = getattr(complaint, field.name)
    if value is None:
        return None
    if field.is_relation:
        return {"id": value.pk, "name": str(value)}
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
