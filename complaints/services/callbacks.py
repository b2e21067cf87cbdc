"""Call-backs (回访): the customer did not answer the satisfaction survey, so an agent
calls them.

- `callbacks_due_sweep` (a periodic task) opens a call-back for every resolved
  complaint whose survey is unanswered COMPLAINT_CALLBACK_AFTER_DAYS after the
  resolution: one per complaint and handling round (a database constraint, so two
  sweeps at once open one).
- `callback_record` records an attempt: reached and satisfied closes the complaint
  (loop outcome "call-back"); reached and not satisfied reopens it and escalates
  to the supervisor (二次处理), like an unsatisfied survey; not reached counts a
  failed attempt, and the COMPLAINT_CALLBACK_MAX_ATTEMPTS-th closes the complaint
  with "no response".
- A survey answer or a reopening meanwhile overtakes the call-back
  (`callbacks_overtaken`, called by the close and reopen services).
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints import permissions, roles
from complaints.errors import ActionForbidden, InvalidInput, NotFound, TransitionRefused
from complaints.models import (
    CallbackAttempt,
    CallbackResult,
    CallbackTask,
    Complaint,
    ComplaintEvent,
    Escalation,
    LoopOutcome,
    Notification,
    SurveyResponse,
)
from complaints.services import inapp
from complaints.services.base import record_event
from complaints.workflow import ComplaintStatus

Status = CallbackTask.Status
Outcome = CallbackTask.Outcome
MAX_NOTE = 2000
# At most this many call-backs opened per sweep; the next sweep takes the rest.
SWEEP_BATCH = 1000


def after_days() -> int:
    return int(getattr(settings, "COMPLAINT_CALLBACK_AFTER_DAYS", 3))


def max_attempts() -> int:
    return max(1, int(getattr(settings, "COMPLAINT_CALLBACK_MAX_ATTEMPTS", 3)))


def retry_after() -> timedelta:
    return timedelta(hours=int(getattr(settings, "COMPLAINT_CALLBACK_RETRY_HOURS", 4)))


def due_complaints(now: datetime):
    """Resolved complaints whose current round has neither a survey answer nor a
    call-back, resolved at least `after_days()` ago."""
    answered = SurveyResponse.objects.filter(
        complaint_id=OuterRef("pk"), cycle=OuterRef("reopen_count")
    )
    called = CallbackTask.objects.filter(
        complaint_id=OuterRef("pk"), cycle=OuterRef("reopen_count")
    )
    return Complaint.objects.filter(
        status=ComplaintStatus.RESOLVED,
        resolved_at__lte=now - timedelta(days=after_days()),
    ).filter(~Exists(answered), ~Exists(called))


def callback_open(*, complaint: Complaint, now: datetime | None = None) -> CallbackTask:
    """The call-back for the complaint's current round, opened if there is none."""
    now = now or timezone.now()
    if complaint.status != ComplaintStatus.RESOLVED:
        raise TransitionRefused(_("Only a resolved complaint waits for a call-back."))
    with transaction.atomic():
        try:
            with transaction.atomic():
                task, created = CallbackTask.objects.get_or_create(
                    complaint=complaint,
                    cycle=complaint.reopen_count,
                    defaults={
                        "created_at": now,
                        "next_attempt_at": now,
                        "assignee_id": complaint.assignee_id,
                    },
                )
        except IntegrityError:
            # Another sweep opened it between our read and our insert.
            return CallbackTask.objects.get(complaint=complaint, cycle=complaint.reopen_count)
        if created:
            record_event(
                complaint,
                kind=ComplaintEvent.Kind.CALLBACK,
                actor=None,
                body=_("No survey answer yet: a call-back to the customer is due."),
                data={"callback": task.pk, "opened": True},
                at=now,
            )
            if complaint.assignee_id is not None:
                inapp.notify(
                    user=complaint.assignee,
                    kind=Notification.Kind.CALLBACK,
                    complaint=complaint,
                    text=_("Call the customer of %(number)s back: no survey answer.")
                    % {"number": complaint.tracking_number},
                )
    return task


def callbacks_due_sweep(*, now: datetime | None = None) -> int:
    """Open the call-backs that are due; returns how many were opened."""
    now = now or timezone.now()
    opened = 0
    due = due_complaints(now).select_related("assignee").order_by("resolved_at", "pk")
    for complaint in due[:SWEEP_BATCH]:
        try:
            task = callback_open(complaint=complaint, now=now)
        except TransitionRefused:
            continue
        opened += int(task.created_at == now)
    return opened


