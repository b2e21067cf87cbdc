"""Automatic assignment inside a team: round-robin or least-loaded among the
team's agents who are active and not away."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.utils.translation import gettext as _

from complaints import roles
from complaints.errors import InvalidInput
from complaints.models import Complaint, ComplaintEvent, Team
from complaints.services.transitions import complaint_assign
from complaints.workflow import OWNED_STATES


def team_available_agents(team: Team):
    return (
        get_user_model()
        .objects.filter(
            memberships__team=team,
            is_active=True,
            is_away=False,
            groups__name=roles.AGENT,
        )
        .distinct()
        .order_by("pk")
    )


def pick_agent(team: Team):
    """The next agent for `team` by its strategy, or None (manual, or nobody available)."""
    agents = list(team_available_agents(team))
    if not agents or team.assignment_strategy == Team.Strategy.MANUAL:
        return None
    if team.assignment_strategy == Team.Strategy.LEAST_LOADED:
        loads = dict(
            get_user_model()
            .objects.filter(pk__in=[a.pk for a in agents])
            .annotate(
                load=Count(
                    "assigned_complaints",
                    filter=Q(assigned_complaints__status__in=list(OWNED_STATES)),
                )
            )
            .values_list("pk", "load")
        )
        return min(agents, key=lambda a: (loads.get(a.pk, 0), a.pk))
    # Round-robin: the agent after the one who got this team's last assignment.
    last_event = (
        ComplaintEvent.objects.filter(
            complaint__team=team,
            kind__in=[ComplaintEvent.Kind.ASSIGNED, ComplaintEvent.Kind.REASSIGNED],
        )
        .order_by("-created_at", "-pk")
        .values_list("data", flat=True)
        .first()
    )
    last = ((last_event or {}).get("assignee") or {}).get("id")
    if last is None:
        return agents[0]
    # The next available agent after the last one in id order, even if the last one
    # has gone away or left the team since.
    after = [a for a in agents if a.pk > last]
    return after[0] if after else agents[0]


def complaint_auto_assign(*, complaint: Complaint, actor: Any = roles.SYSTEM):
    """Assign by the team's strategy; returns the StatusChange, or None when the team
    assigns manually or nobody is available (the complaint stays in the queue)."""
    if complaint.team_id is None:
        raise InvalidInput(_("The complaint has no team yet: triage it first."))
    agent = pick_agent(complaint.team)
    if agent is None:
        return None
    return complaint_assign(complaint=complaint, actor=actor, assignee=agent)
