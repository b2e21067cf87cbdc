"""The daily rollup: the dashboard's additive counts per local day and slice
(DailyComplaintStats, at several grains) and the business-time histograms per day
and team (DailyDurationBuckets).

Why: on a million complaints, counting the period's complaints on every dashboard
view takes seconds even with indexes; the rollup holds a few rows per day and slice,
so the dashboard reads hundreds of rows instead of hundreds of thousands.

How it is computed (set-based: no complaint row passes through Python): for a set of
days, one INSERT … SELECT sums every source (complaints received, answered,
resolved, past their deadlines; survey answers; reopen/resolve transitions;
escalations), each grouped by local day and the full slice, into the full grain;
one INSERT … SELECT per coarser grain then sums the full grain's rows of those days
(GRAIN_DIMENSIONS); one per kind counts ComplaintDurations into the histograms.

How it is kept (incremental, idempotent):
- the unit of work is a whole local day: every row of a dirty day is deleted and
  computed again from the complaints (a fixed number of statements), so a day
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
  A rollup never built (as_of empty, e.g. after a migration changed its grains) is
  rebuilt by the next run.

`rollup_rebuild()` recomputes everything (after bulk loads, by the bench): the same
statements over every day at once, a few minutes for a million complaints.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import TruncDate
from django.utils import timezone

from complaints.analytics.durations import durations_refresh_all, touched_since
from complaints.models import (
    Complaint,
    ComplaintDurations,
    DailyComplaintStats,
    DailyDurationBuckets,
    Escalation,
    RollupMark,
    RollupState,
    StatusChange,
    SurveyResponse,
)
from complaints.models.analytics import GRAIN_DIMENSIONS
from complaints.workflow import OPEN_STATES
from complaints.workflow import ComplaintStatus as S

Grain = DailyComplaintStats.Grain
DIMENSIONS = GRAIN_DIMENSIONS[Grain.FULL]
# Every count column, in the model's order.
COUNTS = tuple(
    f.attname
    for f in DailyComplaintStats._meta.concrete_fields
    if f.attname not in {"id", "grain", "day", *DIMENSIONS}
)
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
SATISFIED_RATING = 4
# Complaints whose mark is refreshed per run (the rest wait for the next run).
BATCH = 5000
# A run compares only the complaints changed since the previous run with their marks
# (those with a history row since: durations.touched_since); this often, every
# complaint is compared (a change written without history, a transaction open longer
# than MARGIN).
FULL_CHECK_EVERY = timedelta(hours=1)
MOMENTS = {
    "received_day": "received_at",
    "answered_day": "first_response_at",
    "resolved_day": "resolved_at",
    "response_due_day": "response_due_at",
    "resolution_due_day": "resolution_due_at",
}
# Memory for the grouping of a whole rebuild (PostgreSQL, this transaction only):
# the full grain of a million complaints is a few million groups.
REBUILD_WORK_MEM = "256MB"


def grain_for(needed: Iterable[str]) -> int:
    """The smallest grain that keeps every dimension in `needed` (attribute names:
    team_id, category_id, product_id, channel, assignee_id)."""
    wanted = set(needed)
    for grain, dims in GRAIN_DIMENSIONS.items():
        if wanted <= set(dims):
            return grain
    raise ValueError(f"no grain keeps {sorted(wanted)}")


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


@dataclass(frozen=True)
class Days:
    """The local days a computation covers: the given ones, or every day from
    `since` (every day at all when both are empty)."""

    only: frozenset[date] | None = None
    since: date | None = None

    def moment(self, field: str) -> Q:
        """`field` falls on one of the days."""
        if self.only is not None:
            return _on_days(field, self.only)
        q = Q(**{f"{field}__isnull": False})
        if self.since is not None:
            q &= Q(**{f"{field}__gte": _bounds(self.since)[0]})
        return q

    def rows(self) -> Q:
        """A rollup row's `day` is one of the days."""
        if self.only is not None:
            return Q(day__in=sorted(self.only))
        return Q(day__gte=self.since) if self.since is not None else Q()


# A source row counts once in a count given as EVERY, or when its condition holds.
EVERY = Value(1, output_field=IntegerField())


def _rows(qs, moment: str, prefix: str = "", **counts: Q | Value | F) -> QuerySet:
    """`qs` row by row: its local day of `moment`, its full slice and what it adds to
    each of `counts` (a condition: 1 if it holds, else 0; an expression: its value).
    No grouping here: the one GROUP BY of `_insert_full` sums every source at once."""
    dims = {f"_{name}": F(f"{prefix}{name}") for name in DIMENSIONS}
    # Prefixed: a count's name may be a relation's too (Complaint.repeats).
    values = {
        f"_{name}": Case(When(count, then=EVERY), default=Value(0), output_field=IntegerField())
        if isinstance(count, Q)
        else count
        for name, count in counts.items()
    }
    return (
        qs.annotate(_day=local_day(moment), **dims, **values)
        .values("_day", *dims, *values)
        .order_by()
    )


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


