"""Escalations: orthogonal to the lifecycle, they put a complaint in front of the
people above its handler.

The ladder: level 1 the team's supervisor, level 2 the team's head, level 3
management (the Admin group). An unsettled escalation climbs one level when its
`climb_at` passes (EscalationStep: minutes per priority and level, wall clock: an
escalation is urgent at night too). The complaint's `escalation_level` is the highest
level of its open escalations, 0 when none is open; it changes only through
`save_complaint` under `locked()`, like every complaint field.

Lock order, everywhere: the complaint row first, then the escalation row (no
deadlock between a climb and a settlement on PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Max, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints import permissions, roles
from complaints.errors import ActionForbidden, InvalidInput, NotFound
from complaints.models import (
    CollaborationRequest,
    Complaint,
    ComplaintEvent,
    Escalation,
    EscalationStep,
    Notification,
    Team,
)
from complaints.services import inapp, webhooks
from complaints.services.base import (
    actor_user,
    locked,
    record_event,
    restore,
    save_complaint,
    snapshot,
)
from complaints.workflow import TERMINAL_STATES

Reason = Escalation.Reason
Level = Escalation.Level
Kind = ComplaintEvent.Kind
MAX_LEVEL = max(Level.values)
# What staff may raise by hand; SLA breaches and overdue collaboration are the system's.
MANUAL_REASONS = (Reason.MANUAL, Reason.VIP, Reason.REPEAT, Reason.UNSATISFIED)


# --- Reading ------------------------------------------------------------------------------


def escalations_visible_to(user: Any) -> QuerySet[Escalation]:
    qs = Escalation.objects.all()
    condition = permissions.visibility_filter(user)
    if condition is None:
        return qs
    return qs.filter(complaint__in=Complaint.objects.filter(condition))


def escalations_open_for_user(user: Any) -> QuerySet[Escalation]:
    """Open escalations the user may see, the oldest first (the Escalations screen)."""
    return (
        escalations_visible_to(user)
        .filter(settled_at__isnull=True)
        .select_related(
            "complaint__priority",
            "complaint__team",
            "complaint__assignee",
            "opened_by",
            "acknowledged_by",
        )
        .order_by("opened_at", "pk")
    )


def escalations_open_for(complaint: Complaint) -> QuerySet[Escalation]:
    return (
        complaint.escalations.filter(settled_at__isnull=True)
        .select_related("opened_by", "acknowledged_by")
        .order_by("opened_at", "pk")
    )


def escalation_get_for_user(*, user: Any, pk: int | str) -> Escalation:
    """The escalation, or NotFound for missing and forbidden alike."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound(_("No such escalation, or you may not see it.")) from None
    escalation = escalations_visible_to(user).select_related("complaint").filter(pk=pk).first()
    if escalation is None or not roles.is_staff_member(user):
        raise NotFound(_("No such escalation, or you may not see it."))
    return escalation


def can_manage_escalations(user: Any) -> bool:
    """Acknowledge, instruct and settle: supervisors (and admins), and the system."""
    return roles.is_system(user) or roles.is_supervisor(user)


def can_raise_escalation(user: Any, complaint: Complaint) -> bool:
    if roles.is_system(user):
        return True
    return (
        roles.is_staff_member(user)
        and complaint.status not in TERMINAL_STATES
        and permissions.can_view_complaint(user, complaint)
    )


# --- Helpers ------------------------------------------------------------------------------


def _label(choices, value) -> str:
    return str(choices(value).label) if value in choices.values else str(value)


def _summary(escalation: Escalation) -> dict[str, Any]:
    """What timeline events say about an escalation (readable without a join)."""
    return {
        "id": escalation.pk,
        "reason": escalation.reason,
        "reason_label": _label(Reason, escalation.reason),
        "level": escalation.level,
    }


def climb_time(complaint: Complaint, level: int, start: datetime) -> datetime | None:
    """When an escalation at `level` climbs: the ladder's step for the complaint's
    priority; None at the top, without a priority, or without a step."""
    if level >= MAX_LEVEL or complaint.priority_id is None:
        return None
    minutes = (
        EscalationStep.objects.filter(priority_id=complaint.priority_id, level=level)
        .values_list("climb_after_minutes", flat=True)
        .first()
    )
    return None if minutes is None else start + timedelta(minutes=minutes)


def _ladder_team(complaint: Complaint, reason: str) -> Team | None:
    """Whose ladder the escalation climbs: an overdue collaboration request goes to the
    department that owes the answer, everything else to the complaint's team."""
    if reason == Reason.COLLABORATION:
        overdue = (
            CollaborationRequest.objects.filter(
                complaint_id=complaint.pk,
                status=CollaborationRequest.Status.OPEN,
                overdue_at__isnull=False,
            )
            .select_related("department__supervisor", "department__head")
            .order_by("due_at", "pk")
            .first()
        )
        if overdue is not None:
            return overdue.department
    if complaint.team_id is None:
        return None
    return Team.objects.select_related("supervisor", "head").filter(pk=complaint.team_id).first()


