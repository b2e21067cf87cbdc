"""The dashboard's headline figures for a filter and a user.

Definitions (each a fixed number of aggregate queries; all but collaboration and
improvement actions read the daily rollup, analytics/rollup.py, so they are as of
its last run, `dashboard_figures()["as_of"]`, about a minute behind; the rollup's
grain read is the smallest that keeps the filter's dimensions, `stats`):

- received: complaints received in the period; resolved: complaints whose current
  resolution falls in the period (a reopened complaint counts when resolved again).
- backlog: open complaints now (the dimensions apply, the period does not), by status
  and by age in whole local days since received (today, 1–2 days ago…).
- first response / resolution time: median and 90th percentile in business minutes
  (ComplaintDurations; exact under 2 hours, to 10 minutes under a day, to the hour
  beyond) of the complaints answered / resolved in the period: from the per-day
  histograms (DailyDurationBuckets) for a supervisor's view filtered by team at
  most, else from ComplaintDurations itself, in the same steps.
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

from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from complaints import permissions
from complaints.analytics.filters import DashboardFilter, scope, sees_everything
from complaints.analytics.percentiles import bucket_percentiles, percentiles
from complaints.analytics.rollup import OPEN_COLUMNS, bucket, grain_for, rollup_as_of
from complaints.models import (
    CollaborationRequest,
    Complaint,
    ComplaintDurations,
    DailyComplaintStats,
    DailyDurationBuckets,
    ImprovementAction,
)
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
# Per kind of duration: the moment it is counted by and its minutes.
MINUTES = {
    DailyDurationBuckets.Kind.FIRST_RESPONSE: ("first_response_at", "first_response_minutes"),
    DailyDurationBuckets.Kind.RESOLUTION: ("resolved_at", "resolution_minutes"),
}


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


def needed_dimensions(f: DashboardFilter, user: Any, by: tuple[str, ...] = ()) -> set[str]:
    """The slice dimensions a read filters or groups by (attribute names)."""
    needed = set(by)
    for name, value in (
        ("team_id", f.team),
        ("category_id", f.category),
        ("product_id", f.product),
        ("channel", f.channel),
    ):
        if value:
            needed.add(name)
    if not sees_everything(user):
        needed.add("assignee_id")
    return needed


def stats(
    f: DashboardFilter, user: Any, *, period: bool = True, by: tuple[str, ...] = ()
) -> QuerySet:
    """The user's rollup rows (DailyComplaintStats) matching the filter's dimensions,
    in the period (or on any day: snapshots), of the smallest grain that keeps the
    filter's dimensions and `by` (the dimensions the caller groups by). Supervisors
    count every complaint; anyone else the complaints assigned to them (what `scope`
    keeps for them)."""
    grain = grain_for(needed_dimensions(f, user, by))
    qs = DailyComplaintStats.objects.filter(f.dimensions(), grain=grain)
    if period:
        qs = qs.filter(day__gte=f.start, day__lte=f.end)
    if not sees_everything(user):
        qs = qs.filter(assignee_id=getattr(user, "pk", None))
    return qs


def durations(f: DashboardFilter, user: Any, kind: str) -> QuerySet:
    """The business-time histogram rows of `kind` in the period (per day and team:
    for a supervisor's view filtered by team at most)."""
    return DailyDurationBuckets.objects.filter(
        f.dimensions(), kind=kind, day__gte=f.start, day__lte=f.end
    )


def duration_percentiles(
    f: DashboardFilter,
    user: Any,
    kind: str,
    fractions: tuple[float, ...],
    *,
    group: str | None = None,
) -> dict:
    """Percentiles of the business minutes of `kind` (first response by the moment
    answered, resolution by the moment resolved) in the period, in the histogram's
    steps (rollup.bucket), optionally per `group` (team_id, assignee_id); see
    percentiles.percentiles for the shape.

    A supervisor's view with at most a team filter, overall or per team, sums the
    per-day-and-team histograms (one query, a few thousand rows). Any other filter,
    an agent's own figures and the per-agent medians read ComplaintDurations (the
    minutes with the complaint's moments and dimensions) through its covering index:
    the same steps, so the same figures."""
    needed = needed_dimensions(f, user, (group,) if group else ())
    if needed <= {"team_id"}:
        return bucket_percentiles(durations(f, user, kind), fractions, group=group)
    moment, field = MINUTES[kind]
    qs = ComplaintDurations.objects.filter(f.within(moment), f.dimensions())
    if not sees_everything(user):
        qs = qs.filter(assignee_id=getattr(user, "pk", None))
    qs = qs.filter(**{f"{field}__isnull": False}).annotate(_minutes=bucket(F(field)))
    return percentiles(qs, "_minutes", fractions, group=group)


def _sums(qs: QuerySet, *columns: str) -> dict[str, int]:
    row = qs.aggregate(**{c: Sum(c) for c in columns})
    return {c: row[c] or 0 for c in columns}


# The period's counts the headline figures read (dashboard_figures sums them once).
PERIOD_COUNTS = (
    "received",
    "received_distinct",
    "repeats",
    "resolved",
    "surveyed",
    "response_met",
    "response_stopped",
    "response_overdue",
    "resolution_met",
    "resolution_stopped",
    "resolution_overdue",
    "answers",
    "rating_sum",
    "satisfied",
    "reopens",
    "resolutions",
    "escalations_opened",
    "escalations_settled",
)


def period_counts(f: DashboardFilter, user: Any) -> dict[str, int]:
    """Every additive count of the period the headline figures need (one query)."""
    return _sums(stats(f, user), *PERIOD_COUNTS)


def volume(
    f: DashboardFilter, user: Any, now: datetime, *, counts: dict[str, int] | None = None
) -> dict[str, Any]:
    """Received, resolved, SLA compliance, survey response rate and repeat rate (one
    query on the rollup, none with `counts` from `period_counts`). The clocks past
    their deadline are those of the rollup's last run (`rollup.rollup_as_of`)."""
    counts = counts or period_counts(f, user)
    row = {
        key: counts[key]
        for key in (
            "received",
            "received_distinct",
            "repeats",
            "resolved",
            "surveyed",
            "response_met",
            "resolution_met",
        )
    }
    row["response_total"] = counts["response_stopped"] + counts["response_overdue"]
    row["resolution_total"] = counts["resolution_stopped"] + counts["resolution_overdue"]
    row["response_compliance"] = share(row["response_met"], row["response_total"])
    row["resolution_compliance"] = share(row["resolution_met"], row["resolution_total"])
    row["survey_response_rate"] = share(row["surveyed"], row["resolved"])
    row["repeat_rate"] = share(row["repeats"], row["received_distinct"])
    return row


def open_now(f: DashboardFilter, user: Any, now: datetime) -> dict[str, int]:
    """The snapshot counts as of the rollup's last run (one query over the rows with
    something open: partial index): open complaints by status and by age in whole
    local days since received, and escalations open."""
    today = timezone.localdate(now)
    sums = {f"s_{state}": Sum(OPEN_COLUMNS[state]) for state in BACKLOG_STATES}
    for key, _label, low, high in AGE_BUCKETS:
        days = Q(day__lte=today - timedelta(days=low))
        if high is not None:
            days &= Q(day__gt=today - timedelta(days=high))
        sums[f"a_{key}"] = Sum("open_total", filter=days)
    row = (
        stats(f, user, period=False)
        .filter(Q(open_total__gt=0) | Q(escalations_open__gt=0))
        .aggregate(total=Sum("open_total"), escalations_open=Sum("escalations_open"), **sums)
    )
    return {key: value or 0 for key, value in row.items()}


def backlog(
    f: DashboardFilter, user: Any, now: datetime, *, snapshot: dict[str, int] | None = None
) -> dict[str, Any]:
    """Open complaints (as of the rollup's last run), by status and by age in whole
    local days since received (one query, none with `snapshot` from `open_now`)."""
    row = snapshot or open_now(f, user, now)
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
    kinds = DailyDurationBuckets.Kind
    first = duration_percentiles(f, user, kinds.FIRST_RESPONSE, FRACTIONS)
    resolution = duration_percentiles(f, user, kinds.RESOLUTION, FRACTIONS)
    return {
        "first_response_median": first[0.5],
        "first_response_p90": first[0.9],
        "resolution_median": resolution[0.5],
        "resolution_p90": resolution[0.9],
    }


def satisfaction(
    f: DashboardFilter, user: Any, *, counts: dict[str, int] | None = None
) -> dict[str, Any]:
    """Survey answers given in the period (one query, none with `counts`)."""
    counts = counts or period_counts(f, user)
    row = {"answers": counts["answers"], "satisfied": counts["satisfied"]}
    total = counts["rating_sum"]
    row["average"] = round(total / row["answers"], 2) if row["answers"] else None
    row["satisfied_share"] = share(row["satisfied"], row["answers"])
    return row


def reopens(
    f: DashboardFilter, user: Any, *, counts: dict[str, int] | None = None
) -> dict[str, Any]:
    """Reopen and resolve transitions in the period (one query, none with `counts`)."""
    counts = counts or period_counts(f, user)
    row = {"reopens": counts["reopens"], "resolutions": counts["resolutions"]}
    row["reopen_rate"] = share(row["reopens"], row["resolutions"])
    return row


def escalations(
    f: DashboardFilter,
    user: Any,
    *,
    counts: dict[str, int] | None = None,
    snapshot: dict[str, int] | None = None,
) -> dict[str, Any]:
    """Escalations opened and settled in the period, and open now (two queries,
    none with `counts` and `snapshot`)."""
    counts = counts or period_counts(f, user)
    snapshot = snapshot or open_now(f, user, timezone.now())
    return {
        "opened": counts["escalations_opened"],
        "settled": counts["escalations_settled"],
        "open_now": snapshot["escalations_open"],
    }


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
    """Every headline figure of the dashboard (seven queries, five on the rollup),
    with `as_of`: when the rollup was last brought up to date."""
    now = now or timezone.now()
    counts = period_counts(f, user)
    snapshot = open_now(f, user, now)
    return {
        "as_of": rollup_as_of(),
        "volume": volume(f, user, now, counts=counts),
        "backlog": backlog(f, user, now, snapshot=snapshot),
        "times": times(f, user),
        "satisfaction": satisfaction(f, user, counts=counts),
        "reopens": reopens(f, user, counts=counts),
        "escalations": escalations(f, user, counts=counts, snapshot=snapshot),
        "collaboration": collaboration(f, user, now),
        "improvements": improvements(f, user, timezone.localdate(now)),
    }
