"""Customer records: merging two records of the same person.

Identity matching at intake (services.intake.customer_find_or_create) never merges
on its own: when the phone says one customer and the email another, or when two
first submissions raced, an agent decides here.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from complaints import roles
from complaints.errors import ActionForbidden, InvalidInput
from complaints.models import Complaint, ComplaintEvent, Customer, CustomerExternalId
from complaints.services.base import (
    actor_user,
    display_value,
    locked,
    record_event,
    save_complaint,
    snapshot,
)

# Copied from the source when the target does not have them.
_CONTACT_FIELDS = ("name", "phone", "email", "language")
# The higher tier survives a merge: a VIP stays a VIP.
_TIER_RANK = {tier: rank for rank, tier in enumerate(Customer.Tier.values)}


def can_merge_customers(user: Any) -> bool:
    return roles.is_agent(user) or roles.is_supervisor(user)


def customer_merge(*, source: Customer, target: Customer, actor: Any, reason: str) -> Customer:
    """Merge `source` into `target` (the same person) and return the target.

    Each of source's complaints moves to target through a service save (one history
    row with the actor and the reason, and a `field_changed` timeline event); its
    external ids move too; contact details target lacks are copied; source keeps its
    own details for the record and points at target (`merged_into`), so that intake
    matching on them finds target from now on.
    """
    if not can_merge_customers(actor):
        raise ActionForbidden(_("Only agents and supervisors may merge customers."))
    if source is None or target is None:
        raise InvalidInput(_("Choose the two customer records to merge."))
    if source.pk == target.pk:
        raise InvalidInput(_("A customer cannot be merged into itself."))
    reason = (reason or "").strip() or _("Customer #%(source)s merged into #%(target)s") % {
        "source": source.pk,
        "target": target.pk,
    }

    with transaction.atomic():
        # Lock both records in a fixed order and decide on what is stored now: a merge
        # of B into A running at the same time as A into B would otherwise make a cycle.
        rows = {
            c.pk: c
            for c in Customer.objects.select_for_update()
            .filter(pk__in=[source.pk, target.pk])
            .order_by("pk")
        }
        if len(rows) != 2:
            raise InvalidInput(_("One of the customer records no longer exists."))
        src, dst = rows[source.pk], rows[target.pk]
        if dst.merged_into_id is not None:
            raise InvalidInput(
                _(
                    "Customer #%(target)s was itself merged into #%(into)s: merge into "
                    "that record instead."
                )
                % {"target": dst.pk, "into": dst.merged_into_id}
            )
        if src.merged_into_id is not None:
            raise InvalidInput(
                _("Customer #%(source)s was already merged into #%(into)s.")
                % {"source": src.pk, "into": src.merged_into_id}
            )

        _move_complaints(src, dst, actor=actor, reason=reason)
        # External ids have no workflow or history of their own worth a save each.
        CustomerExternalId.objects.filter(customer=src).update(customer=dst)

        updates = [f for f in _CONTACT_FIELDS if getattr(src, f) and not getattr(dst, f)]
        for field in updates:
            setattr(dst, field, getattr(src, field))
        if _TIER_RANK.get(src.tier, 0) > _TIER_RANK.get(dst.tier, 0):
            dst.tier = src.tier
            updates.append("tier")
        if updates:
            dst._history_user = actor_user(actor)
            dst._change_reason = reason
            dst.save(update_fields=updates)

        src.merged_into = dst
        src._history_user = actor_user(actor)
        src._change_reason = reason
        src.save(update_fields=["merged_into"])

    # The caller's copies now disagree with the database.
    source.refresh_from_db()
    target.refresh_from_db()
    return target


def _move_complaints(src: Customer, dst: Customer, *, actor: Any, reason: str) -> None:
    # Row locks in pk order (PostgreSQL), then each complaint through the service path.
    complaints = list(Complaint.objects.select_for_update().filter(customer=src).order_by("pk"))
    for complaint in complaints:
        with locked(complaint):
            before = snapshot(complaint)
            complaint.customer = dst
            save_complaint(complaint, actor=actor, reason=reason, before=before)
            record_event(
                complaint,
                kind=ComplaintEvent.Kind.FIELD_CHANGED,
                actor=actor,
                body=reason,
                data={
                    "changes": {
                        "customer": {
                            "from": {"id": src.pk, "name": str(src)},
                            "to": display_value(complaint, "customer_id"),
                        }
                    },
                    "customer_merge": {"source": src.pk, "target": dst.pk},
                },
            )