def _people_at(team: Team | None, level: int) -> list:
    """The people at a level of the ladder. Nobody there (no supervisor, no head):
    the next level up hears of it, so an escalation never goes unheard."""
    for step in range(level, MAX_LEVEL + 1):
        if step == Level.SUPERVISOR:
            person = team.supervisor if team is not None else None
            found = [person] if person is not None and person.is_active else []
        elif step == Level.HEAD:
            person = team.head if team is not None else None
            found = [person] if person is not None and person.is_active else []
        else:
            found = list(
                get_user_model()
                .objects.filter(is_active=True, groups__name=roles.ADMIN)
                .distinct()
                .order_by("pk")
            )
        if found:
            return found
    return []


def escalation_recipients(*, complaint: Complaint, reason: str, level: int) -> list:
    """The people at the escalation's level, and the complaint's assignee."""
    people = _people_at(_ladder_team(complaint, reason), level)
    if complaint.assignee_id is not None:
        people.append(complaint.assignee)
    unique = {}
    for person in people:
        unique.setdefault(person.pk, person)
    return list(unique.values())


def _notify(recipients: Iterable, *, actor: Any, complaint: Complaint, text: str) -> None:
    actor_pk = getattr(actor, "pk", None)
    for person in recipients:
        if actor_pk is not None and person.pk == actor_pk:
            continue
        inapp.notify(user=person, kind=Notification.Kind.ESCALATED, complaint=complaint, text=text)


def _require_manager(actor: Any) -> None:
    if not can_manage_escalations(actor):
        raise ActionForbidden(_("Only a supervisor may acknowledge, instruct or settle."))


def _require_text(value: str | None, message: str) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidInput(message)
    return text


def _lock_complaint(pk: int) -> Complaint:
    """The complaint read under its row lock, so `locked()` finds the copy current."""
    complaint = Complaint.objects.select_for_update().filter(pk=pk).first()
    if complaint is None:
        raise NotFound()
    return complaint


def _lock_escalation(pk: int) -> Escalation:
    row = Escalation.objects.select_for_update().filter(pk=pk).first()
    if row is None:
        raise NotFound(_("No such escalation, or you may not see it."))
    return row


def _refresh(target: Escalation, source: Escalation) -> None:
    """Copy the saved row's fields onto the caller's object."""
    for field in Escalation._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))
    target._state.fields_cache.clear()


def _set_complaint_level(complaint: Complaint, *, actor: Any, level: int, reason: str) -> None:
    """Inside locked(complaint): set escalation_level with one history row, if it changes."""
    if complaint.escalation_level == level:
        return
    before = snapshot(complaint)
    complaint.escalation_level = level
    save_complaint(complaint, actor=actor, reason=reason, before=before)


def _save(row: Escalation, *, actor: Any, reason: str, fields: list[str] | None = None) -> None:
    row._history_user = actor_user(actor)
    row._change_reason = reason
    if fields is None:
        row.save()
    else:
        row.save(update_fields=fields)


# --- Opening ------------------------------------------------------------------------------