def _sources(days: Days, now: datetime) -> list[QuerySet]:
    """One query per source of DailyComplaintStats' counts on `days`, each giving
    some of the counts, row by row, with the local day and full slice they count on."""
    complaints = Complaint.objects.all()
    unfinished = Q(status__in=list(OPEN_STATES))
    survey_answered = Exists(
        SurveyResponse.objects.filter(complaint_id=OuterRef("pk"), cycle=OuterRef("reopen_count"))
    )
    not_merged = ~Q(status=S.MERGED)
    surveys = SurveyResponse.objects.all()
    escalations = Escalation.objects.all()
    return [
        _rows(
            complaints.filter(days.moment("received_at")),
            "received_at",
            received=EVERY,
            received_distinct=not_merged,
            repeats=not_merged & Q(_repeat_exists()),
            trend_response_met=Q(first_response_at__lte=F("response_due_at")),
            trend_response_total=Q(response_due_at__isnull=False)
            & (Q(first_response_at__isnull=False) | Q(response_due_at__lt=now)),
            trend_resolution_met=Q(resolved_at__lte=F("resolution_due_at")),
            trend_resolution_total=Q(resolution_due_at__isnull=False)
            & (Q(resolved_at__isnull=False) | Q(resolution_due_at__lt=now)),
            open_total=unfinished,
            **{col: Q(status=state) for state, col in OPEN_COLUMNS.items()},
        ),
        _rows(
            complaints.filter(days.moment("first_response_at")),
            "first_response_at",
            response_met=Q(first_response_at__lte=F("response_due_at")),
            response_stopped=Q(response_due_at__isnull=False),
        ),
        _rows(
            complaints.filter(days.moment("resolved_at")),
            "resolved_at",
            resolved=EVERY,
            surveyed=Q(survey_answered),
            resolution_met=Q(resolved_at__lte=F("resolution_due_at")),
            resolution_stopped=Q(resolution_due_at__isnull=False),
        ),
        _rows(
            complaints.filter(
                days.moment("response_due_at"),
                unfinished,
                first_response_at__isnull=True,
                response_due_at__lt=now,
            ),
            "response_due_at",
            response_overdue=EVERY,
        ),
        _rows(
            complaints.filter(
                days.moment("resolution_due_at"),
                unfinished,
                resolved_at__isnull=True,
                resolution_due_at__lt=now,
            ),
            "resolution_due_at",
            resolution_overdue=EVERY,
        ),
        _rows(
            surveys.filter(days.moment("answered_at")),
            "answered_at",
            "complaint__",
            answers=EVERY,
            rating_sum=F("rating"),
            satisfied=Q(rating__gte=SATISFIED_RATING),
        ),
        _rows(
            surveys.filter(days.moment("complaint__received_at")),
            "complaint__received_at",
            "complaint__",
            csat_cohort_answers=EVERY,
            csat_cohort_rating_sum=F("rating"),
        ),
        _rows(
            StatusChange.objects.filter(
                days.moment("created_at"), transition__in=["reopen", "resolve"]
            ),
            "created_at",
            "complaint__",
            reopens=Q(transition="reopen"),
            resolutions=Q(transition="resolve"),
        ),
        _rows(
            escalations.filter(days.moment("opened_at")),
            "opened_at",
            "complaint__",
            escalations_opened=EVERY,
        ),
        _rows(
            escalations.filter(days.moment("settled_at")),
            "settled_at",
            "complaint__",
            escalations_settled=EVERY,
        ),
        _rows(
            escalations.filter(days.moment("complaint__received_at"), settled_at__isnull=True),
            "complaint__received_at",
            "complaint__",
            escalations_open=EVERY,
        ),
    ]


# The statements below are assembled from the models' tables and columns (quoted) and
# the ORM's own compiled queries; every value is a parameter (hence the noqa S608).
def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _execute(sql: str, params: Iterable) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return cursor.rowcount


