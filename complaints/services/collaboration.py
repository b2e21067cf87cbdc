"""Collaboration requests (跨部门协作): an agent asks a department a question about a
complaint; the department answers within its own deadline, in business time of its
calendar; an unanswered request past its deadline escalates to the department's
supervisor once.

The complaint's timeline shows the question and the answer (internal events whose
data names the request); the complaint itself does not change.

Lock order: the request row, then the complaint row, then escalation rows (the same
as escalation_open's complaint → escalation).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints import config_cache, permissions, roles
from complaints.businesstime import Calendar
from complaints.errors import (
    ActionForbidden,
    ComplaintConflict,
    InvalidInput,
    NotFound,
    TransitionRefused,
)
from complaints.models import (
    BusinessCalendar,
    CollaborationRequest,
    Complaint,
    ComplaintEvent,
    Escalation,
    Notification,
    Team,
)
from complaints.services import escalation as escalation_services
from complaints.services import inapp
from complaints.services.base import actor_user, record_event
from complaints.workflow import TERMINAL_STATES

Status = CollaborationRequest.Status
Kind = ComplaintEvent.Kind
QUESTION_MAX = 4000
ANSWER_MAX = 8000


def _conflict() -> ComplaintConflict:
    return ComplaintConflict(
        _("This request was changed by someone else in the meantime. Reload it and try again.")
    )


def _missing() -> NotFound:
    return NotFound(_("No such collaboration request, or you may not see it."))


# --- Who may do what --------------------------------------------------------------------


def department_ids_of(user: Any) -> frozenset[int]:
    """The departments the user answers for: member, supervisor or head (cached on the
    user per request)."""
    if not getattr(user, "is_authenticated", False) or roles.is_system(user):
        return frozenset()
    cached = getattr(user, "_department_ids", None)
    if cached is None:
        cached = config_cache.for_user(
            "departments",
            user,
            lambda: frozenset(
                Team.objects.filter(kind=Team.Kind.DEPARTMENT)
                .filter(Q(memberships__user=user) | Q(supervisor=user) | Q(head=user))
                .values_list("pk", flat=True)
                .distinct()
            ),
        )
        user._department_ids = cached
    return cached


def can_answer(user: Any, request: CollaborationRequest) -> bool:
    """The department's people answer; so may a supervisor."""
    if not getattr(user, "is_active", False) or roles.is_system(user):
        return False
    if not roles.is_staff_member(user):
        return False
    return roles.is_supervisor(user) or request.department_id in department_ids_of(user)


def can_cancel(user: Any, request: CollaborationRequest) -> bool:
    """Whoever may work on the complaint (the asker and their colleagues)."""
    return permissions.can_edit_complaint(user, request.complaint)


def can_ask(user: Any, complaint: Complaint) -> bool:
    return (
        not roles.is_system(user)
        and roles.is_staff_member(user)
        and permissions.can_edit_complaint(user, complaint)
    )


# --- Reading ------------------------------------------------------------------------------


def _with_related(qs: QuerySet[CollaborationRequest]) -> QuerySet[CollaborationRequest]:
    return qs.select_related("complaint__priority", "department", "asked_by", "answered_by")


def collaboration_requests_for_department_user(user: Any) -> QuerySet[CollaborationRequest]:
    """Requests to the departments the user belongs to (or supervises, or heads)."""
    departments = department_ids_of(user)
    if not departments:
        return CollaborationRequest.objects.none()
    return _with_related(CollaborationRequest.objects.filter(department_id__in=departments))


def collaboration_open_for(complaint: Complaint) -> QuerySet[CollaborationRequest]:
    """Who owes what on this complaint: its open requests, the soonest due first."""
    return (
        complaint.collaboration_requests.filter(status=Status.OPEN)
        .select_related("department", "asked_by")
        .order_by("due_at", "pk")
    )


def collaboration_requests_of(complaint: Complaint) -> QuerySet[CollaborationRequest]:
    """All requests of the complaint: open ones first (soonest due), then the rest."""
    return (
        complaint.collaboration_requests.select_related("department", "asked_by", "answered_by")
        .annotate(is_done=ExpressionWrapper(~Q(status=Status.OPEN), output_field=BooleanField()))
        .order_by("is_done", "due_at", "pk")
    )


