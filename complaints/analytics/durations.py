"""The business-time rollup: each complaint's first-response and resolution times in
business minutes, stored in ComplaintDurations.

Why a rollup: business time needs the complaint's calendar (working hours,
holidays, make-up days), which SQL cannot evaluate, and the dashboard must not loop
over complaints. So the minutes are computed here once per change of a complaint,
by a periodic task (complaints.tasks_analytics) and on demand, and the dashboard
computes medians and percentiles over the stored column in the database.

The calendar is the complaint's SLA policy's, else its team's; without either the
minutes are wall-clock minutes (as the SLA clock's own fallback). Resolution time
leaves out the time spent waiting for the customer (the SLA clock pauses then too),
read from the StatusChange log: from a change into `awaiting_customer` to the next
change.

A row is stale when the complaint's `version` (bumped by every service save) moved
past the row's `source_version`; the refresh picks stale rows oldest first, in
batches, and writes them with one upsert per batch. The row also copies the
complaint's moments and dimensions (team, category, product, channel, assignee) of
that version, so the dashboard's percentiles for a product or an agent read this
table alone.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from complaints.businesstime import Calendar
from complaints.models import BusinessCalendar, Complaint, ComplaintDurations, StatusChange
from complaints.workflow import ComplaintStatus

BATCH = 500
# The complaint's fields each row copies (the moments and dimensions it is counted by).
COPIED = (
    "first_response_at",
    "resolved_at",
    "team_id",
    "category_id",
    "product_id",
    "channel",
    "assignee_id",
)


def _stale() -> Q:
    started = Q(first_response_at__isnull=False) | Q(resolved_at__isnull=False)
    missing = Q(durations__isnull=True) & started
    return missing | Q(durations__source_version__lt=F("version"))


def durations_pending() -> int:
    """How many complaints wait for their durations to be (re)computed."""
    return Complaint.objects.filter(_stale()).count()


def _calendar_ids(complaint: Complaint) -> int | None:
    if complaint.sla_policy_id is not None:
        return complaint.sla_policy.calendar_id
    if complaint.team_id is not None:
        return complaint.team.calendar_id
    return None


def _span(calendar: Calendar | None, a: datetime, b: datetime) -> timedelta:
    if b <= a:
        return timedelta(0)
    return calendar.between(a, b) if calendar is not None else b - a


def _pauses(changes: list[StatusChange], until: datetime) -> list[tuple[datetime, datetime]]:
    """The intervals spent awaiting the customer before `until`, from the log."""
    pauses = []
    for change, following in zip(changes, [*changes[1:], None], strict=True):
        if change.to_status != ComplaintStatus.AWAITING_CUSTOMER or change.created_at >= until:
            continue
        end = following.created_at if following is not None else until
        pauses.append((change.created_at, min(end, until)))
    return pauses


def compute(
    complaint: Complaint, changes: list[StatusChange], calendar: Calendar | None
) -> tuple[int | None, int | None]:
    """(first response, resolution) in whole business minutes, None when not reached."""
    first = resolution = None
    if complaint.first_response_at is not None:
        span = _span(calendar, complaint.received_at, complaint.first_response_at)
        first = int(span.total_seconds() // 60)
    if complaint.resolved_at is not None:
        span = _span(calendar, complaint.received_at, complaint.resolved_at)
        for a, b in _pauses(changes, complaint.resolved_at):
            span -= _span(calendar, max(a, complaint.received_at), b)
        resolution = max(int(span.total_seconds() // 60), 0)
    return first, resolution


def touched_since(moment: datetime) -> QuerySet:
    """Ids of the complaints with a history row from `moment` on: every service save
    writes one (an index range on history_date; the complaints table gets no index that
    every save would have to update)."""
    return Complaint.history.filter(history_date__gte=moment).values("id")


def durations_refresh(
    *, limit: int = BATCH, now: datetime | None = None, changed_since: datetime | None = None
) -> int:
    """Recompute up to `limit` stale rows; returns how many were written. Safe to run
    twice at once: both compute the same values and the upsert keeps one row.

    `changed_since`: look only at complaints changed from then on (touched_since, for
    runs every minute); None compares every complaint with its row."""
    now = now or timezone.now()
    stale = Complaint.objects.filter(_stale())
    if changed_since is not None:
        stale = stale.filter(pk__in=touched_since(changed_since))
    complaints = list(
        stale.select_related("sla_policy", "team").order_by("updated_at", "pk")[:limit]
    )
    if not complaints:
        return 0
    changes: dict[int, list[StatusChange]] = defaultdict(list)
    for change in StatusChange.objects.filter(complaint__in=complaints).order_by(
        "complaint_id", "created_at", "pk"
    ):
        changes[change.complaint_id].append(change)
    wanted = {_calendar_ids(c) for c in complaints} - {None}
    calendars = {
        cal.pk: Calendar.from_model(cal) for cal in BusinessCalendar.objects.filter(pk__in=wanted)
    }
    rows = []
    for complaint in complaints:
        calendar = calendars.get(_calendar_ids(complaint))
        first, resolution = compute(complaint, changes[complaint.pk], calendar)
        rows.append(
            ComplaintDurations(
                complaint_id=complaint.pk,
                source_version=complaint.version,
                first_response_minutes=first,
                resolution_minutes=resolution,
                business_calendar=calendar is not None,
                computed_at=now,
                **{name: getattr(complaint, name) for name in COPIED},
            )
        )
    ComplaintDurations.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["complaint"],
        update_fields=[
            "source_version",
            "first_response_minutes",
            "resolution_minutes",
            "business_calendar",
            "computed_at",
            *COPIED,
        ],
    )
    return len(rows)


def durations_refresh_all(*, batch: int = BATCH, changed_since: datetime | None = None) -> int:
    """Refresh until nothing is stale (the periodic task and the tests); see
    durations_refresh for `changed_since`."""
    total = 0
    while True:
        done = durations_refresh(limit=batch, changed_since=changed_since)
        total += done
        if done < batch:
            return total
