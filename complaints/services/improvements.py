"""Improvement actions (纠正预防措施): fix the cause behind one or several complaints.

Who may do what (the choices the product made):

- Create: supervisors and agents. Agents know the complaints best, and an action
  costs nothing until someone works on it; the owner team may be any active team,
  front line or department. Every complaint linked at creation must be visible to
  the creator (else NotFound, as if it did not exist).
- Link / unlink a complaint: agents and supervisors who can see the complaint, only
  while the action is open or in progress. Linking twice (or unlinking what is not
  linked) changes nothing and records nothing.
- Status: open → in progress → done → verified, and done → in progress when the
  verification fails. Starting and finishing: supervisors, the members of the owner
  team (responders of a department too) and the action's creator. "Done" needs an
  outcome text. Verifying: supervisors only, and not the person who marked it done
  (four eyes: whoever did the work does not accept it; who marked it done is read
  from the action's history). Sending back to in progress (the verification
  failed): supervisors only, the one who marked it done included.
- Seeing: supervisors and admins see every action; other staff see the actions
  owned by their teams and those linked to a complaint they can see.

When an action becomes done and `notify_customers` is set, each linked complaint's
customer is told once (one message per customer, however many of their complaints
are linked), in their language, through the outbox; `customers_notified_at` makes
sure a later "done" (after a failed verification) sends nothing again.

Concurrency: every write locks the action's row first (select_for_update), so two
clicks give one change.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints import permissions
from complaints.errors import ActionForbidden, InvalidInput, NotFound, TransitionRefused
from complaints.models import (
    Complaint,
    ComplaintEvent,
    ImprovementAction,
    Notification,
    Team,
)
from complaints.selectors_improvements import (  # noqa: F401 — the screens import them from here
    MOVES,
    OPEN_STATUSES,
    Status,
    _marked_it_done,
    allowed_statuses,
    can_create,
    can_verify,
    can_work_on,
    improvement_get_for_user,
    improvements_for_complaint,
    improvements_open_for_linking,
    improvements_overdue,
    improvements_visible_to,
    marked_done_by_id,
    owner_teams,
    status_changes,
    today,
)
from complaints.services import inapp, notifications
from complaints.services.base import actor_user, record_event

TITLE_MAX = 200
TEXT_MAX = 4000
# Placeholders of the customer message: {customer_name}, {tracking_number}, {title}
# (the complaint's title) and {action} (the improvement action's title).
PLACEHOLDER = re.compile(r"\{(customer_name|tracking_number|title|action)\}")


# --- Helpers ------------------------------------------------------------------------------


def _require_text(value: str | None, field: str, message: str, limit: int) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidInput(message, fields={field: [message]})
    if len(text) > limit:
        too_long = _("At most %(max)d characters.") % {"max": limit}
        raise InvalidInput(too_long, fields={field: [too_long]})
    return text


def _save(action: ImprovementAction, *, actor: Any, reason: str, fields=None) -> None:
    action._history_user = actor_user(actor)
    action._change_reason = reason
    if fields is None:
        action.save()
    else:
        action.save(update_fields=fields)


def _lock(pk: int) -> ImprovementAction:
    row = ImprovementAction.objects.select_for_update().filter(pk=pk).first()
    if row is None:
        raise NotFound(_("No such improvement action, or you may not see it."))
    return row


def _refresh(target: ImprovementAction, source: ImprovementAction) -> None:
    for field in ImprovementAction._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))
    target._state.fields_cache.clear()


def _summary(action: ImprovementAction, what: str) -> dict[str, Any]:
    return {"improvement": {"id": action.pk, "title": action.title, "action": what}}


def _notify_people(people: Iterable, *, actor: Any, text: str) -> None:
    actor_pk = getattr(actor, "pk", None)
    seen = set()
    for person in people:
        if person is None or person.pk == actor_pk or person.pk in seen:
            continue
        seen.add(person.pk)
        inapp.notify(user=person, kind=Notification.Kind.IMPROVEMENT, complaint=None, text=text)


def _check_visible(actor: Any, complaints: Iterable[Complaint]) -> list[Complaint]:
    unique = {}
    for complaint in complaints:
        if not permissions.can_view_complaint(actor, complaint):
            raise NotFound()
        unique.setdefault(complaint.pk, complaint)
    return list(unique.values())


# --- Creating -----------------------------------------------------------------------------


def improvement_create(
    *,
    actor: Any,
    title: str,
    problem: str,
    owner_team: Team | None,
    due_date: date | None,
    complaints: Iterable[Complaint] = (),
    notify_customers: bool = False,
    customer_message: str = "",
) -> ImprovementAction:
    """Open an improvement action, linked to the given complaints (each gets an
    `improvement` event on its timeline). The owner team's supervisor is told."""
    if not can_create(actor):
        raise ActionForbidden(_("Only agents and supervisors may create improvement actions."))
    linked = _check_visible(actor, complaints)
    errors: dict[str, list[str]] = {}
    title = (title or "").strip()
    problem = (problem or "").strip()
    customer_message = (customer_message or "").strip()
    if not title:
        errors["title"] = [_("Give the action a title.")]
    elif len(title) > TITLE_MAX:
        errors["title"] = [_("At most %(max)d characters.") % {"max": TITLE_MAX}]
    if not problem:
        errors["problem"] = [_("Describe the problem to fix.")]
    elif len(problem) > TEXT_MAX:
        errors["problem"] = [_("At most %(max)d characters.") % {"max": TEXT_MAX}]
    if owner_team is None or not owner_team.is_active:
        errors["owner_team"] = [_("Choose an active team to own the action.")]
    if due_date is None:
        errors["due_date"] = [_("Give a due date.")]
    elif due_date < today():
        errors["due_date"] = [_("The due date cannot be in the past.")]
    if len(customer_message) > TEXT_MAX:
        errors["customer_message"] = [_("At most %(max)d characters.") % {"max": TEXT_MAX}]
    if errors:
        first = next(iter(errors.values()))[0]
        raise InvalidInput(first, fields=errors)
    with transaction.atomic():
        action = ImprovementAction(
            title=title,
            problem=problem,
            owner_team=owner_team,
            due_date=due_date,
            notify_customers=bool(notify_customers),
            customer_message=customer_message,
            created_by=actor,
        )
        _save(action, actor=actor, reason=_("Created"))
        if linked:
            action._history_user = actor_user(actor)
            action._change_reason = _("Complaints linked")
            action.complaints.add(*linked)
        for complaint in linked:
            record_event(
                complaint,
                kind=ComplaintEvent.Kind.IMPROVEMENT,
                actor=actor,
                body=_("Improvement action “%(title)s” opened (owner: %(team)s, due %(due)s).")
                % {"title": title, "team": owner_team.name, "due": due_date.isoformat()},
                data=_summary(action, "created"),
            )
        _notify_people(
            [owner_team.supervisor] if owner_team.supervisor_id else [],
            actor=actor,
            text=_("New improvement action for %(team)s: %(title)s")
            % {"team": owner_team.name, "title": title},
        )
    return action


