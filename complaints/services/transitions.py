"""Every change of a complaint's status goes through here.

For each transition: check the actor may see the complaint, check the transition
is offered from this status to this actor, stage its inputs, check its conditions,
run it, save once (one history row), write the StatusChange row and the timeline
event, and after commit queue the notification. A refusal leaves the database and
the in-memory complaint as they were.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints import permissions, roles
from complaints.errors import (
    ActionForbidden,
    InvalidInput,
    NotFound,
    ServiceError,
    TransitionRefused,
)
from complaints.models import (
    Complaint,
    ComplaintEvent,
    LoopOutcome,
    Notification,
    RootCause,
    StatusChange,
)
from complaints.services import audit, inapp, notifications, routing, sla, triage, webhooks
from complaints.services.base import (
    actor_user,
    display_value,
    locked,
    record_event,
    restore,
    save_complaint,
    snapshot,
)
from complaints.workflow import ComplaintStatus, failed_conditions, rule_for

Kind = ComplaintEvent.Kind


def _status_label(value: str) -> str:
    return str(ComplaintStatus(value).label) if value in ComplaintStatus.values else value


def _perform(
    *,
    complaint: Complaint,
    name: str,
    actor: Any,
    reason: str = "",
    stage: Callable[[Complaint], None] | None = None,
    event_kind: str = Kind.STATUS_CHANGED,
    event_body: str = "",
    event_internal: bool = True,
    event_data: dict | None = None,
    after: Callable[[Complaint, StatusChange], None] | None = None,
) -> StatusChange:
    rule = rule_for(name)
    if not permissions.can_view_complaint(actor, complaint):
        raise NotFound()
    before = snapshot(complaint)
    try:
        with transaction.atomic(), locked(complaint):
            from_status = complaint.status
            if from_status not in rule.sources:
                raise TransitionRefused(
                    _("A complaint that is “%(status)s” cannot be changed by “%(action)s”.")
                    % {"status": _status_label(from_status), "action": rule.label}
                )
            if not rule.permission(complaint, actor):
                raise ActionForbidden(
                    _("Only %(who)s may use “%(action)s” on this complaint.")
                    % {"who": rule.who, "action": rule.label}
                )
            complaint.status_reason = (reason or "").strip()
            if from_status == ComplaintStatus.AWAITING_CUSTOMER:
                sla.resume_clock(complaint, timezone.now())
            if stage is not None:
                stage(complaint)
            failed = failed_conditions(complaint, name)
            if failed:
                raise TransitionRefused(
                    _("“%(action)s” is not possible yet. Required:") % {"action": rule.label},
                    reasons=failed,
                )
            getattr(complaint, name)()
            history_reason = complaint.status_reason or str(rule.label)
            changed = save_complaint(complaint, actor=actor, reason=history_reason, before=before)
            change = StatusChange(
                complaint=complaint,
                transition=name,
                from_status=from_status,
                to_status=complaint.status,
                actor=actor_user(actor),
                reason=complaint.status_reason,
                created_at=timezone.now(),
            )
            # Chained to the previous row's hash, read under the lock locked() holds.
            audit.status_change_seal(change)
            change.save()
            data = {
                "transition": name,
                "from": from_status,
                "to": complaint.status,
                "changes": {
                    f: display_value(complaint, f) for f in changed if f != "status_reason"
                },
                **(event_data or {}),
            }
            record_event(
                complaint,
                kind=event_kind,
                actor=actor,
                body=event_body or complaint.status_reason,
                internal=event_internal,
                data=data,
                at=change.created_at,
            )
            if after is not None:
                after(complaint, change)
            _queue_notification(change)
    except ServiceError:
        if complaint.status != before["status"]:
            # The transition ran but its save failed: the copy is stale, reload it.
            complaint.refresh_from_db()
        else:
            restore(complaint, before)
        raise
    return change


def _queue_notification(change: StatusChange) -> None:
    # Into the outbox with this transaction; delivered after commit.
    notifications.status_change_send(change=change)
    webhooks.webhook_status_changed(change=change)


def _tell_new_assignee(actor: Any) -> Callable[[Complaint, StatusChange], None]:
    def after(complaint: Complaint, change: StatusChange) -> None:
        assignee = complaint.assignee
        if assignee is not None and assignee.pk != getattr(actor, "pk", None):
            inapp.notify(
                user=assignee,
                kind=Notification.Kind.ASSIGNED,
                complaint=complaint,
                text=_("%(number)s was assigned to you: %(title)s")
                % {"number": complaint.tracking_number, "title": complaint.title},
            )

    return after


def _require_text(value: str | None, message: str) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidInput(message)
    return text


# --- One service per transition ---------------------------------------------------------


def complaint_triage(
    *,
    complaint: Complaint,
    actor: Any,
    category,
    priority,
    product=None,
    team=None,
    reason: str = "",
) -> StatusChange:
    def stage(c: Complaint) -> None:
        c.category = category
        c.priority = priority
        if product is not None:
            c.product = product
        chosen = team or routing.route(
            category=category,
            product=c.product,
            channel=c.channel,
            customer_tier=c.customer.tier,
        )
        if chosen is not None:
            c.team = chosen
        sla.set_deadlines(c)

    def after(c: Complaint, change: StatusChange) -> None:
        # Did the agent keep what keyword triage proposed? (accuracy per rule)
        triage.triage_mark_kept(complaint=c)

    return _perform(
        complaint=complaint, name="triage", actor=actor, reason=reason, stage=stage, after=after
    )


def complaint_assign(
    *, complaint: Complaint, actor: Any, assignee, team=None, reason: str = ""
) -> StatusChange:
    def stage(c: Complaint) -> None:
        if assignee is None:
            raise InvalidInput(_("Choose who takes the complaint."))
        if not permissions.can_assign_to(actor, assignee):
            raise ActionForbidden(_("Agents may only claim a complaint for themselves."))
        if team is not None:
            c.team = team
        c.assignee = assignee

    return _perform(
        complaint=complaint,
        name="assign",
        actor=actor,
        reason=reason,
        stage=stage,
        event_kind=Kind.ASSIGNED,
        event_data={"assignee": {"id": assignee.pk, "name": str(assignee)} if assignee else None},
        after=_tell_new_assignee(actor),
    )


def complaint_claim(*, complaint: Complaint, actor: Any) -> StatusChange:
    return complaint_assign(complaint=complaint, actor=actor, assignee=actor)


def complaint_start(*, complaint: Complaint, actor: Any) -> StatusChange:
    return _perform(complaint=complaint, name="start", actor=actor)


def complaint_await_customer(*, complaint: Complaint, actor: Any, question: str) -> StatusChange:
    """Put a question to the customer; the SLA clock pauses until they answer."""
    question = _require_text(question, _("Write the question to put to the customer."))

    def stage(c: Complaint) -> None:
        if c.first_response_at is None:
            c.first_response_at = timezone.now()

    return _perform(
        complaint=complaint,
        name="await_customer",
        actor=actor,
        reason=question,
        stage=stage,
        event_kind=Kind.REPLY_SENT,
        event_body=question,
        event_internal=False,
    )


def complaint_resume(*, complaint: Complaint, actor: Any, reason: str = "") -> StatusChange:
    return _perform(complaint=complaint, name="resume", actor=actor, reason=reason)


def complaint_reassign(*, complaint: Complaint, actor: Any, assignee, reason: str) -> StatusChange:
    previous = complaint.assignee

    def stage(c: Complaint) -> None:
        # Checked here, after the permission check, so a user who may not reassign
        # hears that first.
        if assignee is None:
            raise InvalidInput(_("Choose who takes the complaint over."))
        if assignee.pk == c.assignee_id:
            raise InvalidInput(
                _("The complaint is already assigned to %(name)s.") % {"name": assignee}
            )
        c.assignee = assignee

    return _perform(
        complaint=complaint,
        name="reassign",
        actor=actor,
        reason=reason,
        stage=stage,
        event_kind=Kind.REASSIGNED,
        event_data={
            "from_assignee": {"id": previous.pk, "name": str(previous)} if previous else None,
            "assignee": {"id": assignee.pk, "name": str(assignee)} if assignee else None,
        },
        after=_tell_new_assignee(actor),
    )


def complaint_release(*, complaint: Complaint, actor: Any, reason: str) -> StatusChange:
    """Hand the complaint back to its team's queue."""
    return _perform(complaint=complaint, name="release", actor=actor, reason=reason)