def collaboration_departments() -> QuerySet[Team]:
    """The departments one may ask."""
    return Team.objects.filter(kind=Team.Kind.DEPARTMENT, is_active=True).order_by("name")


def collaboration_get_for_department_user(*, user: Any, pk: int | str) -> CollaborationRequest:
    """A request the user may answer (their department's, or any for a supervisor);
    NotFound for missing and forbidden alike."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise _missing() from None
    request = _with_related(CollaborationRequest.objects.filter(pk=pk)).first()
    if request is None or not can_answer(user, request):
        raise _missing()
    return request


def collaboration_get_for_user(*, user: Any, pk: int | str) -> CollaborationRequest:
    """A request on a complaint the user may see (the asking side); NotFound otherwise."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise _missing() from None
    request = _with_related(CollaborationRequest.objects.filter(pk=pk)).first()
    if request is None or not (
        roles.is_staff_member(user) and permissions.can_view_complaint(user, request.complaint)
    ):
        raise _missing()
    return request


# --- The deadline -------------------------------------------------------------------------


def department_calendar(department: Team) -> Calendar | None:
    """The department's calendar; without one the first calendar configured; None when
    there is no calendar at all (then the deadline is wall-clock time)."""
    model = None
    if department.calendar_id is not None:
        model = BusinessCalendar.objects.filter(pk=department.calendar_id).first()
    if model is None:
        model = BusinessCalendar.objects.order_by("pk").first()
    return Calendar.from_model(model) if model is not None else None


def collaboration_due_at(*, department: Team, start: datetime) -> datetime:
    duration = timedelta(minutes=department.collaboration_minutes)
    calendar = department_calendar(department)
    if calendar is not None:
        try:
            return calendar.add(start, duration)
        except ValueError:
            pass  # a calendar without working time: fall back to the wall clock
    return start + duration


# --- Writes -----------------------------------------------------------------------------


def _stage(row: CollaborationRequest, **values: Any) -> list[str]:
    """Set fields of a request in memory; returns their names for update_fields.

    (A request's status is its own, not the complaint's: the complaint's status
    only ever changes through its state machine.)
    """
    for name, value in values.items():
        setattr(row, name, value)
    return list(values)


def _save(row: CollaborationRequest, *, actor: Any, reason: str, fields: list[str]) -> None:
    row._history_user = actor_user(actor)
    row._change_reason = reason
    row.save(update_fields=fields)


def _copy(target: CollaborationRequest, source: CollaborationRequest) -> None:
    for field in CollaborationRequest._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))


def _summary(request: CollaborationRequest, action: str) -> dict[str, Any]:
    return {
        "collaboration": {
            "id": request.pk,
            "action": action,
            "department": {"id": request.department_id, "name": str(request.department)},
            "due_at": request.due_at.isoformat(),
        }
    }


