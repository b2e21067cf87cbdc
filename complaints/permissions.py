"""The one place that answers "may this user do that to this complaint".

Views, the API, the admin, tasks and services all call these predicates; the
queryset form (for lists) lives in selectors.complaints_visible_to and must agree
with can_view_complaint (a test checks both on the same data).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Q

from complaints import roles
from complaints.workflow import TERMINAL_STATES

if TYPE_CHECKING:
    from complaints.models import Complaint


def _memberships(user: Any) -> tuple[frozenset[int], bool]:
    """(team ids, whether one of those teams lets its members see every complaint).

    One query, kept between requests by config_cache: saving or deleting any team or
    membership makes every process read it again, so a membership revoked (or a team's
    visibility changed) counts from the user's next request on.
    """
    if not getattr(user, "is_authenticated", False) or roles.is_system(user):
        return frozenset(), False
    cached = getattr(user, "_memberships_cache", None)
    if cached is None:
        from complaints import config_cache

        cached = config_cache.for_user("memberships", user, lambda: _read_memberships(user))
        user._memberships_cache = cached
    return cached


def _read_memberships(user: Any) -> tuple[frozenset[int], bool]:
    from complaints.models import Team  # lazy: models import this module's users

    rows = list(user.memberships.values_list("team_id", "team__visibility", "team__is_active"))
    sees_all = any(vis == Team.Visibility.ALL and active for _, vis, active in rows)
    return frozenset(team_id for team_id, _, _ in rows), sees_all


def team_ids_of(user: Any) -> frozenset[int]:
    """The ids of the teams the user belongs to, cached on the user per request."""
    return _memberships(user)[0]


def sees_all_complaints(user: Any) -> bool:
    """Supervisors, admins, the system, and staff of an active team whose visibility
    is "all complaints" (Team.visibility)."""
    if roles.is_system(user) or roles.is_supervisor(user):
        return True
    if not getattr(user, "is_active", False):
        return False
    return (roles.is_agent(user) or roles.is_responder(user)) and _memberships(user)[1]


def visibility_filter(user: Any) -> Q | None:
    """A filter on Complaint for what `user` may see; None means everything.

    Every list, detail, timeline, attachment, export, dashboard, API view and admin
    changelist goes through this (or can_view_complaint, which agrees with it).
    """
    if roles.is_system(user) or roles.is_supervisor(user):
        return None
    if not getattr(user, "is_active", False):
        return Q(pk__in=[])
    if sees_all_complaints(user):
        # Everything, as a condition: callers that add it to a subquery stay right.
        return Q()
    teams = team_ids_of(user)
    if roles.is_agent(user):
        # Agents also see the untriaged intake (no team yet) so they can triage it.
        return Q(team_id__in=teams) | Q(assignee_id=user.pk) | Q(team__isnull=True)
    if roles.is_responder(user):
        # Plus the complaints their departments were asked about (a subquery, so
        # lists and counts get no duplicate rows).
        return Q(team_id__in=teams) | Q(assignee_id=user.pk) | Q(pk__in=_asked_complaint_ids(teams))
    return Q(pk__in=[])


def _asked_complaint_ids(teams):
    from complaints.models import CollaborationRequest  # lazy: models import this module's users

    return CollaborationRequest.objects.filter(department_id__in=teams).values("complaint_id")


def can_view_complaint(user: Any, complaint: Complaint) -> bool:
    if sees_all_complaints(user):
        return True
    if not getattr(user, "is_active", False):
        return False
    if complaint.assignee_id is not None and complaint.assignee_id == user.pk:
        return True
    if roles.is_agent(user):
        return complaint.team_id is None or complaint.team_id in team_ids_of(user)
    if roles.is_responder(user):
        teams = team_ids_of(user)
        if complaint.team_id in teams:
            return True
        from complaints.models import CollaborationRequest

        return (
            bool(teams)
            and CollaborationRequest.objects.filter(
                complaint_id=complaint.pk, department_id__in=teams
            ).exists()
        )
    return False


def can_edit_complaint(user: Any, complaint: Complaint) -> bool:
    """Change its fields, add replies and notes (not its status: see workflow)."""
    if complaint.status in TERMINAL_STATES:
        return False
    if roles.is_system(user):
        return True
    if not can_view_complaint(user, complaint):
        return False
    return roles.is_supervisor(user) or roles.is_agent(user) or roles.is_responder(user)


def can_assign_to(actor: Any, assignee: Any) -> bool:
    """An agent may only take a complaint for themself; supervisors and the system
    may give it to anyone (the transition's condition checks team membership)."""
    if roles.is_system(actor) or roles.is_supervisor(actor):
        return True
    return assignee is not None and assignee.pk == getattr(actor, "pk", None)
