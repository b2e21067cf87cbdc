"""The monthly report of a team: the dashboard's figures for one team and one
calendar month, with the month's root causes, top categories and products and the
improvement actions opened and done. Printable (static/complaints/css/report-print.css).

Root causes are those recorded on the team's complaints resolved in the month (the
resolution records the cause); categories and products count the complaints
received in the month. Shares are of the month's total of the same kind.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime
from typing import Any

from django.db.models import Count
from django.utils import timezone

from complaints import permissions, roles
from complaints.analytics import charts, figures
from complaints.analytics.filters import DashboardFilter
from complaints.models import ImprovementAction, RootCause, Team


def can_view_team_report(user: Any, team: Team) -> bool:
    """Admins, and supervisors of the team (its named supervisor or a supervisor who
    is a member), read a team's monthly report."""
    if roles.is_admin(user):
        return True
    if not roles.is_supervisor(user):
        return False
    return team.supervisor_id == user.pk or team.pk in permissions.team_ids_of(user)


def month_filter(team: Team, year: int, month: int) -> DashboardFilter:
    """The whole calendar month (local days) for the team. ValueError for a month
    that does not exist."""
    last = calendar.monthrange(year, month)[1]
    return DashboardFilter(
        start=date(year, month, 1), end=date(year, month, last), period="custom", team=team
    )


def _shares(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    total = sum(row["count"] for row in rows)
    for row in rows:
        row["share"] = figures.share(row["count"], total)
    return rows


def root_causes(f: DashboardFilter, user: Any) -> list[dict[str, Any]]:
    """The root causes of the complaints resolved in the period, most frequent first,
    with counts and shares (one query)."""
    labels = dict(RootCause.choices)
    rows = (
        figures.base(f, user)
        .filter(f.within("resolved_at"))
        .exclude(root_cause="")
        .values("root_cause")
        .annotate(n=Count("pk"))
        .order_by("-n", "root_cause")
    )
    return _shares(
        [
            {
                "code": r["root_cause"],
                "label": labels.get(r["root_cause"], r["root_cause"]),
                "count": r["n"],
            }
            for r in rows
        ]
    )


def improvement_actions(f: DashboardFilter) -> dict[str, int]:
    """The team's improvement actions opened and done in the period (one query)."""
    return ImprovementAction.objects.filter(owner_team_id=f.team.pk).aggregate(
        opened=Count("pk", filter=f.within("created_at")),
        done=Count("pk", filter=f.within("done_at")),
    )


def monthly_report(
    *, team: Team, year: int, month: int, user: Any, now: datetime | None = None
) -> dict[str, Any]:
    """Everything the report page shows (a fixed number of queries)."""
    now = now or timezone.now()
    f = month_filter(team, year, month)
    numbers = figures.dashboard_figures(f, user, now=now)
    top = charts.top_items(f, user)
    # Shares of all the complaints received, so "no category" keeps its weight.
    for field in ("category", "product"):
        for row in top[field]["rows"]:
            row["share"] = figures.share(row["count"], numbers["volume"]["received"])
    return {
        "filter": f,
        "figures": numbers,
        "root_causes": root_causes(f, user),
        "top_categories": top["category"]["rows"],
        "top_products": top["product"]["rows"],
        "improvements": improvement_actions(f),
    }
