"""The daily rollup: the dashboard's additive counts per local day and slice
(DailyComplaintStats) and the business-time histograms (DailyDurationBuckets).

Why: on a million complaints, counting the period's complaints on every dashboard
view takes seconds even with indexes; the rollup holds a few rows per day and slice,
so the dashboard reads hundreds of rows instead of hundreds of thousands.

How it is kept (incremental, idempotent):
- the unit of work is a whole local day: every row of a dirty day is deleted and
  computed again from the complaints (a fixed number of grouped queries), so a day
  recomputed twice holds the same rows;
- a day is dirty when a complaint counted on it changed (its `version` moved past
  RollupMark.version: the mark keeps the days it was counted on, so the old days of
  a reopened complaint or of a moved deadline are recomputed too), when a status
  change, survey answer or escalation happened on it since the last run, or when a
  deadline passed on it since the last run (the overdue counts depend on the clock);
- each run holds a lock on the single RollupState row for its whole transaction:
  two runs at once take turns, the second finds the work done;
- RollupState.as_of is the moment of the last run: the dashboard shows "figures as
  of" it. The periodic task runs every minute, so the figures lag by about a minute
  plus the run time. Snapshot counts (backlog, escalations open) are as of then.

`rollup_rebuild()` recomputes everything (after bulk loads, by the bench).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Case, Count, Exists, F, IntegerField, OuterRef, Q, Sum, When
from django.db.models.functions import TruncDate
from django.utils import timezone

from complaints.analytics.durations import durations_refresh_all
from complaints.models import (
    Complaint,
    DailyComplaintStats,
    DailyDurationBuckets,
    Escalation,
    RollupMark,
    RollupState,
    StatusChange,
    SurveyResponse,
)
from complaints.workflow import OPEN_STATES
from complaints.workflow import ComplaintStatus as S

DIMENSIONS = ("team_id", "category_id", "product_id", "channel", "assignee_id")
OPEN_COLUMNS = {
    S.NEW: "open_new",
    S.TRIAGED: "open_triaged",
    S.REOPENED: "open_reopened",
    S.ASSIGNED: "open_assigned",
    S.IN_PROGRESS: "open_in_progress",
    S.AWAITING_CUSTOMER: "open_awaiting_customer",
}
# Moments stamped by a transaction still open when a run starts commit after it:
# events are re-read this far back (a day recomputed twice is harmless).
MARGIN = timedelta(minutes=10)
# Days recomputed per step of a full rebuild (bounded memory).
CHUNK_DAYS = 7
SATISFIED_RATING = 4
# Complaints whose mark is refreshed per run (the rest wait for the next run).
BATCH = 5000
MOMENTS = {
    "received_day": "received_at",
    "answered_day": "first_response_at",
    "resolved_day": "resolved_at",
    "response_due_day": "response_due_at",
    "resolution_due_day": "resolution_due_at",
}


def local_day(field: str) -> TruncDate:
    return TruncDate(field, tzinfo=timezone.get_current_timezone())


def _bounds(day: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def _on_days(field: str, days: Iterable[date]) -> Q:
    """`field` falls on one of `days` (one range per run of consecutive days, so
    the database uses the field's index)."""
    q = Q(pk__in=[])
    run: list[date] = []
    for day in [*sorted(set(days)), None]:
        if run and (day is None or day != run[-1] + timedelta(days=1)):
            q |= Q(**{f"{field}__gte": _bounds(run[0])[0], f"{field}__lt": _bounds(run[-1])[1]})
            run = []
        if day is not None:
            run.append(day)
    return q


def _dims(prefix: str = "") -> dict[str, F]:
    return {name: F(f"{prefix}{name}") for name in DIMENSIONS}


def _grouped(qs, moment: str, prefix: str = "", **aggregates) -> Iterable[dict]:
    """`aggregates` of `qs` per local day of `moment` and slice."""
    return (
        qs.annotate(_day=local_day(moment), **{f"_{k}": v for k, v in _dims(prefix).items()})
        .values("_day", *[f"_{name}" for name in DIMENSIONS])
        .annotate(**aggregates)
        .order_by()
    )


def _add(rows: dict, grouped: Iterable[dict], days: set[date]) -> None:
    for row in grouped:
        day = row.pop("_day")
        if isinstance(day, str):  # SQLite without type conversion
            day = date.fromisoformat(day)
        if day not in days:
            continue
        key = (day, *(row.pop(f"_{name}") for name in DIMENSIONS))
        bucket = rows[key]
        for column, value in row.items():
            bucket[column] = bucket.get(column, 0) + (value or 0)


def _repeat_exists() -> Exists:
    from complaints.analytics.figures import REPEAT_WINDOW

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


def _counts(days: set[date], now: datetime) -> dict[tuple, dict[str, int]]:
    """Every count of DailyComplaintStats for `days`, per (day, *slice)."""
    rows: dict[tuple, dict[str, int]] = defaultdict(dict)
    complaints = Complaint.objects.all()
    unfinished = Q(status__in=list(OPEN_STATES))
    survey_answered = Exists(
        SurveyResponse.objects.filter(complaint_id=OuterRef("pk"), cycle=OuterRef("reopen_count"))
    )
    received = complaints.filter(_on_days("received_at", days))
    not_merged = ~Q(status=S.MERGED)
    _add(
        rows,
        _grouped(
            received,
            "received_at",
            received=Count("pk"),
            received_distinct=Count("pk", filter=not_merged),
            repeats=Count("pk", filter=not_merged & Q(_repeat_exists())),
            trend_response_met=Count("pk", filter=Q(first_response_at__lte=F("response_due_at"))),
            trend_response_total=Count(
                "pk",
                filter=Q(response_due_at__isnull=False)
                & (Q(first_response_at__isnull=False) | Q(response_due_at__lt=now)),
            ),
            trend_resolution_met=Count("pk", filter=Q(resolved_at__lte=F("resolution_due_at"))),
            trend_resolution_total=Count(
                "pk",
                filter=Q(resolution_due_at__isnull=False)
                & (Q(resolved_at__isnull=False) | Q(resolution_due_at__lt=now)),
            ),
            open_total=Count("pk", filter=unfinished),
            **{col: Count("pk", filter=Q(status=state)) for state, col in OPEN_COLUMNS.items()},
        ),
        days,
    )
    _add(
        rows,
        _grouped(
            complaints.filter(_on_days("first_response_at", days)),
            "first_response_at",
            response_met=Count("pk", filter=Q(first_response_at__lte=F("response_due_at"))),
            response_stopped=Count("pk", filter=Q(response_due_at__isnull=False)),
        ),
        days,
    )
    _add(
        rows,
        _grouped(
            complaints.filter(_on_days("resolved_at", days)),
            "resolved_at",
            resolved=Count("pk"),
            surveyed=Count("pk", filter=Q(survey_answered)),
            resolution_met=Count("pk", filter=Q(resolved_at__lte=F("resolution_due_at"))),
            resolution_stopped=Count("pk", filter=Q(resolution_due_at__isnull=False)),
        ),
        days,
    )
    _add(
        rows,
        _grouped(
            complaints.filter(
                _on_days("response_due_at", days),
                unfinished,
                first_response_at__isnull=True,
                response_due_at__lt=now,
            ),
            "response_due_at",
            response_overdue=Count("pk"),
        ),
        days,
    )
    _add(
        rows,
        _grouped(
            complaints.filter(
                _on_days("resolution_due_at", days),
                unfinished,
                resolved_at__isnull=True,
                resolution_due_at__lt=now,
            ),
            "resolution_due_at",
            resolution_overdue=Count("pk"),
        ),
        days,
    )
    surveys = SurveyResponse.objects.all()
    _add(
        rows,
        _grouped(
            surveys.filter(_on_days("answered_at", days)),
            "answered_at",
            "complaint__",
            answers=Count("pk"),
            rating_sum=Sum("rating"),
            satisfied=Count("pk", filter=Q(rating__gte=SATISFIED_RATING)),
        ),
        days,
    )
    _add(
        rows,
        _grouped(
            surveys.filter(_on_days("complaint__received_at", days)),
            "complaint__received_at",
            "complaint__",
            csat_cohort_answers=Count("pk"),
            csat_cohort_rating_sum=Sum("rating"),
        ),
        days,
    )
    _add(
        rows,
        _grouped(
            StatusChange.objects.filter(
                _on_days("created_at", days), transition__in=["reopen", "resolve"]
            ),
            "created_at",
            "complaint__",
            reopens=Count("pk", filter=Q(transition="reopen")),
            resolutions=Count("pk", filter=Q(transition="resolve")),
        ),
        days,
    )
    escalations = Escalation.objects.all()
    _add(
        rows,
        _grouped(
            escalations.filter(_on_days("opened_at", days)),
            "opened_at",
            "complaint__",
            escalations_opened=Count("pk"),
        ),
        days,
    )
    _add(
        rows,
        _grouped(
            escalations.filter(_on_days("settled_at", days)),
            "settled_at",
            "complaint__",
            escalations_settled=Count("pk"),
        ),
        days,
    )
    _add(
        rows,
        _grouped(
            escalations.filter(_on_days("complaint__received_at", days), settled_at__isnull=True),
            "complaint__received_at",
            "complaint__",
            escalations_open=Count("pk"),
        ),
        days,
    )
    return rows


def bucket(minutes: F) -> Case:
    """Business minutes to their histogram step: exact under 2 hours, 10 minutes
    under a day, hours beyond (integer division in SQL)."""
    return Case(
        When(**{f"{minutes.name}__lt": 120}, then=minutes),
        When(**{f"{minutes.name}__lt": 1440}, then=minutes / 10 * 10),
        default=minutes / 60 * 60,
        output_field=IntegerField(),
    )


def _buckets(days: set[date]) -> list[DailyDurationBuckets]:
    out = []
    for kind, moment, field in (
        (DailyDurationBuckets.Kind.FIRST_RESPONSE, "first_response_at", "first_response_minutes"),
        (DailyDurationBuckets.Kind.RESOLUTION, "resolved_at", "resolution_minutes"),
    ):
        qs = Complaint.objects.filter(
            _on_days(moment, days), **{f"durations__{field}__isnull": False}
        ).annotate(_minutes=bucket(F(f"durations__{field}")))
        grouped = (
            qs.annotate(_day=local_day(moment))
            .values("_day", "_minutes", *DIMENSIONS)
            .annotate(n=Count("pk"))
            .order_by()
        )
        for row in grouped:
            day = row["_day"]
            day = date.fromisoformat(day) if isinstance(day, str) else day
            if day not in days:
                continue
            out.append(
                DailyDurationBuckets(
                    day=day,
                    kind=kind,
                    minutes=row["_minutes"],
                    count=row["n"],
                    **{name: row[name] for name in DIMENSIONS},
                )
            )
    return out


def _recompute(days: set[date], now: datetime) -> int:
    """Replace every row of `days` (inside the caller's transaction); returns how
    many stats rows were written."""
    if not days:
        return 0
    counts = _counts(days, now)
    stats = [
        DailyComplaintStats(
            day=key[0],
            **dict(zip(DIMENSIONS, key[1:], strict=True)),
            **values,
        )
        for key, values in counts.items()
    ]
    buckets = _buckets(days)
    DailyComplaintStats.objects.filter(day__in=days).delete()
    DailyDurationBuckets.objects.filter(day__in=days).delete()
    DailyComplaintStats.objects.bulk_create(stats, batch_size=2000)
    DailyDurationBuckets.objects.bulk_create(buckets, batch_size=2000)
    return len(stats)


def _with_days(qs):
    return qs.annotate(**{name: local_day(field) for name, field in MOMENTS.items()})


def _as_date(value) -> date | None:
    if isinstance(value, str):
        return date.fromisoformat(value)
    return value


def _lock() -> RollupState:
    RollupState.objects.get_or_create(pk=1)
    return RollupState.objects.select_for_update().get(pk=1)


def _event_days(since: datetime, now: datetime) -> tuple[set[date], set[int]]:
    """Days something happened on since `since`, and the complaints it happened to."""
    days: set[date] = set()
    ids: set[int] = set()
    tz = timezone.get_current_timezone()

    def take(qs, *moments: str) -> None:
        for row in qs.values("complaint_id", *moments):
            ids.add(row["complaint_id"])
            for moment in moments:
                if row[moment] is not None:
                    days.add(timezone.localtime(row[moment], tz).date())

    take(StatusChange.objects.filter(created_at__gte=since), "created_at")
    take(SurveyResponse.objects.filter(answered_at__gte=since), "answered_at")
    take(
        Escalation.objects.filter(Q(opened_at__gte=since) | Q(settled_at__gte=since)),
        "opened_at",
        "settled_at",
    )
    # Deadlines that passed since: the overdue counts and the SLA trend move.
    for field, stop in (
        ("response_due_at", "first_response_at"),
        ("resolution_due_at", "resolved_at"),
    ):
        passed = Complaint.objects.filter(
            **{f"{field}__gte": since, f"{field}__lt": now, f"{stop}__isnull": True}
        )
        for pk, moment in passed.values_list("pk", field):
            ids.add(pk)
            days.add(timezone.localtime(moment, tz).date())
    return days, ids


def rollup_refresh(*, now: datetime | None = None, batch: int = BATCH) -> int:
    """Bring the rollup up to date incrementally; returns how many days were
    recomputed. Runs the durations refresh first (the histograms read it)."""
    durations_refresh_all()
    now = now or timezone.now()
    with transaction.atomic():
        state = _lock()
        if state.as_of is None:
            return _rebuild_locked(state, now=now)
        changed = list(
            _with_days(
                Complaint.objects.filter(
                    Q(rollup_mark__isnull=True) | ~Q(rollup_mark__version=F("version"))
                )
            ).values("pk", "version", *MOMENTS)[:batch]
        )
        event_days, event_ids = _event_days(state.as_of - MARGIN, now)
        touched = {row["pk"] for row in changed} | event_ids
        days = set(event_days)
        # Old days (from the marks) and new days (from the complaints themselves).
        for mark in RollupMark.objects.filter(pk__in=touched).values(*MOMENTS):
            days |= {_as_date(v) for v in mark.values()}
        for row in changed:
            days |= {_as_date(row[name]) for name in MOMENTS}
        unchanged_events = event_ids - {row["pk"] for row in changed}
        for row in _with_days(Complaint.objects.filter(pk__in=unchanged_events)).values(*MOMENTS):
            days |= {_as_date(v) for v in row.values()}
        days.discard(None)
        _recompute(days, now)
        RollupMark.objects.bulk_create(
            [
                RollupMark(
                    complaint_id=row["pk"],
                    version=row["version"],
                    **{name: _as_date(row[name]) for name in MOMENTS},
                )
                for row in changed
            ],
            update_conflicts=True,
            unique_fields=["complaint"],
            update_fields=["version", *MOMENTS],
        )
        state.as_of = now
        state.save(update_fields=["as_of"])
    return len(days)


def _marks_rebuild() -> None:
    """Every complaint's mark, in one INSERT … SELECT (no row passes through Python)."""
    RollupMark.objects.all().delete()
    qs = _with_days(Complaint.objects.order_by()).values_list("pk", "version", *MOMENTS)
    sql, params = qs.query.sql_with_params()
    columns = ", ".join(connection.ops.quote_name(c) for c in ("complaint_id", "version", *MOMENTS))
    table = connection.ops.quote_name(RollupMark._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({columns}) {sql}", params)


def _all_days(since: date | None) -> list[date]:
    """Every local day some counted moment falls on (from `since`)."""
    found: set[date] = set()
    for model, fields in (
        (Complaint, list(MOMENTS.values())),
        (SurveyResponse, ["answered_at"]),
        (StatusChange, ["created_at"]),
        (Escalation, ["opened_at", "settled_at"]),
    ):
        for field in fields:
            for value in (
                model.objects.filter(**{f"{field}__isnull": False})
                .annotate(_day=local_day(field))
                .values_list("_day", flat=True)
                .distinct()
                .order_by()
            ):
                found.add(_as_date(value))
    return sorted(d for d in found if since is None or d >= since)


def _rebuild_locked(state: RollupState, *, now: datetime, since: date | None = None) -> int:
    days = _all_days(since)
    if since is None:
        DailyComplaintStats.objects.all().delete()
        DailyDurationBuckets.objects.all().delete()
    else:
        DailyComplaintStats.objects.filter(day__gte=since).delete()
        DailyDurationBuckets.objects.filter(day__gte=since).delete()
    for i in range(0, len(days), CHUNK_DAYS):
        _recompute(set(days[i : i + CHUNK_DAYS]), now)
    _marks_rebuild()
    state.as_of = now
    state.save(update_fields=["as_of"])
    return len(days)


def rollup_rebuild(*, since: date | None = None, now: datetime | None = None) -> int:
    """Recompute every day (or every day from `since`) and every mark; returns the
    number of days. Holds the rollup lock: refreshes wait for it."""
    durations_refresh_all()
    now = now or timezone.now()
    with transaction.atomic():
        return _rebuild_locked(_lock(), now=now, since=since)


def rollup_as_of() -> datetime | None:
    """When the figures were last brought up to date (None: never built)."""
    return RollupState.objects.filter(pk=1).values_list("as_of", flat=True).first()


def stats_rows(**filters: Any):
    return DailyComplaintStats.objects.filter(**filters)