def callbacks_visible_to(user: Any):
    """The call-backs of the complaints the user may see."""
    from complaints.selectors import complaints_visible_to

    return CallbackTask.objects.filter(complaint__in=complaints_visible_to(user))


def _check_may_call(actor: Any, complaint: Complaint) -> None:
    if not permissions.can_view_complaint(actor, complaint):
        raise NotFound()
    if not (roles.is_agent(actor) or roles.is_supervisor(actor)):
        raise ActionForbidden(_("Only agents and supervisors record call-backs."))


def callback_record(
    *, task: CallbackTask, actor: Any, result: str, note: str = ""
) -> CallbackAttempt:
    """Record one call to the customer and act on it (see the module docstring)."""
    from complaints.services.escalation import escalation_open
    from complaints.services.transitions import complaint_close, complaint_reopen

    if result not in CallbackResult.values:
        message = _("Choose how the call went.")
        raise InvalidInput(message, fields={"result": [message]})
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        message = _("The note is too long (at most %(n)d characters).") % {"n": MAX_NOTE}
        raise InvalidInput(message, fields={"note": [message]})
    complaint = task.complaint
    _check_may_call(actor, complaint)
    now = timezone.now()
    try:
        with transaction.atomic():
            current = CallbackTask.objects.select_for_update().get(pk=task.pk)
            complaint.refresh_from_db()
            if (
                current.status != Status.OPEN
                or complaint.status != ComplaintStatus.RESOLVED
                or complaint.reopen_count != current.cycle
            ):
                raise TransitionRefused(
                    _("This call-back is finished already; the page was out of date.")
                )
            attempt = CallbackAttempt.objects.create(
                task=current, result=result, note=note, actor=actor, at=now
            )
            current.assignee = actor
            label = CallbackResult(result).label
            body = f"{label}: {note}" if note else str(label)
            if result == CallbackResult.NOT_REACHED:
                current.attempts += 1
                if current.attempts >= max_attempts():
                    _finish(current, Outcome.NO_RESPONSE, now)
                else:
                    current.next_attempt_at = now + retry_after()
                    current.save()
            else:
                outcome = (
                    Outcome.SATISFIED
                    if result == CallbackResult.REACHED_SATISFIED
                    else Outcome.UNSATISFIED
                )
                _finish(current, outcome, now)
            record_event(
                complaint,
                kind=ComplaintEvent.Kind.CALLBACK,
                actor=actor,
                body=body,
                data={
                    "callback": current.pk,
                    "result": result,
                    "attempts": current.attempts,
                },
                at=now,
            )
            if current.outcome == Outcome.SATISFIED:
                complaint_close(
                    complaint=complaint,
                    actor=roles.SYSTEM,
                    outcome=LoopOutcome.CALLBACK,
                    reason=_("Call-back by %(name)s: the customer is satisfied.")
                    % {"name": actor},
                )
            elif current.outcome == Outcome.NO_RESPONSE:
                complaint_close(
                    complaint=complaint,
                    actor=roles.SYSTEM,
                    outcome=LoopOutcome.NO_RESPONSE,
                    reason=_("No response after %(n)d call-back attempts.")
                    % {"n": current.attempts},
                )
            elif current.outcome == Outcome.UNSATISFIED:
                reason = _("Call-back by %(name)s: the customer is not satisfied.") % {
                    "name": actor
                }
                if note:
                    reason = f"{reason} {note}"
                complaint_reopen(complaint=complaint, actor=roles.SYSTEM, reason=reason)
                escalation_open(
                    complaint=complaint,
                    actor=roles.SYSTEM,
                    reason=Escalation.Reason.UNSATISFIED,
                    note=note,
                )
    except Exception:
        with contextlib.suppress(Complaint.DoesNotExist):
            complaint.refresh_from_db()
        with contextlib.suppress(CallbackTask.DoesNotExist):
            task.refresh_from_db()
        raise
    task.refresh_from_db()
    return attempt


def _finish(task: CallbackTask, outcome: str, now: datetime) -> None:
    task.status = Status.DONE
    task.outcome = outcome
    task.finished_at = now
    task.save()


def callbacks_overtaken(*, complaint: Complaint) -> int:
    """Cancel the complaint's open call-backs: the survey was answered, or the
    complaint was closed or reopened another way. Returns how many."""
    return CallbackTask.objects.filter(complaint=complaint, status=Status.OPEN).update(
        status=Status.CANCELLED, outcome=Outcome.OVERTAKEN, finished_at=timezone.now()
    )
