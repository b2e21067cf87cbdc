"""The dashboard's headline figures for a filter and a user.

Definitions (each a fixed number of aggregate queries):

- received: complaints received in the period; resolved: complaints whose current
  resolution falls in the period (a reopened complaint counts when resolved again).
- backlog: open complaints now (the dimensions apply, the period does not), by status
  and by age since received.
- first response / resolution time: median and 90th percentile in business minutes
  (ComplaintDurations) of the complaints answered / resolved in the period.
- SLA compliance: of the clocks that stopped in the period (answered / resolved) plus
  the clocks whose deadline passed in the period without stopping, the share that
  stopped by the deadline.
- CSAT: survey answers given in the period: average rating, share satisfied (rating
  4 or 5); response rate: of the complaints resolved in the period, the share whose
  current round was answered.
- reopen rate: reopen transitions / resolve transitions in the period (StatusChange).
- repeat rate: of the complaints received in the period (merged duplicates left out),
  the share whose customer complained about the same product or the same category in
  the 30 days before.
- escalations opened / settled in the period, and open now.
- collaboration on time: of the requests due in the period that were answered or
  whose deadline passed, the share answered by the deadline.
- improvement actions open (open or in progress) and overdue, now.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Avg, Count, Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from complaints import permissions
from complaints.analytics.filters import DashboardFilter, scope, sees_everything
from complaints.analytics.percentiles import percentiles
from complaints.models import (
    CollaborationRequest,
    Complaint,
    Escalation,
    ImprovementAction,
    StatusChange,
    SurveyResponse,
)
from complaints.workflow import OPEN_STATES
from complaints.workflow import ComplaintStatus as S

REPEAT_WINDOW = timedelta(days=30)
SATISFIED_RATING = 4
# Age of open complaints since received: (label, from days, to days or None).
AGE_BUCKETS = (
    ("lt1", _("< 1 day"), 0, 1),
    ("1to3", _("1–3 days"), 1, 3),
    ("3to7", _("3–7 days"), 3, 7),
    ("7to30", _("7–30 days"), 7, 30),
    ("gt30", _("> 30 days"), 30, None),
)
BACKLOG_STATES = (S.NEW, S.TRIAGED, S.REOPENED, S.ASSIGNED, S.IN_PROGRESS, S.AWAITING_CUSTOMER)
FRACTIONS = (0.5, 0.9)


def share(part: int | None, whole: int | None) -> float | None:
    """part / whole in percent (one decimal), None when there is nothing to divide."""
    if not whole:
        return None
    return round(100.0 * (part or 0) / whole, 1)


def base(f: DashboardFilter, user: Any) -> QuerySet[Complaint]:
    """The user's complaints matching the filter's dimensions (any time)."""
    return scope(user).filter(f.dimensions())


def related_scope(f: DashboardFilter, user: Any) -> Q:
    """The same complaints, seen from a model with a `complaint` foreign key."""
    q = f.dimensions("complaint__")
    if not sees_everything(user):
        q &= Q(complaint__in=scope(user).values("pk"))
    return q


def _age_condition(now: datetime, low: int, high: int | None) -> Q:
    q = Q(received_at__lte=now - timedelta(days=low))
    if high is not None:
        q &= Q(received_at__gt=now - timedelta(days=high))
    return q


def _repeat_exists() -> Exists:
    earlier = (
        Complaint.objects.filter(
            customer_id=OuterRef("customer_id"),
            received_at__lt=OuterRef("received_at"),
            received_at__gte=OuterRef("received_at") - REPEAT_WINDOW,
        )
        .exclude(status=S.MERGED)
        .filter(Q(product_id=OuterRef("product_id")) | Q(category_id=OuterRef("category_id")))
    )
    return Exists(earlier)


def volume(f: DashboardFilter, user: Any, now: datetime) -> dict[str, Any]:
    """Received, resolved, SLA compliance, survey response rate and repeat rate (one
    query)."""
    received = f.within("received_at")
    resolved = f.within("resolved_at")
    answered = f.within("first_response_at")
    unfinished = Q(status__in=list(OPEN_STATES))
    response_late_open = (
        Q(first_response_at__isnull=True)
        & unfinished
        & f.within("response_due_at")
        & Q(response_due_at__lt=now)
    )
    resolution_late_open = (
        Q(resolved_at__isnull=True)
        & unfinished
        & f.within("resolution_due_at")
        & Q(resolution_due_at__lt=now)
    )
    survey_answered = Exists(
        SurveyResponse.objects.filter(complaint_id=OuterRef("pk"), cycle=OuterRef("reopen_count"))
    )
    # Every count below needs one of these moments in the period: saying so in the
    # WHERE clause lets the database read only the period's rows (an index per
    # column, combined) instead of every complaint of the dimensions.
    touched = (
        received | resolved | answered | f.within("response_due_at") | f.within("resolution_due_at")
    )
    row = (
        base(f, user)
        .filter(touched)
        .aggregate(
            received=Count("pk", filter=received),
            received_distinct=Count("pk", filter=received & ~Q(status=S.MERGED)),
            repeats=Count("pk", filter=received & ~Q(status=S.MERGED) & Q(_repeat_exists())),
            resolved=Count("pk", filter=resolved),
            surveyed=Count("pk", filter=resolved & Q(survey_answered)),
            response_met=Count(
                "pk", filter=answered & Q(first_response_at__lte=F("response_due_at"))
            ),
            response_total=Count(
                "pk", filter=(answered & Q(response_due_at__isnull=False)) | response_late_open
            ),
            resolution_met=Count(
                "pk", filter=resolved & Q(resolved_at__lte=F("resolution_due_at"))
            ),
            resolution_total=Count(
                "pk", filter=(resolved & Q(resolution_due_at__isnull=False)) | resolution_late_open
            ),
        )
    )
    row["response_compliance"] = share(row["response_met"], row["response_total"])
    row["resolution_compliance"] = share(row["resolution_met"], row["resolution_total"])
    row["survey_response_rate"] = share(row["surveyed"], row["resolved"])
    row["repeat_rate"] = share(row["repeats"], row["received_distinct"])
    return row


def backlog(f: DashboardFilter, user: Any, now: datetime) -> dict[str, Any]:
    """Open complaints now, by status and by age (one query)."""
    counts = {f"s_{state}": Count("pk", filter=Q(status=state)) for state in BACKLOG_STATES}
    counts |= {
        f"a_{key}": Count("pk", filter=_age_condition(now, low, high))
        for key, _label, low, high in AGE_BUCKETS
    }
    row = base(f, user).filter(status__in=list(OPEN_STATES)).aggregate(total=Count("pk"), **counts)
    return {
        "total": row["total"],
        "by_status": [(S(state), row[f"s_{state}"]) for state in BACKLOG_STATES],
        "by_age": [
            (key, label, low, high, row[f"a_{key}"]) for key, label, low, high in AGE_BUCKETS
        ],
    }


def times(f: DashboardFilter, user: Any) -> dict[str, Any]:
    """Median and 90th percentile of first response and resolution in business
    minutes (one query each)."""
    first = percentiles(
        base(f, user).filter(f.within("first_response_at")),
        "durations__first_response_minutes",
        FRACTIONS,
    )
    resolution = percentiles(
        base(f, user).filter(f.within("resolved_at")),
        "durations__resolution_minutes",
        FRACTIONS,
    )
    return {
        "first_response_median": first[0.5],
        "first_response_p90": first[0.9],
        "resolution_median": resolution[0.5],
        "resolution_p90": resolution[0.9],
    }


def satisfaction(f: DashboardFilter, user: Any) -> dict[str, Any]:
    """Survey answers given in the period (one query)."""
    row = SurveyResponse.objects.filter(related_scope(f, user), f.within("answered_at")).aggregate(
        answers=Count("pk"),
        average=Avg("rating"),
        satisfied=Count("pk", filter=Q(rating__gte=SATISFIED_RATING)),
    )
    row["average"] = round(row["average"], 2) if row["average"] is not None else None
    row["satisfied_share"] = share(row["satisfied"], row["answers"])
    return row


def reopens(f: DashboardFilter, user: Any) -> dict[str, Any]:
    """Reopen and resolve transitions in the period (one query)."""
    row = StatusChange.objects.filter(related_scope(f, user), f.within("created_at")).aggregate(
        reopens=Count("pk", filter=Q(transition="reopen")),
        resolutions=Count("pk", filter=Q(transition="resolve")),
    )
    row["reopen_rate"] = share(row["reopens"], row["resolutions"])
    return row


def escalations(f: DashboardFilter, user: Any) -> dict[str, Any]:
    """Escalations opened and settled in the period, and open now (one query)."""
    return Escalation.objects.filter(related_scope(f, user)).aggregate(
        opened=Count("pk", filter=f.within("opened_at")),
        settled=Count("pk", filter=f.within("settled_at")),
        open_now=Count("pk", filter=Q(settled_at__isnull=True)),
    )


def collaboration(f: DashboardFilter, user: Any, now: datetime) -> dict[str, Any]:
    """Collaboration requests due in the period: answered on time, and decided (one
    query)."""
    due = f.within("due_at") & ~Q(status=CollaborationRequest.Status.CANCELLED)
    decided = Q(answered_at__isnull=False) | Q(due_at__lt=now)
    row = CollaborationRequest.objects.filter(related_scope(f, user)).aggregate(
        due=Count("pk", filter=due & decided),
        on_time=Count("pk", filter=due & Q(answered_at__lte=F("due_at"))),
        overdue_open=Count(
            "pk",
            filter=Q(status=CollaborationRequest.Status.OPEN, due_at__lt=now),
        ),
    )
    row["on_time_share"] = share(row["on_time"], row["due"])
    return row


def improvements(f: DashboardFilter, user: Any, today) -> dict[str, Any]:
    """Improvement actions open (or in progress) and overdue now, owned by the
    filter's team; for non-supervisors by their own teams (one query)."""
    qs = ImprovementAction.objects.filter(
        status__in=[ImprovementAction.Status.OPEN, ImprovementAction.Status.IN_PROGRESS]
    )
    if not sees_everything(user):
        qs = qs.filter(owner_team_id__in=permissions.team_ids_of(user))
    if f.team is not None:
        qs = qs.filter(owner_team_id=f.team.pk)
    return qs.aggregate(open=Count("pk"), overdue=Count("pk", filter=Q(due_date__lt=today)))


def dashboard_figures(
    f: DashboardFilter, user: Any, *, now: datetime | None = None
) -> dict[str, Any]:
    """Every headline figure of the dashboard (ten queries)."""
    now = now or timezone.now()
    return {
        "volume": volume(f, user, now),
        "backlog": backlog(f, user, now),
        "times": times(f, user),
        "satisfaction": satisfaction(f, user),
        "reopens": reopens(f, user),
        "escalations": escalations(f, user),
        "collaboration": collaboration(f, user, now),
        "improvements": improvements(f, user, timezone.localdate(now)),
    }
