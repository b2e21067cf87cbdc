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

Lock order, everywhere a complaint and its call-back are both written: the
complaint's row first, then the call-back's (the survey and the transitions lock the
complaint and then update its call-backs), so two writers wait, never deadlock.

The reads of the Call-backs screen and the detail page's panel are at the end.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
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
# The Call-backs screen's "finished recently" tab goes this far back.
RECENT_DAYS = 7
TABS = ("due", "later", "mine", "finished")


def after_days() -> int:
    return int(getattr(settings, "COMPLAINT_CALLBACK_AFTER_DAYS", 3))


def max_attempts() -> int:
    return max(1, int(getattr(settings, "COMPLAINT_CALLBACK_MAX_ATTEMPTS", 3)))


def retry_after() -> timedelta:
    return timedelta(hours=int(getattr(settings, "COMPLAINT_CALLBACK_RETRY_HOURS", 4)))


# --- Opening ------------------------------------------------------------------------------


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
    return _open(complaint, now or timezone.now())[0]


def _open(complaint: Complaint, now: datetime) -> tuple[CallbackTask, bool]:
    """(the call-back of the current round, whether this call opened it)."""
    with transaction.atomic():
        # Read the complaint again under its lock: the sweep's list may be stale (the
        # survey answered, the complaint reopened or closed since).
        row = (
            Complaint.objects.select_for_update()
            .filter(pk=complaint.pk)
            .values("status", "reopen_count")
            .first()
        )
        if row is None:
            raise NotFound()
        cycle = row["reopen_count"]
        existing = CallbackTask.objects.filter(complaint_id=complaint.pk, cycle=cycle).first()
        if existing is not None:
            return existing, False
        if row["status"] != ComplaintStatus.RESOLVED:
            raise TransitionRefused(_("Only a resolved complaint waits for a call-back."))
        if SurveyResponse.objects.filter(complaint_id=complaint.pk, cycle=cycle).exists():
            raise TransitionRefused(_("The customer answered the survey: no call-back."))
        try:
            with transaction.atomic():
                task = CallbackTask.objects.create(
                    complaint=complaint,
                    cycle=cycle,
                    created_at=now,
                    next_attempt_at=now,
                    assignee_id=complaint.assignee_id,
                )
        except IntegrityError:
            # Opened by another sweep between our read and our insert (SQLite, or a
            # complaint row that was not locked): theirs is the one.
            return CallbackTask.objects.get(complaint_id=complaint.pk, cycle=cycle), False
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
    return task, True


def callbacks_due_sweep(*, now: datetime | None = None) -> int:
    """Open the call-backs that are due; returns how many this run opened."""
    now = now or timezone.now()
    opened = 0
    due = due_complaints(now).select_related("assignee").order_by("resolved_at", "pk")
    for complaint in due[:SWEEP_BATCH]:
        try:
            _task, created = _open(complaint, now)
        except ServiceError:
            # Moved on since the list was read (answered, closed, reopened, deleted).
            continue
        opened += int(created)
    return opened


# --- Recording a call --------------------------------------------------------------------


def can_record_callbacks(user: Any) -> bool:
    """Agents and supervisors call customers back (on complaints they may see)."""
    return roles.is_agent(user) or roles.is_supervisor(user)


def _check_may_call(actor: Any, complaint: Complaint) -> None:
    if not permissions.can_view_complaint(actor, complaint):
        raise NotFound()
    if not can_record_callbacks(actor):
        raise ActionForbidden(_("Only agents and supervisors record call-backs."))


def _clean(result: str, note: str) -> str:
    if result not in CallbackResult.values:
        message = _("Choose how the call went.")
        raise InvalidInput(message, fields={"result": [message]})
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        message = _("The note is too long (at most %(n)d characters).") % {"n": MAX_NOTE}
        raise InvalidInput(message, fields={"note": [message]})
    return note