def complaint_resolve(
    *,
    complaint: Complaint,
    actor: Any,
    summary: str,
    root_cause: str,
    remedy: str,
    told_customer: bool = False,
) -> StatusChange:
    """Resolve, and tell the customer the result: by the notification this transition
    queues when they have an email address or phone number, or, when they have
    neither, by the agent confirming they told them (`told_customer`)."""
    if root_cause and root_cause not in RootCause.values:
        raise InvalidInput(_("Unknown root cause: %(value)s.") % {"value": root_cause})

    def stage(c: Complaint) -> None:
        c.resolution_summary = (summary or "").strip()
        c.root_cause = root_cause or ""
        c.remedy_decision = (remedy or "").strip()
        now = timezone.now()
        if c.first_response_at is None:
            c.first_response_at = now
        reachable = notifications.can_reach(c.customer)
        c.customer_notified_at = now if reachable or told_customer else None

    return _perform(
        complaint=complaint,
        name="resolve",
        actor=actor,
        stage=stage,
        event_body=(summary or "").strip(),
        event_internal=False,
    )


def complaint_close(
    *, complaint: Complaint, actor: Any, reason: str, outcome: str | None = None
) -> StatusChange:
    """Close a resolved complaint: the loop is complete.

    The system closes with the `outcome` that completed the loop (the survey, a
    call-back, no response after the call-backs); a supervisor closes without one,
    as an override that needs a reason.
    """
    if roles.is_system(actor):
        if outcome not in LoopOutcome.values or outcome == LoopOutcome.OVERRIDE:
            raise InvalidInput(_("The system closes a complaint only with the loop's outcome."))
        loop_outcome = outcome
    else:
        loop_outcome = LoopOutcome.OVERRIDE

    def stage(c: Complaint) -> None:
        c.loop_outcome = loop_outcome

    return _perform(
        complaint=complaint,
        name="close",
        actor=actor,
        reason=reason,
        stage=stage,
        event_data={"loop_outcome": loop_outcome},
        after=_overtake_callbacks,
    )