def escalation_open_or_existing(
    *,
    complaint: Complaint,
    actor: Any,
    reason: str,
    note: str = "",
    level: int = 1,
    at: datetime | None = None,
) -> tuple[Escalation, bool]:
    """escalation_open, telling whether it opened one (True) or found it open (False)."""
    if reason not in Reason.values:
        raise InvalidInput(_("Unknown escalation reason: %(value)s.") % {"value": reason})
    try:
        level = int(level)
    except (TypeError, ValueError):
        level = 0
    if level not in Level.values:
        raise InvalidInput(_("Choose an escalation level from 1 to %(max)d.") % {"max": MAX_LEVEL})
    if not roles.is_system(actor) and not (
        roles.is_staff_member(actor) and permissions.can_view_complaint(actor, complaint)
    ):
        raise NotFound()
    if complaint.status in TERMINAL_STATES:
        raise InvalidInput(_("A rejected or merged complaint cannot be escalated."))
    at = at or timezone.now()
    note = (note or "").strip()
    before = snapshot(complaint)
    try:
        with transaction.atomic(), locked(complaint):
            existing = Escalation.objects.filter(
                complaint_id=complaint.pk, reason=reason, settled_at__isnull=True
            ).first()
            if existing is not None:
                return existing, False
            escalation = Escalation(
                complaint=complaint,
                reason=reason,
                level=level,
                note=note,
                opened_at=at,
                opened_by=actor_user(actor),
                climb_at=climb_time(complaint, level, at),
            )
            reason_label = _label(Reason, reason)
            try:
                # A savepoint: the one-open-per-reason constraint settles a race with
                # another opener (on SQLite the write lock already serialises them).
                with transaction.atomic():
                    _save(escalation, actor=actor, reason=_("Opened"))
            except IntegrityError:
                existing = Escalation.objects.filter(
                    complaint_id=complaint.pk, reason=reason, settled_at__isnull=True
                ).first()
                if existing is None:
                    raise
                return existing, False
            _set_complaint_level(
                complaint,
                actor=actor,
                level=max(complaint.escalation_level, level),
                reason=_("Escalated: %(reason)s") % {"reason": reason_label},
            )
            record_event(
                complaint,
                kind=Kind.ESCALATED,
                actor=actor,
                body=note
                or _("Escalated to level %(level)d: %(reason)s")
                % {"level": level, "reason": reason_label},
                data={"escalation": {**_summary(escalation), "action": "opened"}},
                at=at,
            )
            webhooks.webhook_escalated(escalation=escalation)
            _notify(
                escalation_recipients(complaint=complaint, reason=reason, level=level),
                actor=actor,
                complaint=complaint,
                text=_("%(number)s escalated to level %(level)d (%(reason)s): %(title)s")
                % {
                    "number": complaint.tracking_number,
                    "level": level,
                    "reason": reason_label,
                    "title": complaint.title,
                },
            )
    except Exception:
        restore(complaint, before)
        raise
    return escalation, True


def escalation_open(
    *, complaint: Complaint, actor: Any, reason: str, note: str = "", level: int = 1
) -> Escalation:
    """Open an escalation, or return the open one with the same reason.

    Staff who may see the complaint, and the system (SLA sweep, survey, intake for
    VIP and repeat complaints), may open one. Raises the complaint's escalation level
    to at least `level`, records an `escalated` event and tells the people at that
    level of the ladder and the assignee.
    """
    escalation, _opened = escalation_open_or_existing(
        complaint=complaint, actor=actor, reason=reason, note=note, level=level
    )
    return escalation


def escalation_open_for_sla_breach(*, complaint_ids: Iterable[int], now: datetime) -> int:
    """Open a level-1 `sla_breach` escalation for each open complaint (as the system);
    returns how many were opened. Already escalated for a breach: nothing new.

    Set-based (services/escalation_batch.py): the same rows as escalation_open for
    each complaint, in a constant number of queries per batch of the SLA sweep."""
    # Imported here: the batch module builds on this one's helpers.
    from complaints.services import escalation_batch

    return escalation_batch.sla_breach_open(complaint_ids=complaint_ids, now=now)


# --- A supervisor's answers -----------------------------------------------------------


def escalation_acknowledge(*, escalation: Escalation, actor: Any) -> Escalation:
    """Someone above has seen it. Once: acknowledging again changes nothing."""
    _require_manager(actor)
    with transaction.atomic():
        row = _lock_escalation(escalation.pk)
        if row.settled_at is not None:
            raise InvalidInput(_("This escalation is already settled."))
        if row.acknowledged_at is None:
            row.acknowledged_at = timezone.now()
            row.acknowledged_by = actor_user(actor)
            _save(
                row,
                actor=actor,
                reason=_("Acknowledged"),
                fields=["acknowledged_at", "acknowledged_by"],
            )
            record_event(
                row.complaint,
                kind=Kind.ESCALATED,
                actor=actor,
                body=_("Escalation acknowledged (%(reason)s, level %(level)d).")
                % {"reason": _label(Reason, row.reason), "level": row.level},
                data={"escalation": {**_summary(row), "action": "acknowledged"}},
                at=row.acknowledged_at,
            )
    _refresh(escalation, row)
    return escalation


def escalation_instruct(*, escalation: Escalation, actor: Any, note: str) -> ComplaintEvent:
    """A supervisor's instruction to the handler: an internal note on the timeline."""
    _require_manager(actor)
    text = _require_text(note, _("Write the instruction."))
    with transaction.atomic():
        row = _lock_escalation(escalation.pk)
        if row.settled_at is not None:
            raise InvalidInput(_("This escalation is already settled."))
        complaint = Complaint.objects.select_related("assignee").get(pk=row.complaint_id)
        event = record_event(
            complaint,
            kind=Kind.NOTE_ADDED,
            actor=actor,
            body=text,
            data={"escalation": {**_summary(row), "action": "instructed"}},
        )
        _notify(
            [complaint.assignee] if complaint.assignee_id else [],
            actor=actor,
            complaint=complaint,
            text=_("Instruction on %(number)s: %(note)s")
            % {"number": complaint.tracking_number, "note": text},
        )
    return event


