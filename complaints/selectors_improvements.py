"""Reads and permission predicates of improvement actions (纠正预防措施): what a user
may see and do. The writes are in complaints/services/improvements.py, whose
docstring explains the rules."""

from __future__ import annotations

import zoneinfo
from datetime import date
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints import permissions, roles
from complaints.errors import NotFound
from complaints.models import Complaint, ImprovementAction, Team

Status = ImprovementAction.Status
OPEN_STATUSES = (Status.OPEN, Status.IN_PROGRESS)
# The moves a status may make; anything else is refused.
MOVES: dict[str, tuple[str, ...]] = {
    Status.OPEN: (Status.IN_PROGRESS,),
    Status.IN_PROGRESS: (Status.DONE,),
    Status.DONE: (Status.VERIFIED, Status.IN_PROGRESS),
    Status.VERIFIED: (),
}


def today() -> date:
    """Today in the site's time zone (a due date is a calendar day there)."""
    return timezone.localdate(timezone=zoneinfo.ZoneInfo(settings.TIME_ZONE))


# --- Reading ------------------------------------------------------------------------------


def improvements_visible_to(user: Any) -> QuerySet[ImprovementAction]:
    """Supervisors and admins: all. Other staff: the actions their teams own and the
    actions linked to a complaint they may see."""
    qs = ImprovementAction.objects.all()
    if roles.is_system(user) or roles.is_supervisor(user):
        return qs
    if not roles.is_staff_member(user):
        return qs.none()
    condition = permissions.visibility_filter(user)
    linked = Complaint.objects.filter(condition, improvement_actions=OuterRef("pk"))
    # Exists, not a join: no duplicate rows, and counts stay right.
    return qs.filter(Q(owner_team_id__in=permissions.team_ids_of(user)) | Exists(linked))


def improvements_overdue(user: Any) -> QuerySet[ImprovementAction]:
    """Visible actions still open or in progress whose due date has passed."""
    return improvements_visible_to(user).filter(status__in=OPEN_STATUSES, due_date__lt=today())


def improvements_for_complaint(*, complaint: Complaint) -> QuerySet[ImprovementAction]:
    """The actions a complaint is linked to (the complaint's own panel: whoever may
    see the complaint may see what is being done about it)."""
    return complaint.improvement_actions.select_related("owner_team").order_by("due_date", "pk")


def improvements_open_for_linking(user: Any) -> QuerySet[ImprovementAction]:
    """Open and in-progress actions a complaint may be linked to: any of them for the
    people who may link (a complaint of team B may share its cause with an action of
    team A), none for the others."""
    if not can_create(user):
        return ImprovementAction.objects.none()
    return (
        ImprovementAction.objects.filter(status__in=OPEN_STATUSES)
        .select_related("owner_team")
        .order_by("due_date", "pk")
    )


def improvement_get_for_user(*, user: Any, pk: int | str) -> ImprovementAction:
    """The action, or NotFound for missing and forbidden alike."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound(_("No such improvement action, or you may not see it.")) from None
    action = (
        improvements_visible_to(user)
        .select_related("owner_team", "created_by", "verified_by")
        .filter(pk=pk)
        .first()
    )
    if action is None:
        raise NotFound(_("No such improvement action, or you may not see it."))
    return action


def owner_teams() -> QuerySet[Team]:
    return Team.objects.filter(is_active=True).order_by("name")


def status_changes(action: ImprovementAction) -> list[dict[str, Any]]:
    """The action's status changes, oldest first, read from its history: who, when,
    from, to, and the reason recorded with the change."""
    rows = list(
        action.history.select_related("history_user")
        .order_by("history_date", "history_id")
        .only("status", "history_date", "history_user", "history_change_reason")
    )
    changes = []
    previous = None
    for row in rows:
        if row.status != previous:
            changes.append(
                {
                    "at": row.history_date,
                    "user": row.history_user,
                    "from_status": previous,
                    "from_label": Status(previous).label if previous else "",
                    "to_status": row.status,
                    "to_label": Status(row.status).label,
                    "reason": row.history_change_reason or "",
                }
            )
            previous = row.status
    return changes


def marked_done_by_id(action: ImprovementAction) -> int | None:
    """Who moved the action into its current "done" run (the newest history rows, as
    long as they say done; the oldest of them is the change itself)."""
    user_id = None
    for status, history_user_id in action.history.order_by(
        "-history_date", "-history_id"
    ).values_list("status", "history_user_id"):
        if status != Status.DONE:
            break
        user_id = history_user_id
    return user_id


# --- Permissions --------------------------------------------------------------------------


def can_create(user: Any) -> bool:
    """Create an action and link complaints to one: agents and supervisors."""
    return bool(getattr(user, "is_active", False)) and (
        roles.is_supervisor(user) or roles.is_agent(user)
    )


def can_work_on(user: Any, action: ImprovementAction) -> bool:
    """Start it and mark it done: supervisors, the owner team and the creator."""
    if not roles.is_staff_member(user):
        return False
    return (
        roles.is_supervisor(user)
        or action.owner_team_id in permissions.team_ids_of(user)
        or action.created_by_id == user.pk
    )


def can_verify(user: Any) -> bool:
    return bool(getattr(user, "is_active", False)) and roles.is_supervisor(user)


def allowed_statuses(user: Any, action: ImprovementAction) -> list[str]:
    """The statuses this user may move the action to now (the buttons)."""
    allowed = []
    for target in MOVES[action.status]:
        if action.status == Status.DONE:
            if can_verify(user) and not (
                target == Status.VERIFIED and _marked_it_done(user, action)
            ):
                allowed.append(target)
        elif can_work_on(user, action):
            allowed.append(target)
    return allowed


def _marked_it_done(user: Any, action: ImprovementAction) -> bool:
    return user.pk is not None and marked_done_by_id(action) == user.pk