def _overtake_callbacks(complaint: Complaint, change: StatusChange) -> None:
    from complaints.services.callbacks import callbacks_overtaken

    callbacks_overtaken(complaint=complaint)


def complaint_reopen(*, complaint: Complaint, actor: Any, reason: str) -> StatusChange:
    # Second handling is a new cycle: its clock starts now, not at the first receipt.
    return _perform(
        complaint=complaint,
        name="reopen",
        actor=actor,
        reason=reason,
        stage=lambda c: sla.restart_clock(c, timezone.now()),
        after=_overtake_callbacks,
    )


def complaint_reject(
    *, complaint: Complaint, actor: Any, reason: str, recourse: str
) -> StatusChange:
    def stage(c: Complaint) -> None:
        c.recourse = (recourse or "").strip()

    return _perform(
        complaint=complaint,
        name="reject",
        actor=actor,
        reason=reason,
        stage=stage,
        event_internal=False,
    )


def complaint_merge(
    *, complaint: Complaint, actor: Any, target: Complaint, reason: str = ""
) -> StatusChange:
    """Merge `complaint` into `target` (the same customer's same problem)."""
    if target is None or not permissions.can_view_complaint(actor, target):
        raise InvalidInput(_("Choose an open complaint to merge into."))

    def stage(c: Complaint) -> None:
        # Read the target again inside this transaction (locked on PostgreSQL): it may
        # have been closed or merged since the caller loaded it.
        c.merged_into = Complaint.objects.select_for_update().get(pk=target.pk)

    def note_on_target(c: Complaint, change: StatusChange) -> None:
        record_event(
            c.merged_into,
            kind=Kind.MERGED,
            actor=actor,
            body=change.reason,
            data={"merged": {"id": c.pk, "tracking_number": c.tracking_number}},
            at=change.created_at,
        )

    with transaction.atomic():
        # Both rows locked first, in one order (by id): two opposite merges at once wait
        # for each other instead of deadlocking, and the second then finds its target
        # merged (a refusal in words, not a database error).
        list(
            Complaint.objects.select_for_update()
            .filter(pk__in=[complaint.pk, target.pk])
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        return _perform(
            complaint=complaint,
            name="merge",
            actor=actor,
            reason=reason or _("Merged into %(number)s") % {"number": target.tracking_number},
            stage=stage,
            event_kind=Kind.MERGED,
            event_data={
                "merged_into": {"id": target.pk, "tracking_number": target.tracking_number}
            },
            after=note_on_target,
        )


# For callers that pick the transition by name (the admin, the API, forms).
SERVICES: dict[str, Callable[..., StatusChange]] = {
    "triage": complaint_triage,
    "assign": complaint_assign,
    "start": complaint_start,
    "await_customer": complaint_await_customer,
    "resume": complaint_resume,
    "reassign": complaint_reassign,
    "release": complaint_release,
    "resolve": complaint_resolve,
    "close": complaint_close,
    "reopen": complaint_reopen,
    "reject": complaint_reject,
    "merge": complaint_merge,
}


def complaint_transition(
    *, complaint: Complaint, actor: Any, name: str, **inputs: Any
) -> StatusChange:
    try:
        service = SERVICES[name]
    except KeyError:
        raise InvalidInput(_("Unknown action: %(name)s.") % {"name": name}) from None
    unexpected = set(inputs) - set(rule_for(name).inputs)
    if unexpected:
        raise InvalidInput(
            _("“%(action)s” does not take: %(fields)s.")
            % {"action": rule_for(name).label, "fields": ", ".join(sorted(unexpected))}
        )
    return service(complaint=complaint, actor=actor, **inputs)