def escalation_settle(*, escalation: Escalation, actor: Any, settlement: str) -> Escalation:
    """Close the escalation with what was decided. With no open escalation left, the
    complaint's escalation level goes back to 0 (else to the highest one still open)."""
    _require_manager(actor)
    text = _require_text(settlement, _("Write how the escalation was settled."))
    with transaction.atomic():
        complaint = _lock_complaint(escalation.complaint_id)
        with locked(complaint):
            row = _lock_escalation(escalation.pk)
            if row.settled_at is not None:
                raise InvalidInput(_("This escalation is already settled."))
            row.settled_at = timezone.now()
            row.settled_by = actor_user(actor)
            row.settlement = text
            _save(
                row,
                actor=actor,
                reason=_("Settled"),
                fields=["settled_at", "settled_by", "settlement"],
            )
            reason_label = _label(Reason, row.reason)
            remaining = (
                Escalation.objects.filter(
                    complaint_id=complaint.pk, settled_at__isnull=True
                ).aggregate(level=Max("level"))["level"]
                or 0
            )
            _set_complaint_level(
                complaint,
                actor=actor,
                level=remaining,
                reason=_("Escalation settled: %(reason)s") % {"reason": reason_label},
            )
            record_event(
                complaint,
                kind=Kind.ESCALATED,
                actor=actor,
                body=_("Escalation settled (%(reason)s, level %(level)d): %(settlement)s")
                % {"reason": reason_label, "level": row.level, "settlement": text},
                data={"escalation": {**_summary(row), "action": "settled"}},
                at=row.settled_at,
            )
            if complaint.assignee_id is not None:
                _notify(
                    [complaint.assignee],
                    actor=actor,
                    complaint=complaint,
                    text=_("Escalation of %(number)s settled: %(settlement)s")
                    % {"number": complaint.tracking_number, "settlement": text},
                )
    _refresh(escalation, row)
    return escalation


# --- The climb ---------------------------------------------------------------------------


def _climb_one(pk: int, complaint_id: int, old_level: int, now: datetime) -> bool:
    with transaction.atomic():
        complaint = _lock_complaint(complaint_id)
        with locked(complaint):
            # Read again under the locks: a concurrent climb (or a settlement) since the
            # candidates were selected leaves nothing to do here, so a level is climbed once.
            row = (
                Escalation.objects.select_for_update()
                .filter(pk=pk, settled_at__isnull=True, level=old_level, climb_at__lte=now)
                .first()
            )
            if row is None:
                return False
            new_level = old_level + 1
            row.level = new_level
            row.climb_at = climb_time(complaint, new_level, now)
            _save(
                row,
                actor=roles.SYSTEM,
                reason=_("Climbed to level %(level)d") % {"level": new_level},
                fields=["level", "climb_at"],
            )
            reason_label = _label(Reason, row.reason)
            _set_complaint_level(
                complaint,
                actor=roles.SYSTEM,
                level=max(complaint.escalation_level, new_level),
                reason=_("Escalated: %(reason)s") % {"reason": reason_label},
            )
            record_event(
                complaint,
                kind=Kind.ESCALATED,
                actor=roles.SYSTEM,
                body=_("Not settled in time: escalated to level %(level)d (%(who)s).")
                % {"level": new_level, "who": _label(Level, new_level)},
                data={"escalation": {**_summary(row), "action": "climbed"}},
                at=now,
            )
            _notify(
                escalation_recipients(complaint=complaint, reason=row.reason, level=new_level),
                actor=roles.SYSTEM,
                complaint=complaint,
                text=_("%(number)s escalated to level %(level)d (%(reason)s): %(title)s")
                % {
                    "number": complaint.tracking_number,
                    "level": new_level,
                    "reason": reason_label,
                    "title": complaint.title,
                },
            )
    return True


def escalations_climb(*, now: datetime | None = None) -> int:
    """Every open escalation whose climb time passed goes up one level (at most to the
    top), once per run and once per level even when two runs overlap. Returns how many
    climbed."""
    now = now or timezone.now()
    due = list(
        Escalation.objects.filter(settled_at__isnull=True, climb_at__lte=now, level__lt=MAX_LEVEL)
        .order_by("climb_at", "pk")
        .values_list("pk", "complaint_id", "level")
    )
    climbed = 0
    for pk, complaint_id, level in due:
        try:
            climbed += int(_climb_one(pk, complaint_id, level, now))
        except NotFound:
            continue  # the complaint was deleted meanwhile
    return climbed