def callback_record(
    *,
    task: CallbackTask,
    actor: Any,
    result: str,
    note: str = "",
    expected_attempts: int | None = None,
) -> CallbackAttempt:
    """Record one call to the customer and act on it (see the module docstring).

    `expected_attempts`, when given, is the number of failed attempts the caller saw:
    if someone recorded a call since, the call is refused rather than counted twice.
    """
    note = _clean(result, note)
    complaint = task.complaint
    _check_may_call(actor, complaint)
    now = timezone.now()
    try:
        with transaction.atomic():
            # The complaint first, then the call-back (see the module docstring).
            if not Complaint.objects.select_for_update().filter(pk=complaint.pk).exists():
                raise NotFound()
            complaint.refresh_from_db()
            current = CallbackTask.objects.select_for_update().get(pk=task.pk)
            if (
                current.status != Status.OPEN
                or complaint.status != ComplaintStatus.RESOLVED
                or complaint.reopen_count != current.cycle
            ):
                raise TransitionRefused(
                    _("This call-back is finished already; the page was out of date.")
                )
            if expected_attempts is not None and expected_attempts != current.attempts:
                raise TransitionRefused(
                    _("Someone recorded a call meanwhile; the page was out of date.")
                )
            attempt = _apply(current, complaint, actor=actor, result=result, note=note, now=now)
    except Exception:
        # Rolled back: the in-memory copies may be ahead of the rows.
        with contextlib.suppress(Complaint.DoesNotExist):
            complaint.refresh_from_db()
        with contextlib.suppress(CallbackTask.DoesNotExist):
            task.refresh_from_db()
        raise
    task.refresh_from_db()
    return attempt


def _apply(
    task: CallbackTask, complaint: Complaint, *, actor: Any, result: str, note: str, now
) -> CallbackAttempt:
    """Inside callback_record's transaction, with both rows locked."""
    from complaints.services.escalation import escalation_open
    from complaints.services.transitions import complaint_close, complaint_reopen

    attempt = CallbackAttempt.objects.create(
        task=task, result=result, note=note, actor=actor, at=now
    )
    task.assignee = actor
    if result == CallbackResult.NOT_REACHED:
        task.attempts += 1
        summary = _("Call-back: not reached (attempt %(n)d of %(max)d)") % {
            "n": task.attempts,
            "max": max_attempts(),
        }
        if task.attempts >= max_attempts():
            _finish(task, Outcome.NO_RESPONSE, now)
        else:
            task.next_attempt_at = now + retry_after()
            task.save(update_fields=["assignee", "attempts", "next_attempt_at"])
    elif result == CallbackResult.REACHED_SATISFIED:
        summary = _("Call-back: reached, the customer is satisfied")
        _finish(task, Outcome.SATISFIED, now)
    else:
        summary = _("Call-back: reached, the customer is not satisfied")
        _finish(task, Outcome.UNSATISFIED, now)
    record_event(
        complaint,
        kind=ComplaintEvent.Kind.CALLBACK,
        actor=actor,
        body=f"{summary}: {note}" if note else summary,
        data={"callback": task.pk, "result": result, "attempts": task.attempts},
        at=now,
    )
    if task.outcome == Outcome.SATISFIED:
        complaint_close(
            complaint=complaint,
            actor=roles.SYSTEM,
            outcome=LoopOutcome.CALLBACK,
            reason=_("Call-back by %(name)s: the customer is satisfied.") % {"name": actor},
        )
    elif task.outcome == Outcome.NO_RESPONSE:
        complaint_close(
            complaint=complaint,
            actor=roles.SYSTEM,
            outcome=LoopOutcome.NO_RESPONSE,
            reason=_("No response after %(n)d call-back attempts.") % {"n": task.attempts},
        )
    elif task.outcome == Outcome.UNSATISFIED:
        reason = _("Call-back by %(name)s: the customer is not satisfied.") % {"name": actor}
        if note:
            reason = f"{reason} {note}"
        complaint_reopen(complaint=complaint, actor=roles.SYSTEM, reason=reason)
        escalation_open(
            complaint=complaint,
            actor=roles.SYSTEM,
            reason=Escalation.Reason.UNSATISFIED,
            note=note,
        )
    return attempt