def format_due(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _notify(people, *, actor: Any, complaint: Complaint, text: str) -> None:
    actor_pk = getattr(actor, "pk", None)
    seen = set()
    for person in people:
        if person is None or person.pk in seen or person.pk == actor_pk:
            continue
        seen.add(person.pk)
        inapp.notify(
            user=person, kind=Notification.Kind.COLLABORATION, complaint=complaint, text=text
        )


def _department_people(department: Team) -> list:
    people = list(department.members.filter(is_active=True).order_by("pk"))
    if department.supervisor_id is not None:
        people.append(department.supervisor)
    return people


def collaboration_ask(
    *, complaint: Complaint, actor: Any, department: Team, question: str
) -> CollaborationRequest:
    """Ask a department a question about the complaint; it must answer by the deadline
    of its own SLA (Team.collaboration_minutes, in business time)."""
    if not permissions.can_view_complaint(actor, complaint):
        raise NotFound()
    if not can_ask(actor, complaint):
        raise ActionForbidden(_("You may not ask a department about this complaint."))
    if department is None or department.kind != Team.Kind.DEPARTMENT or not department.is_active:
        raise InvalidInput(_("Choose an active collaborating department."))
    text = (question or "").strip()
    if not text:
        raise InvalidInput(_("Write the question for the department."))
    if len(text) > QUESTION_MAX:
        raise InvalidInput(
            _("The question is too long (at most %(max)d characters).") % {"max": QUESTION_MAX}
        )
    now = timezone.now()
    with transaction.atomic():
        request = CollaborationRequest(
            complaint=complaint,
            department=department,
            question=text,
            asked_by=actor,
            asked_at=now,
            due_at=collaboration_due_at(department=department, start=now),
        )
        request._history_user = actor
        request._change_reason = _("Asked")
        request.save()
        record_event(
            complaint,
            kind=Kind.NOTE_ADDED,
            actor=actor,
            internal=True,
            body=_("Question to %(department)s (answer due %(due)s): %(question)s")
            % {"department": department, "due": format_due(request.due_at), "question": text},
            data=_summary(request, "asked"),
            at=now,
        )
        _notify(
            _department_people(department),
            actor=actor,
            complaint=complaint,
            text=_("%(department)s is asked about %(number)s (answer by %(due)s): %(question)s")
            % {
                "department": department,
                "number": complaint.tracking_number,
                "due": format_due(request.due_at),
                "question": text,
            },
        )
    return request


def _locked_open(request: CollaborationRequest) -> CollaborationRequest:
    """The request under its row lock, refused if the caller's copy is stale or it is
    no longer open."""
    row = (
        CollaborationRequest.objects.select_for_update()
        .select_related("department", "asked_by")
        .filter(pk=request.pk)
        .first()
    )
    if row is None:
        raise _missing()
    if row.version != request.version:
        raise _conflict()
    if row.status != Status.OPEN:
        raise TransitionRefused(
            _("This request is no longer open: %(status)s.") % {"status": row.get_status_display()}
        )
    return row


def _settle_collaboration_escalation(complaint_id: int) -> None:
    """The overdue request that escalated was answered or withdrawn: with no overdue
    request left open on the complaint, its `collaboration` escalation is settled."""
    if CollaborationRequest.objects.filter(
        complaint_id=complaint_id, status=Status.OPEN, overdue_at__isnull=False
    ).exists():
        return
    escalation = Escalation.objects.filter(
        complaint_id=complaint_id,
        reason=Escalation.Reason.COLLABORATION,
        settled_at__isnull=True,
    ).first()
    if escalation is not None:
        escalation_services.escalation_settle(
            escalation=escalation,
            actor=roles.SYSTEM,
            settlement=_("The department answered, or the request was withdrawn."),
        )


def collaboration_answer(
    *, request: CollaborationRequest, actor: Any, answer: str
) -> CollaborationRequest:
    """The department answers: the answer goes on the complaint's timeline and the
    asker (and the complaint's assignee) hear of it."""
    if not can_answer(actor, request):
        if permissions.can_view_complaint(actor, request.complaint):
            raise ActionForbidden(
                _("Only %(department)s or a supervisor may answer this request.")
                % {"department": request.department}
            )
        raise _missing()
    text = (answer or "").strip()
    if not text:
        raise InvalidInput(_("Write the answer."))
    if len(text) > ANSWER_MAX:
        raise InvalidInput(
            _("The answer is too long (at most %(max)d characters).") % {"max": ANSWER_MAX}
        )
    now = timezone.now()
    with transaction.atomic():
        row = _locked_open(request)
        fields = _stage(
            row,
            status=Status.ANSWERED,
            answer=text,
            answered_by=actor,
            answered_at=now,
            version=row.version + 1,
        )
        _save(row, actor=actor, reason=_("Answered"), fields=fields)
        complaint = Complaint.objects.select_related("assignee").get(pk=row.complaint_id)
        record_event(
            complaint,
            kind=Kind.NOTE_ADDED,
            actor=actor,
            internal=True,
            body=_("Answer from %(department)s: %(answer)s")
            % {"department": row.department, "answer": text},
            data={
                **_summary(row, "answered"),
                "question": row.question[:500],
            },
            at=now,
        )
        _notify(
            [row.asked_by, complaint.assignee],
            actor=actor,
            complaint=complaint,
            text=_("%(department)s answered on %(number)s: %(answer)s")
            % {"department": row.department, "number": complaint.tracking_number, "answer": text},
        )
        if row.overdue_at is not None:
            _settle_collaboration_escalation(complaint.pk)
    _copy(request, row)
    return request


def collaboration_cancel(
    *, request: CollaborationRequest, actor: Any, reason: str = ""
) -> CollaborationRequest:
    """Withdraw an open request (the question no longer matters)."""
    if not permissions.can_view_complaint(actor, request.complaint):
        raise _missing()
    if not can_cancel(actor, request):
        raise ActionForbidden(_("You may not withdraw this request."))
    text = (reason or "").strip()
    now = timezone.now()
    with transaction.atomic():
        row = _locked_open(request)
        fields = _stage(row, status=Status.CANCELLED, version=row.version + 1)
        _save(row, actor=actor, reason=text or _("Cancelled"), fields=fields)
        complaint = Complaint.objects.get(pk=row.complaint_id)
        record_event(
            complaint,
            kind=Kind.NOTE_ADDED,
            actor=actor,
            internal=True,
            body=(
                _("Question to %(department)s withdrawn: %(reason)s")
                % {"department": row.department, "reason": text}
                if text
                else _("Question to %(department)s withdrawn.") % {"department": row.department}
            ),
            data=_summary(row, "cancelled"),
            at=now,
        )
        _notify(
            _department_people(row.department),
            actor=actor,
            complaint=complaint,
            text=_("The question to %(department)s on %(number)s was withdrawn.")
            % {"department": row.department, "number": complaint.tracking_number},
        )
        if row.overdue_at is not None:
            _settle_collaboration_escalation(complaint.pk)
    _copy(request, row)
    return request


# --- The sweep -----------------------------------------------------------------------------


def _mark_overdue(pk: int, now: datetime) -> bool:
    """Mark one request overdue and escalate it, in one transaction; False when another
    sweep (or an answer) got there first."""
    with transaction.atomic():
        # The conditional UPDATE is the guard: of two sweeps at once, one changes the
        # row, the other finds overdue_at set and does nothing.
        won = CollaborationRequest.objects.filter(
            pk=pk, status=Status.OPEN, overdue_at__isnull=True
        ).update(overdue_at=now)
        if not won:
            return False
        row = CollaborationRequest.objects.select_related("department__supervisor", "asked_by").get(
            pk=pk
        )
        # The UPDATE wrote no history row: write it, as set-based work must.
        CollaborationRequest.history.bulk_history_create(
            [row], update=True, default_change_reason=_("Overdue"), default_date=now
        )
        complaint = Complaint.objects.select_for_update().get(pk=row.complaint_id)
        if complaint.status in TERMINAL_STATES:
            return True
        note = _("%(department)s did not answer by %(due)s: %(question)s") % {
            "department": row.department,
            "due": format_due(row.due_at),
            "question": row.question[:200],
        }
        _escalation, opened = escalation_services.escalation_open_or_existing(
            complaint=complaint,
            actor=roles.SYSTEM,
            reason=Escalation.Reason.COLLABORATION,
            note=note,
            level=Escalation.Level.SUPERVISOR,
            at=now,
        )
        if not opened:
            # Already escalated for another department's request: this department's
            # supervisor hears of it all the same, and the timeline says so.
            record_event(
                complaint,
                kind=Kind.NOTE_ADDED,
                actor=roles.SYSTEM,
                internal=True,
                body=note,
                data=_summary(row, "overdue"),
                at=now,
            )
            supervisor = row.department.supervisor
            if supervisor is not None:
                inapp.notify(
                    user=supervisor,
                    kind=Notification.Kind.ESCALATED,
                    complaint=complaint,
                    text=note,
                )
    return True


def collaboration_sweep(*, now: datetime | None = None) -> int:
    """Mark open requests past their deadline overdue, once, and escalate each to its
    department's supervisor. Idempotent: run twice, or twice at once, a request is
    marked and escalated once. Returns how many were marked."""
    now = now or timezone.now()
    due = list(
        CollaborationRequest.objects.filter(
            status=Status.OPEN, overdue_at__isnull=True, due_at__lte=now
        )
        .order_by("due_at", "pk")
        .values_list("pk", flat=True)
    )
    return sum(int(_mark_overdue(pk, now)) for pk in due)