def _insert_full(days: Days, now: datetime) -> int:
    """The full grain of `days`: every source's rows, summed per (day, slice) in one
    INSERT … SELECT … UNION ALL … GROUP BY."""
    branches, params = [], []
    for qs in _sources(days, now):
        try:
            sql, branch_params = qs.query.sql_with_params()
        except EmptyResultSet:  # nothing can match (no days)
            continue
        present = {name for name in COUNTS if f"_{name}" in qs.query.annotations}
        columns = [f"s.{_q('_day')} AS {_q('day')}"]
        columns += [f"s.{_q('_' + name)} AS {_q(name)}" for name in DIMENSIONS]
        # Every branch gives every count as an INTEGER: branches of one type are a
        # single Append for PostgreSQL (no projection per branch), and the sums of
        # integers stay in 64-bit arithmetic (COUNT's bigint would sum as numeric).
        for name in COUNTS:
            value = f"s.{_q('_' + name)}" if name in present else "0"
            columns.append(f"CAST({value} AS INTEGER) AS {_q(name)}")
        branches.append(f"SELECT {', '.join(columns)} FROM ({sql}) s")  # noqa: S608
        params += branch_params
    if not branches:
        return 0
    keys = ", ".join(f"u.{_q(name)}" for name in ("day", *DIMENSIONS))
    sums = ", ".join(f"COALESCE(SUM(u.{_q(name)}), 0)" for name in COUNTS)
    columns = ", ".join(_q(name) for name in ("grain", "day", *DIMENSIONS, *COUNTS))
    union = " UNION ALL ".join(branches)
    # In day order: the indexes ending in `day` then take their entries a few leaf
    # pages at a time instead of all over (twice as fast for millions of rows).
    return _execute(
        f"INSERT INTO {_q(DailyComplaintStats._meta.db_table)} ({columns}) "  # noqa: S608
        f"SELECT {int(Grain.FULL)}, {keys}, {sums} FROM ({union}) u GROUP BY {keys} "
        f"ORDER BY u.{_q('day')}",
        params,
    )


def _insert_grains(days: Days) -> None:
    """Every coarser grain of `days`, each summed from the smallest grain already
    built that keeps its dimensions (fewest dimensions: the team grain from one of
    two, not from the full one)."""
    table = _q(DailyComplaintStats._meta.db_table)
    columns = ", ".join(_q(name) for name in ("grain", "day", *DIMENSIONS, *COUNTS))
    built = {Grain.FULL: GRAIN_DIMENSIONS[Grain.FULL]}
    for grain, dims in sorted(GRAIN_DIMENSIONS.items(), key=lambda item: -len(item[1])):
        if grain in built:
            continue
        source = min(
            (g for g, kept in built.items() if set(dims) <= set(kept)),
            key=lambda g: len(built[g]),
        )
        built[grain] = dims
        qs = (
            DailyComplaintStats.objects.filter(days.rows(), grain=source)
            .values("day", *dims)
            .annotate(**{f"s_{name}": Sum(name) for name in COUNTS})
            .order_by()
        )
        sql, params = qs.query.sql_with_params()
        kept = [
            f"s.{_q(name)}" if name in dims else ("''" if name == "channel" else "NULL")
            for name in DIMENSIONS
        ]
        sums = ", ".join(f"s.{_q('s_' + name)}" for name in COUNTS)
        _execute(
            f"INSERT INTO {table} ({columns}) "  # noqa: S608
            f"SELECT {int(grain)}, s.{_q('day')}, {', '.join(kept)}, {sums} FROM ({sql}) s",
            params,
        )


def bucket(minutes: F) -> Case:
    """Business minutes to their histogram step: exact under 2 hours, 10 minutes
    under a day, hours beyond (integer division in SQL)."""
    return Case(
        When(**{f"{minutes.name}__lt": 120}, then=minutes),
        When(**{f"{minutes.name}__lt": 1440}, then=minutes / 10 * 10),
        default=minutes / 60 * 60,
        output_field=IntegerField(),
    )


KINDS = (
    (DailyDurationBuckets.Kind.FIRST_RESPONSE, "first_response_at", "first_response_minutes"),
    (DailyDurationBuckets.Kind.RESOLUTION, "resolved_at", "resolution_minutes"),
)


def _insert_buckets(days: Days) -> None:
    """The histograms of `days` per team, counted from ComplaintDurations (its
    moments and team are the complaint's as of the durations refresh that starts
    every run)."""
    table = _q(DailyDurationBuckets._meta.db_table)
    columns = ", ".join(_q(name) for name in ("day", "team_id", "kind", "minutes", "count"))
    for kind, moment, field in KINDS:
        qs = (
            ComplaintDurations.objects.filter(days.moment(moment), **{f"{field}__isnull": False})
            .annotate(_day=local_day(moment), _minutes=bucket(F(field)))
            .values("_day", "team_id", "_minutes")
            .annotate(_n=Count("pk"))
            .order_by()
        )
        try:
            sql, params = qs.query.sql_with_params()
        except EmptyResultSet:
            continue
        _execute(
            f"INSERT INTO {table} ({columns}) SELECT s.{_q('_day')}, s.{_q('team_id')}, %s, "  # noqa: S608
            f"s.{_q('_minutes')}, s.{_q('_n')} FROM ({sql}) s",
            [kind.value, *params],
        )