# --- Linking ------------------------------------------------------------------------------


def _check_link(action: ImprovementAction, complaint: Complaint, actor: Any) -> None:
    if not can_create(actor) or not permissions.can_view_complaint(actor, complaint):
        raise NotFound()


def improvement_link(*, action: ImprovementAction, complaint: Complaint, actor: Any) -> bool:
    """Link a complaint to an open or in-progress action. True when it was linked now;
    False when it already was (nothing recorded)."""
    _check_link(action, complaint, actor)
    with transaction.atomic():
        row = _lock(action.pk)
        if row.status not in OPEN_STATUSES:
            raise TransitionRefused(
                _("Complaints can only be linked to an open or in-progress action.")
            )
        if row.complaints.filter(pk=complaint.pk).exists():
            _refresh(action, row)
            return False
        row._history_user = actor_user(actor)
        row._change_reason = _("Complaint linked")
        row.complaints.add(complaint)
        record_event(
            complaint,
            kind=ComplaintEvent.Kind.IMPROVEMENT,
            actor=actor,
            body=_("Linked to the improvement action “%(title)s”.") % {"title": row.title},
            data=_summary(row, "linked"),
        )
    _refresh(action, row)
    return True


def improvement_unlink(*, action: ImprovementAction, complaint: Complaint, actor: Any) -> bool:
    """Take a complaint off an open or in-progress action. True when it was unlinked
    now; False when it was not linked (nothing recorded)."""
    _check_link(action, complaint, actor)
    with transaction.atomic():
        row = _lock(action.pk)
        if row.status not in OPEN_STATUSES:
            raise TransitionRefused(
                _("Complaints can only be unlinked from an open or in-progress action.")
            )
        if not row.complaints.filter(pk=complaint.pk).exists():
            _refresh(action, row)
            return False
        row._history_user = actor_user(actor)
        row._change_reason = _("Complaint unlinked")
        row.complaints.remove(complaint)
        record_event(
            complaint,
            kind=ComplaintEvent.Kind.IMPROVEMENT,
            actor=actor,
            body=_("Unlinked from the improvement action “%(title)s”.") % {"title": row.title},
            data=_summary(row, "unlinked"),
        )
    _refresh(action, row)
    return True


# --- Status -------------------------------------------------------------------------------


