"""The same transition on many complaints at once (the queue's bulk actions).

Each complaint is loaded through the user's scope and changed through
`complaint_transition` in its own transaction (a savepoint when the caller is
already in one), so one refusal never undoes the others. Every id gets a result:
done, refused with the service's reason, or "not found" (missing and not visible
look the same, as everywhere else).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from complaints import permissions, selectors
from complaints.errors import ActionForbidden, InvalidInput, NotFound, ServiceError
from complaints.models import Complaint
from complaints.services.transitions import SERVICES, complaint_transition
from complaints.workflow import ComplaintStatus, rule_for

# More than a page of the largest queue size, and small enough to answer in one request.
MAX_BULK = 200


@dataclass(frozen=True)
class BulkResult:
    complaint_id: int | str
    ok: bool
    message: str
    # None when the id is missing or not visible to the actor.
    complaint: Complaint | None = None

    @property
    def tracking_number(self) -> str:
        return self.complaint.tracking_number if self.complaint is not None else ""


def _clean_ids(complaint_ids: Iterable[Any]) -> list[int | str]:
    """The ids in the order given, without repeats; what is not a number stays as
    typed (it will be reported as not found)."""
    seen: dict[int | str, None] = {}
    for raw in complaint_ids:
        try:
            key: int | str = int(raw)
        except (TypeError, ValueError):
            key = str(raw)
        seen.setdefault(key, None)
    return list(seen)


def complaints_bulk_transition(
    *, actor: Any, complaint_ids: Iterable[Any], name: str, **inputs: Any
) -> list[BulkResult]:
    """Run transition `name` with `inputs` on each complaint; one result per distinct id.

    Raises InvalidInput (before touching anything) for an unknown transition,
    unexpected inputs, no ids or more than MAX_BULK ids.
    """
    if name not in SERVICES:
        raise InvalidInput(_("Unknown action: %(name)s.") % {"name": name})
    rule = rule_for(name)
    unexpected = set(inputs) - set(rule.inputs)
    if unexpected:
        raise InvalidInput(
            _("“%(action)s” does not take: %(fields)s.")
            % {"action": rule.label, "fields": ", ".join(sorted(unexpected))}
        )
    ids = list(complaint_ids)
    if not ids:
        raise InvalidInput(_("Select at least one complaint."))
    if len(ids) > MAX_BULK:
        raise InvalidInput(
            _(
                "You selected %(count)d complaints; a bulk action takes at most %(max)d "
                "at a time. Narrow the selection and try again."
            )
            % {"count": len(ids), "max": MAX_BULK}
        )

    results = []
    for pk in _clean_ids(ids):
        try:
            complaint = selectors.complaint_get_for_user(user=actor, pk=pk)
        except NotFound as err:
            results.append(BulkResult(complaint_id=pk, ok=False, message=str(err)))
            continue
        try:
            # Its own transaction: a refusal rolls back this complaint only.
            with transaction.atomic():
                complaint_transition(complaint=complaint, actor=actor, name=name, **inputs)
        except ServiceError as err:
            results.append(
                BulkResult(complaint_id=pk, ok=False, message=str(err), complaint=complaint)
            )
            continue
        results.append(
            BulkResult(
                complaint_id=pk,
                ok=True,
                message=_("Done: now “%(status)s”.")
                % {"status": ComplaintStatus(complaint.status).label},
                complaint=complaint,
            )
        )
    return results


def complaints_bulk_claim(*, actor: Any, complaint_ids: Iterable[Any]) -> list[BulkResult]:
    """The actor takes each complaint for themself."""
    return complaints_bulk_transition(
        actor=actor, complaint_ids=complaint_ids, name="assign", assignee=actor
    )


def complaints_bulk_assign(
    *, actor: Any, complaint_ids: Iterable[Any], assignee: Any, reason: str = ""
) -> list[BulkResult]:
    """Give each complaint to `assignee` (supervisors and the system only)."""
    if assignee is None:
        raise InvalidInput(_("Choose who takes the complaints."))
    if not permissions.can_assign_to(actor, assignee):
        raise ActionForbidden(_("Only supervisors may assign complaints to someone else."))
    return complaints_bulk_transition(
        actor=actor, complaint_ids=complaint_ids, name="assign", assignee=assignee, reason=reason
    )
