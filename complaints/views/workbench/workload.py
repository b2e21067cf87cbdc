"""The supervisors' workload page: per front-line team, each member's open
complaints by priority and how many are overdue."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from complaints import roles
from complaints.models import Complaint, Priority, Team, TeamMembership
from complaints.views.common import staff_required
from complaints.workflow import OWNED_STATES


def _workload(now) -> tuple[list[Priority], list[dict[str, Any]]]:
    """Per active front-line team, one row per active member with the open complaints
    they own (in any team, as least-loaded assignment counts them) by priority, and
    how many are overdue. Four queries whatever the number of complaints."""
    priorities = list(Priority.objects.order_by("level"))
    teams = list(Team.objects.filter(is_active=True, kind=Team.Kind.FRONT_LINE).order_by("name"))
    memberships = list(
        TeamMembership.objects.filter(team__in=teams, user__is_active=True)
        .select_related("user")
        .order_by("user__username")
    )
    per_priority = {f"p{p.pk}": Count("pk", filter=Q(priority_id=p.pk)) for p in priorities}
    loads = {
        row["assignee_id"]: row
        for row in Complaint.objects.filter(
            status__in=list(OWNED_STATES),
            assignee_id__in=TeamMembership.objects.filter(team__in=teams).values("user_id"),
        )
        .values("assignee_id")
        .annotate(
            total=Count("pk"),
            overdue=Count("pk", filter=Q(resolution_due_at__lt=now)),
            **per_priority,
        )
        .order_by()
    }
    result = []
    for team in teams:
        members = []
        for m in memberships:
            if m.team_id != team.pk:
                continue
            load = loads.get(m.user_id, {})
            members.append(
                {
                    "user": m.user,
                    "by_priority": [load.get(f"p{p.pk}", 0) for p in priorities],
                    "total": load.get("total", 0),
                    "overdue": load.get("overdue", 0),
                    "is_away": m.user.is_away,
                }
            )
        totals = {
            "by_priority": [
                sum(r["by_priority"][i] for r in members) for i in range(len(priorities))
            ],
            "total": sum(r["total"] for r in members),
            "overdue": sum(r["overdue"] for r in members),
        }
        result.append({"team": team, "members": members, "totals": totals})
    return priorities, result


@staff_required
@require_GET
def workload(request):
    if not roles.is_supervisor(request.user):
        raise PermissionDenied
    priorities, teams = _workload(timezone.now())
    owned = "&".join(f"status={s}" for s in sorted(OWNED_STATES))
    context = {"priorities": priorities, "teams": teams, "owned_query": owned}
    return render(request, "complaints/staff/workbench_workload.html", context)