def improvement_set_status(
    *,
    action: ImprovementAction,
    actor: Any,
    status: str,
    outcome: str = "",
    reason: str = "",
) -> ImprovementAction:
    """Move the action's status (see MOVES). `outcome` is required for done; `reason`
    (why the verification failed) for going back from done to in progress.

    Under the row lock: a second click that finds the status already there changes
    nothing. Each change is a history row (with its reason) and an `improvement`
    event on every linked complaint.
    """
    if status not in Status.values:
        raise InvalidInput(_("Unknown status: %(value)s.") % {"value": status})
    if status == Status.DONE:
        outcome = _require_text(
            outcome, "outcome", _("Describe what was done before marking it done."), TEXT_MAX
        )
    back = False
    with transaction.atomic():
        row = _lock(action.pk)
        if row.status == status:
            _refresh(action, row)
            return action
        if status not in MOVES[row.status]:
            raise TransitionRefused(
                _("An action that is %(from)s cannot become %(to)s.")
                % {"from": Status(row.status).label, "to": Status(status).label}
            )
        now = timezone.now()
        if row.status == Status.DONE:
            # Verifying or sending back: the supervisor checking the result.
            if not can_verify(actor):
                raise ActionForbidden(_("Only a supervisor may verify an improvement action."))
            if status == Status.VERIFIED and _marked_it_done(actor, row):
                raise ActionForbidden(
                    _("Someone other than the person who marked it done must verify it.")
                )
            back = status == Status.IN_PROGRESS
        elif not can_work_on(actor, row):
            raise ActionForbidden(
                _("Only the owner team, its creator or a supervisor may change this action.")
            )
        if back:
            reason = _require_text(
                reason, "reason", _("Say why the verification failed."), TEXT_MAX
            )
        fields = ["status"]
        row.status = status
        if status == Status.DONE:
            row.outcome = outcome
            row.done_at = now
            fields += ["outcome", "done_at"]
            change_reason = outcome
        elif status == Status.VERIFIED:
            row.verified_at = now
            row.verified_by = actor_user(actor)
            fields += ["verified_at", "verified_by"]
            change_reason = _("Verified")
        elif back:
            row.done_at = None
            fields.append("done_at")
            change_reason = reason
        else:
            change_reason = _("Started")
        _save(row, actor=actor, reason=change_reason, fields=fields)
        linked = list(row.complaints.select_related("customer").order_by("pk"))
        body = _("Improvement action “%(title)s” is now: %(status)s.") % {
            "title": row.title,
            "status": Status(status).label,
        }
        if status == Status.DONE:
            body += "\n" + outcome
        elif back:
            body += "\n" + reason
        for complaint in linked:
            record_event(
                complaint,
                kind=ComplaintEvent.Kind.IMPROVEMENT,
                actor=actor,
                body=body,
                data=_summary(row, status),
            )
        if status == Status.DONE:
            _tell_people_done(row, actor)
            if row.notify_customers and row.customers_notified_at is None:
                _tell_customers(row, linked)
                row.customers_notified_at = now
                _save(
                    row,
                    actor=actor,
                    reason=_("Customers told"),
                    fields=["customers_notified_at"],
                )
    _refresh(action, row)
    return action


def _tell_people_done(row: ImprovementAction, actor: Any) -> None:
    """The creator and the owner team's supervisor hear it is ready to verify."""
    team = Team.objects.select_related("supervisor").get(pk=row.owner_team_id)
    _notify_people(
        [row.created_by, team.supervisor],
        actor=actor,
        text=_("Improvement action done, to verify: %(title)s") % {"title": row.title},
    )


# --- Telling the customers ----------------------------------------------------------------


def render_message(template: str, values: dict[str, str]) -> str:
    """Fill the placeholders by regular expression, never str.format: a customer's
    name or a stray brace cannot reach anything but these four values."""
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def _default_message() -> str:
    return _(
        "Dear {customer_name},\n\n"
        "Following your complaint {tracking_number} (“{title}”), we have made an "
        "improvement: {action}.\n\n"
        "Thank you for helping us to get better.\n"
    )


def _tell_customers(row: ImprovementAction, linked: list[Complaint]) -> int:
    """One message per customer (their oldest linked complaint is the one named),
    skipping customers we cannot reach. Returns how many were queued."""
    first_of: dict[int, Complaint] = {}
    for complaint in linked:
        first_of.setdefault(complaint.customer_id, complaint)
    sent = 0
    for complaint in first_of.values():
        if not notifications.can_reach(complaint.customer):
            continue

        def compose(complaint=complaint):
            customer = complaint.customer
            values = {
                "customer_name": customer.name or _("customer"),
                "tracking_number": complaint.tracking_number,
                "title": complaint.title,
                "action": row.title,
            }
            body = render_message(row.customer_message or _default_message(), values)
            subject = _("[%(number)s] What we changed after your complaint") % {
                "number": complaint.tracking_number
            }
            return subject, body.rstrip() + "\n", body.strip()

        sent += int(notifications.improvement_send(complaint=complaint, compose=compose))
    return sent
