"""Remedies offered to a customer: proposed, approved or rejected, delivered,
cancelled. The authority limits (who may grant what without approval) and the
predicates are read in complaints/selectors_remedies.py and re-exported here.

A remedy above the proposer's limit waits (`pending`) for a supervisor who may see
the complaint, is not the proposer and whose own limit covers the amount. While one
waits the complaint cannot be resolved (workflow.no_remedy_awaiting_approval).

Lock order, everywhere: the complaint row first, then the remedy row. Proposing
locks the complaint too, so a proposal and a `resolve` cannot pass each other.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints import permissions, roles
from complaints.errors import ActionForbidden, InvalidInput, NotFound, ServiceError
from complaints.models import Complaint, ComplaintEvent, Notification, Remedy, RemedyKind
from complaints.selectors_remedies import (
    NO_NEW_REMEDY,
    Limits,
    allowed_kinds,
    approver_filter,
    authority_limit_for,
    authority_limits,
    can_cancel,
    can_decide,
    can_deliver,
    can_propose,
    currency,
    current_sop,
    format_amount,
    kind_label,
    within_authority,
)
from complaints.services import inapp
from complaints.services.base import actor_user, record_event

Status = Remedy.Status
# Larger amounts are typing mistakes (an extra zero), not remedies.
MAX_AMOUNT = Decimal("1000000.00")
DESCRIPTION_MAX = 2000
REASON_MAX = 2000
# Types that are an amount of money: zero makes no sense for them.
MONEY_KINDS = frozenset({RemedyKind.REFUND, RemedyKind.VOUCHER, RemedyKind.COMPENSATION})


class RemedyConflict(ServiceError):
    """Someone else decided, delivered or cancelled the remedy first."""

    status_code = 409
    code = "conflict"


def parse_amount(value: Any) -> Decimal:
    """The amount typed, as a Decimal of at most two places; InvalidInput saying why not."""
    if isinstance(value, bool) or value is None:
        value = ""
    text = str(value).strip().replace(" ", "")
    if text == "":
        raise InvalidInput(
            _("Enter an amount (0 for an apology)."), fields={"amount": [_("Enter an amount.")]}
        )
    try:
        amount = Decimal(text)
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        message = _("“%(value)s” is not an amount: enter a number such as 120.50.") % {
            "value": text[:40]
        }
        raise InvalidInput(message, fields={"amount": [message]})
    if amount < 0:
        message = _("The amount cannot be negative.")
        raise InvalidInput(message, fields={"amount": [message]})
    if amount != amount.quantize(Decimal("0.01")):
        message = _("Give the amount with at most two decimals.")
        raise InvalidInput(message, fields={"amount": [message]})
    if amount > MAX_AMOUNT:
        message = _("The amount cannot be above %(max)s.") % {"max": format_amount(MAX_AMOUNT)}
        raise InvalidInput(message, fields={"amount": [message]})
    return amount.quantize(Decimal("0.01"))


def _require_visible(actor: Any, complaint: Complaint) -> None:
    if not (roles.is_staff_member(actor) and permissions.can_view_complaint(actor, complaint)):
        raise NotFound()


# --- Helpers ------------------------------------------------------------------------------


def _summary(remedy: Remedy, action: str) -> dict[str, Any]:
    """What a timeline event says about the remedy (readable without a join)."""
    return {
        "remedy": {
            "id": remedy.pk,
            "kind": remedy.kind,
            "kind_label": kind_label(remedy.kind),
            "amount": str(remedy.amount),
            "currency": currency(),
            "status": remedy.status,
            "action": action,
        }
    }


def _check_kind(complaint: Complaint, kind: str) -> None:
    if kind not in RemedyKind.values:
        message = _("Unknown remedy type: %(value)s.") % {"value": str(kind)[:40]}
        raise InvalidInput(message, fields={"kind": [message]})
    sop = current_sop(complaint.category_id)
    allowed = [k for k in (sop.allowed_remedies if sop else []) if k in RemedyKind.values]
    if allowed and kind not in allowed:
        message = _(
            "The SOP “%(sop)s” of this category does not allow a %(kind)s. Allowed: %(allowed)s."
        ) % {
            "sop": sop.title,
            "kind": kind_label(kind).lower(),
            "allowed": ", ".join(kind_label(k) for k in allowed),
        }
        raise InvalidInput(message, fields={"kind": [message]})


def _check_amount_fits_kind(kind: str, amount: Decimal) -> None:
    if kind in MONEY_KINDS and amount == 0:
        message = _("A %(kind)s needs an amount above zero.") % {"kind": kind_label(kind).lower()}
        raise InvalidInput(message, fields={"amount": [message]})
    if kind == RemedyKind.APOLOGY and amount != 0:
        message = _("An apology has no amount: offer compensation or a voucher separately.")
        raise InvalidInput(message, fields={"amount": [message]})


def remedy_approvers(*, complaint: Complaint, kind: str, amount: Decimal, proposer: Any) -> list:
    """Who is asked to approve: the complaint's team supervisor when their limit covers
    it; else every supervisor whose limit does; else every admin whose limit does."""
    limits = authority_limits()
    proposer_pk = getattr(proposer, "pk", None)

    def fits(person) -> bool:
        return (
            person is not None
            and person.is_active
            and person.pk != proposer_pk
            and roles.is_supervisor(person)
            and within_authority(user=person, kind=kind, amount=amount, limits=limits)
        )

    team_supervisor = complaint.team.supervisor if complaint.team_id else None
    if fits(team_supervisor):
        return [team_supervisor]
    users = get_user_model().objects.filter(is_active=True).exclude(pk=proposer_pk)
    for group in (roles.SUPERVISOR, roles.ADMIN):
        found = [u for u in users.filter(groups__name=group).distinct().order_by("pk") if fits(u)]
        if found:
            return found
    return [u for u in users.filter(is_superuser=True).order_by("pk") if fits(u)]


def _save(remedy: Remedy, *, actor: Any, reason: str, fields: list[str] | None = None) -> None:
    remedy._history_user = actor_user(actor)
    remedy._change_reason = reason
    if fields is None:
        remedy.save()
    else:
        remedy.save(update_fields=fields)


def _lock_complaint(pk: int) -> Complaint:
    complaint = Complaint.objects.select_for_update().filter(pk=pk).first()
    if complaint is None:
        raise NotFound()
    return complaint


def _lock_remedy(pk: int) -> Remedy:
    row = Remedy.objects.select_for_update().filter(pk=pk).first()
    if row is None:
        raise NotFound(_("No such remedy, or you may not see it."))
    return row


def _refresh(target: Remedy, source: Remedy) -> None:
    for field in Remedy._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))
    target._state.fields_cache.clear()


def _already(row: Remedy) -> RemedyConflict:
    """Why the remedy, as stored now, cannot take the change asked for."""
    if row.status == Status.PENDING:
        return RemedyConflict(_("This remedy still waits for a supervisor's approval."))
    if row.status == Status.DELIVERED:
        return RemedyConflict(_("This remedy was already delivered: nothing was changed."))
    who = row.decided_by or _("someone else")
    return RemedyConflict(
        _("This remedy was already %(status)s by %(who)s: nothing was changed.")
        % {"status": row.get_status_display().lower(), "who": who}
    )


def _text(value: str | None, limit: int, field: str) -> str:
    text = (value or "").strip()
    if len(text) > limit:
        message = _("Keep it under %(max)d characters.") % {"max": limit}
        raise InvalidInput(message, fields={field: [message]})
    return text


# --- Writes -------------------------------------------------------------------------------


@transaction.atomic
def remedy_propose(
    *, complaint: Complaint, actor: Any, kind: str, amount: Any, description: str = ""
) -> Remedy:
    """Record a remedy. Within the proposer's authority it is approved at once;
    above it, it waits for a supervisor, who is notified."""
    _require_visible(actor, complaint)
    if not (roles.is_agent(actor) or roles.is_supervisor(actor)):
        raise ActionForbidden(_("Only agents and supervisors may propose a remedy."))
    amount = parse_amount(amount)
    _check_kind(complaint, kind)
    _check_amount_fits_kind(kind, amount)
    description = _text(description, DESCRIPTION_MAX, "description")
    # Under the complaint's lock: its status as stored now, not as the caller read it.
    current = _lock_complaint(complaint.pk)
    if current.status in NO_NEW_REMEDY:
        raise InvalidInput(str(NO_NEW_REMEDY[current.status]))
    if not permissions.can_edit_complaint(actor, current):
        raise ActionForbidden(_("You may not work on this complaint."))
    now = timezone.now()
    remedy = Remedy(
        complaint=current,
        kind=kind,
        amount=amount,
        description=description,
        proposed_by=actor,
        proposed_at=now,
    )
    label = kind_label(kind)
    limit = authority_limit_for(user=actor, kind=kind)
    if within_authority(user=actor, kind=kind, amount=amount):
        remedy.status = Status.APPROVED
        remedy.decided_by = actor
        remedy.decided_at = now
        remedy.decision_reason = _("Within authority")
        _save(remedy, actor=actor, reason=_("Proposed within authority"))
        body = _("Remedy granted: %(kind)s %(amount)s (within authority).") % {
            "kind": label,
            "amount": format_amount(amount),
        }
        approvers = []
    else:
        approvers = remedy_approvers(complaint=current, kind=kind, amount=amount, proposer=actor)
        if not approvers:
            raise InvalidInput(
                _(
                    "Nobody may approve a %(kind)s of %(amount)s: it is above every "
                    "supervisor's limit. Propose a smaller amount, or ask an administrator "
                    "to raise the limit."
                )
                % {"kind": label.lower(), "amount": format_amount(amount)},
                fields={"amount": [_("Above every supervisor's limit.")]},
            )
        remedy.status = Status.PENDING
        _save(remedy, actor=actor, reason=_("Proposed, waiting for approval"))
        body = _("Remedy proposed: %(kind)s %(amount)s, above the limit of %(limit)s.") % {
            "kind": label,
            "amount": format_amount(amount),
            "limit": format_amount(limit),
        }
    if description:
        body = f"{body}\n{description}"
    data = _summary(remedy, "proposed")
    data["remedy"]["limit"] = None if limit is None else str(limit)
    record_event(
        current, kind=ComplaintEvent.Kind.REMEDY, actor=actor, body=body, data=data, at=now
    )
    text = _("%(number)s: %(who)s asks approval for a %(kind)s of %(amount)s") % {
        "number": current.tracking_number,
        "who": actor,
        "kind": label.lower(),
        "amount": format_amount(amount),
    }
    for person in approvers:
        inapp.notify(user=person, kind=Notification.Kind.APPROVAL, complaint=current, text=text)
    return remedy


@transaction.atomic
def remedy_decide(*, remedy: Remedy, actor: Any, approve: bool, reason: str = "") -> Remedy:
    """A supervisor approves or rejects (with a reason) a remedy waiting for approval.
    Two supervisors at once: one decides, the other is told it was already decided."""
    complaint = Complaint.objects.select_related("team").filter(pk=remedy.complaint_id).first()
    if complaint is None:
        raise NotFound()
    _require_visible(actor, complaint)
    if not roles.is_supervisor(actor):
        raise ActionForbidden(_("Only a supervisor may approve or reject a remedy."))
    if remedy.proposed_by_id == actor.pk:
        raise ActionForbidden(_("You proposed this remedy: another supervisor must decide it."))
    if not within_authority(user=actor, kind=remedy.kind, amount=remedy.amount):
        raise ActionForbidden(
            _("%(amount)s is above your own limit for a %(kind)s (%(limit)s).")
            % {
                "amount": format_amount(remedy.amount),
                "kind": kind_label(remedy.kind).lower(),
                "limit": format_amount(authority_limit_for(user=actor, kind=remedy.kind)),
            }
        )
    reason = _text(reason, REASON_MAX, "reason")
    if not approve and not reason:
        message = _("Say why the remedy is rejected.")
        raise InvalidInput(message, fields={"reason": [message]})
    _lock_complaint(complaint.pk)
    row = _lock_remedy(remedy.pk)
    if row.status != Status.PENDING:
        raise _already(row)
    now = timezone.now()
    row.status = Status.APPROVED if approve else Status.REJECTED
    row.decided_by = actor
    row.decided_at = now
    row.decision_reason = reason
    _save(
        row,
        actor=actor,
        reason=_("Approved") if approve else _("Rejected"),
        fields=["status", "decided_by", "decided_at", "decision_reason"],
    )
    _refresh(remedy, row)
    values = {"kind": kind_label(row.kind), "amount": format_amount(row.amount)}
    if approve:
        body = _("Remedy approved: %(kind)s %(amount)s.") % values
    else:
        body = _("Remedy rejected: %(kind)s %(amount)s.") % values
    if reason:
        body = f"{body}\n{reason}"
    record_event(
        complaint,
        kind=ComplaintEvent.Kind.REMEDY,
        actor=actor,
        body=body,
        data=_summary(row, "approved" if approve else "rejected"),
        at=now,
    )
    text = (
        _("%(number)s: your %(kind)s of %(amount)s was approved by %(who)s")
        if approve
        else _("%(number)s: your %(kind)s of %(amount)s was rejected by %(who)s")
    ) % {
        "number": complaint.tracking_number,
        "kind": kind_label(row.kind).lower(),
        "amount": format_amount(row.amount),
        "who": actor,
    }
    inapp.notify(
        user=row.proposed_by, kind=Notification.Kind.APPROVAL, complaint=complaint, text=text
    )
    return remedy


def _change(
    *, remedy: Remedy, actor: Any, allowed_from: tuple[str, ...], check, apply, action: str
) -> Remedy:
    complaint = Complaint.objects.filter(pk=remedy.complaint_id).first()
    if complaint is None:
        raise NotFound()
    _require_visible(actor, complaint)
    with transaction.atomic():
        _lock_complaint(complaint.pk)
        row = _lock_remedy(remedy.pk)
        if row.status not in allowed_from:
            raise _already(row)
        check(row, complaint)
        now = timezone.now()
        body = apply(row, now)
        record_event(
            complaint,
            kind=ComplaintEvent.Kind.REMEDY,
            actor=actor,
            body=body,
            data=_summary(row, action),
            at=now,
        )
    _refresh(remedy, row)
    return remedy


def remedy_mark_delivered(*, remedy: Remedy, actor: Any) -> Remedy:
    """The approved remedy reached the customer (refund paid, replacement sent)."""

    def check(row: Remedy, complaint: Complaint) -> None:
        if not can_deliver(actor, row):
            raise ActionForbidden(_("Only agents and supervisors may mark a remedy delivered."))

    def apply(row: Remedy, now) -> str:
        row.status = Status.DELIVERED
        _save(row, actor=actor, reason=_("Delivered"), fields=["status"])
        return _("Remedy delivered: %(kind)s %(amount)s.") % {
            "kind": kind_label(row.kind),
            "amount": format_amount(row.amount),
        }

    return _change(
        remedy=remedy,
        actor=actor,
        allowed_from=(Status.APPROVED,),
        check=check,
        apply=apply,
        action="delivered",
    )


def remedy_cancel(*, remedy: Remedy, actor: Any, reason: str) -> Remedy:
    """Withdraw a remedy not yet delivered: the proposer, the assignee or a supervisor."""
    reason = _text(reason, REASON_MAX, "reason")
    if not reason:
        message = _("Say why the remedy is cancelled.")
        raise InvalidInput(message, fields={"reason": [message]})

    def check(row: Remedy, complaint: Complaint) -> None:
        if not can_cancel(actor, row, complaint):
            raise ActionForbidden(
                _("Only the proposer, the assignee or a supervisor may cancel this remedy.")
            )

    def apply(row: Remedy, now) -> str:
        row.status = Status.CANCELLED
        row.decided_by = actor
        row.decided_at = now
        row.decision_reason = reason
        _save(
            row,
            actor=actor,
            reason=_("Cancelled"),
            fields=["status", "decided_by", "decided_at", "decision_reason"],
        )
        values = {"kind": kind_label(row.kind), "amount": format_amount(row.amount)}
        return _("Remedy cancelled: %(kind)s %(amount)s.") % values + f"\n{reason}"

    return _change(
        remedy=remedy,
        actor=actor,
        allowed_from=(Status.PENDING, Status.APPROVED),
        check=check,
        apply=apply,
        action="cancelled",
    )


__all__ = [
    "MAX_AMOUNT",
    "Limits",
    "RemedyConflict",
    "allowed_kinds",
    "approver_filter",
    "authority_limit_for",
    "authority_limits",
    "can_cancel",
    "can_decide",
    "can_deliver",
    "can_propose",
    "currency",
    "format_amount",
    "parse_amount",
    "remedy_approvers",
    "remedy_cancel",
    "remedy_decide",
    "remedy_mark_delivered",
    "remedy_propose",
    "within_authority",
]
