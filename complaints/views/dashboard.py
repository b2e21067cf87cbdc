"""The dashboard (数据分析): figures, charts and tables for a period and dimensions;
supervisors and admins see every complaint, other staff their own figures. Trend
warnings, with the one-step "create an improvement action", for supervisors."""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from complaints import roles
from complaints.analytics import charts, figures, report
from complaints.analytics.filters import DashboardFilterForm, sees_everything
from complaints.errors import ActionForbidden, InvalidInput, NotFound
from complaints.models import Team
from complaints.services import trends
from complaints.views import exports
from complaints.views.common import staff_required


def business_time(minutes: float | None) -> str:
    """Business minutes for people: "45 min", "3 h 20 min"; empty for no value."""
    if minutes is None:
        return ""
    total = round(minutes)
    hours, rest = divmod(total, 60)
    if not hours:
        return _("%(m)d min") % {"m": rest}
    return _("%(h)d h %(m)02d min") % {"h": hours, "m": rest}


def _with_times(rows: list[dict]) -> list[dict]:
    for row in rows:
        row["resolution_median_text"] = business_time(row["resolution_median"])
    return rows


def _improvement_url(action) -> str:
    return reverse("complaints:improvement-detail", args=[action.pk])


def _add_report_links(user, rows: list[dict], day: date) -> None:
    """The monthly report link (the month of `day`) on the team rows the user may
    read (one query)."""
    if not rows:
        return
    for team in Team.objects.filter(pk__in=[row["pk"] for row in rows]):
        if report.can_view_team_report(user, team):
            next(r for r in rows if r["pk"] == team.pk)["report_link"] = report_url(team, day)


@staff_required
@require_GET
def dashboard(request):
    user = request.user
    form = DashboardFilterForm(request.GET or None)
    f = form.to_filter()
    now = timezone.now()
    numbers = figures.dashboard_figures(f, user, now=now)
    top = charts.top_items(f, user)
    supervisor = sees_everything(user)
    chart_data = {
        "volume-channel": charts.volume_by_channel(f, user),
        "volume-category": charts.volume_by_category(f, user),
        "backlog-ageing": charts.backlog_ageing(f, user, numbers["backlog"], now),
        "sla-trend": charts.sla_trend(f, user, now),
        "csat-trend": charts.csat_trend(f, user),
        "top-products": top["product"]["chart"],
        "top-categories": top["category"]["chart"],
    }
    teams = _with_times(charts.team_table(f, user, now)) if supervisor else []
    _add_report_links(user, teams, f.end)
    context = {
        "form": form,
        "filter": f,
        "figures": numbers,
        "sees_everything": supervisor,
        "charts": chart_data,
        # The same data as tables (template variables cannot hold "-").
        "chart_tables": {
            key.replace("-", "_"): charts.as_table(chart) for key, chart in chart_data.items()
        },
        "top": top,
        "times": {key: business_time(value) for key, value in numbers["times"].items()},
        "teams": teams,
        "agents": _with_times(charts.agent_table(f, user, now)),
        "warnings": list(trends.trend_warnings_recent(user=user)) if supervisor else [],
        "export_query": request.GET.urlencode(),
        "backlog_link": charts.queue_url(user, f),
    }
    return render(request, "complaints/dashboard/dashboard.html", context)


@staff_required
@require_POST
def warning_improve(request, pk: int):
    if not roles.is_supervisor(request.user):
        raise PermissionDenied
    try:
        action = trends.trend_warning_to_improvement(warning_id=pk, actor=request.user)
    except NotFound:
        raise Http404 from None
    except ActionForbidden:
        raise PermissionDenied from None
    except InvalidInput as error:
        messages.error(request, str(error))
        return redirect("complaints:dashboard")
    messages.success(
        request, _("Improvement action “%(title)s” created.") % {"title": action.title}
    )
    return redirect(_improvement_url(action))


def report_url(team: Team, day: date) -> str:
    """The monthly report of the team for the month of `day`."""
    return reverse("complaints:dashboard-report", args=[team.code, day.strftime("%Y-%m")])


@staff_required
@require_GET
def team_report(request, team: str, month: str):
    """A team's monthly report, printable. Admins and the team's supervisors only;
    anyone else gets the same 404 as for a team or month that does not exist."""
    found = Team.objects.filter(code=team).first()
    if found is None or not report.can_view_team_report(request.user, found):
        raise Http404
    year, _sep, number = month.partition("-")
    if not (len(year) == 4 and len(number) == 2 and year.isdigit() and number.isdigit()):
        raise Http404
    try:
        data = report.monthly_report(
            team=found, year=int(year), month=int(number), user=request.user
        )
    except ValueError:  # month 13, year 0…
        raise Http404 from None
    f = data["filter"]
    previous = f.start - timedelta(days=1)
    following = f.end + timedelta(days=1)
    context = {
        **data,
        "team": found,
        "times": {key: business_time(v) for key, v in data["figures"]["times"].items()},
        "previous_url": report_url(found, previous),
        "next_url": report_url(found, following) if following <= timezone.localdate() else None,
        "generated_at": timezone.now(),
    }
    return render(request, "complaints/dashboard/report.html", context)


urlpatterns = [
    path("dashboard/", dashboard, name="dashboard"),
    path(
        "dashboard/report/<slug:team>/<str:month>/",
        team_report,
        name="dashboard-report",
    ),
    path(
        "dashboard/warnings/<int:pk>/improve/",
        warning_improve,
        name="dashboard-warning-improve",
    ),
    *exports.urlpatterns,
]