def _finish(task: CallbackTask, outcome: str, now: datetime) -> None:
    task.status = Status.DONE
    task.outcome = outcome
    task.finished_at = now
    task.save(update_fields=["assignee", "attempts", "status", "outcome", "finished_at"])


def callbacks_overtaken(*, complaint: Complaint) -> int:
    """Cancel the complaint's open call-backs: the survey was answered, or the
    complaint was closed or reopened another way. Returns how many."""
    return CallbackTask.objects.filter(complaint=complaint, status=Status.OPEN).update(
        status=Status.CANCELLED, outcome=Outcome.OVERTAKEN, finished_at=timezone.now()
    )


# --- Reads --------------------------------------------------------------------------------


def callbacks_visible_to(user: Any) -> QuerySet[CallbackTask]:
    """The call-backs of the complaints the user may see."""
    from complaints.selectors import complaints_visible_to

    if permissions.visibility_filter(user) is None:
        return CallbackTask.objects.all()
    return CallbackTask.objects.filter(complaint__in=complaints_visible_to(user))


def callback_get_for_user(*, user: Any, pk: int | str) -> CallbackTask:
    """The call-back with its complaint, or NotFound for missing and forbidden alike."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound() from None
    task = (
        callbacks_visible_to(user)
        .select_related("complaint__customer", "complaint__assignee")
        .filter(pk=pk)
        .first()
    )
    if task is None:
        raise NotFound()
    return task


def _tab_conditions(user: Any, now: datetime) -> dict[str, Q]:
    is_open = Q(status=Status.OPEN)
    return {
        "due": is_open & Q(next_attempt_at__lte=now),
        "later": is_open & Q(next_attempt_at__gt=now),
        "mine": is_open & Q(assignee_id=user.pk),
        "finished": ~is_open & Q(finished_at__gte=now - timedelta(days=RECENT_DAYS)),
    }


def callbacks_queue(*, user: Any, tab: str, now: datetime | None = None) -> QuerySet[CallbackTask]:
    """One tab of the Call-backs screen: open ones the soonest due first, finished ones
    the latest first."""
    now = now or timezone.now()
    condition = _tab_conditions(user, now)[tab if tab in TABS else "due"]
    order = ("-finished_at", "-pk") if tab == "finished" else ("next_attempt_at", "pk")
    return (
        callbacks_visible_to(user)
        .filter(condition)
        .select_related("complaint__customer", "assignee")
        .order_by(*order)
    )


def callbacks_tab_counts(*, user: Any, now: datetime | None = None) -> dict[str, int]:
    """How many call-backs each tab holds, in one query."""
    now = now or timezone.now()
    counts = callbacks_visible_to(user).aggregate(
        **{tab: Count("pk", filter=q) for tab, q in _tab_conditions(user, now).items()}
    )
    return {tab: counts[tab] or 0 for tab in TABS}


def callbacks_due_count(user: Any, now: datetime | None = None) -> int:
    """Open call-backs due now on complaints the user may see (0 for who may not call)."""
    if not can_record_callbacks(user):
        return 0
    now = now or timezone.now()
    return callbacks_visible_to(user).filter(status=Status.OPEN, next_attempt_at__lte=now).count()


def callback_latest_of(complaint: Complaint) -> CallbackTask | None:
    """The complaint's call-back of the latest round that has one (None: never called)."""
    return (
        CallbackTask.objects.filter(complaint_id=complaint.pk)
        .select_related("assignee")
        .order_by("-cycle")
        .first()
    )


def callback_attempts_of(task: CallbackTask) -> QuerySet[CallbackAttempt]:
    return task.attempt_log.select_related("actor").order_by("at", "pk")