def _recompute(days: Days, now: datetime) -> None:
    """Replace every row of `days` (inside the caller's transaction)."""
    if days.only is not None and not days.only:
        return
    # Every grain and kind named: their indexes lead with them, then the day.
    stale = (
        DailyComplaintStats.objects.filter(days.rows(), grain__in=list(Grain)),
        DailyDurationBuckets.objects.filter(days.rows(), kind__in=[kind for kind, *_ in KINDS]),
    )
    for rows in stale:
        rows._raw_delete(rows.db)  # one DELETE: nothing hangs off rollup rows
    _insert_full(days, now)
    _insert_grains(days)
    _insert_buckets(days)


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


def _full_check_due(state: RollupState, now: datetime) -> bool:
    return (
        state.changes_since is None
        or state.full_check_at is None
        or now - state.full_check_at >= FULL_CHECK_EVERY
    )


def rollup_refresh(*, now: datetime | None = None, batch: int = BATCH) -> int:
    """Bring the rollup up to date incrementally; returns how many days were
    recomputed. Runs the durations refresh first (the histograms read it)."""
    now = now or timezone.now()
    # The durations first (the histograms read them), outside the lock: the same
    # window as below, read without waiting for a run in progress.
    known = RollupState.objects.filter(pk=1).first()
    durations_refresh_all(
        changed_since=None
        if known is None or _full_check_due(known, now)
        else known.changes_since - MARGIN
    )
    with transaction.atomic():
        state = _lock()
        if state.as_of is None:
            return _rebuild_locked(state, now=now)
        candidates = Complaint.objects.filter(
            Q(rollup_mark__isnull=True) | ~Q(rollup_mark__version=F("version"))
        )
        full = _full_check_due(state, now)
        if not full:
            candidates = candidates.filter(pk__in=touched_since(state.changes_since - MARGIN))
        changed = list(
            _with_days(candidates.order_by("updated_at", "pk")).values(
                "pk", "version", "updated_at", *MOMENTS
            )[:batch]
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
        _recompute(Days(only=frozenset(days)), now)
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
        if len(changed) < batch:
            state.changes_since = now
            if full:
                state.full_check_at = now
        else:  # more to do: the next run goes on from the last complaint taken
            state.changes_since = changed[-1]["updated_at"]
        state.save(update_fields=["as_of", "changes_since", "full_check_at"])
    return len(days)


def _marks_rebuild() -> None:
    """Every complaint's mark, in one INSERT … SELECT (no row passes through Python)."""
    marks = RollupMark.objects.all()
    marks._raw_delete(marks.db)
    qs = _with_days(Complaint.objects.order_by()).values_list("pk", "version", *MOMENTS)
    sql, params = qs.query.sql_with_params()
    columns = ", ".join(_q(c) for c in ("complaint_id", "version", *MOMENTS))
    _execute(f"INSERT INTO {_q(RollupMark._meta.db_table)} ({columns}) {sql}", params)


def _rebuild_locked(state: RollupState, *, now: datetime, since: date | None = None) -> int:
    postgresql = connection.vendor == "postgresql"
    if postgresql:
        _execute(f"SET LOCAL work_mem = '{REBUILD_WORK_MEM}'", [])
    days = Days(since=since)
    _recompute(days, now)
    _marks_rebuild()
    if postgresql:  # millions of new rows: plan the dashboard's reads on fresh statistics
        for model in (DailyComplaintStats, DailyDurationBuckets, RollupMark):
            _execute(f"ANALYZE {_q(model._meta.db_table)}", [])
    state.as_of = state.changes_since = state.full_check_at = now
    state.save(update_fields=["as_of", "changes_since", "full_check_at"])
    return (
        DailyComplaintStats.objects.filter(days.rows(), grain=Grain.SLICE)
        .values("day")
        .distinct()
        .count()
    )


def rollup_rebuild(*, since: date | None = None, now: datetime | None = None) -> int:
    """Recompute every day (or every day from `since`) and every mark; returns the
    number of days counted. Holds the rollup lock: refreshes wait for it."""
    durations_refresh_all()
    now = now or timezone.now()
    with transaction.atomic():
        return _rebuild_locked(_lock(), now=now, since=since)


def rollup_as_of() -> datetime | None:
    """When the figures were last brought up to date (None: never built)."""
    return RollupState.objects.filter(pk=1).values_list("as_of", flat=True).first()
