"""The daily rollup: it equals the direct computation on random data, an incremental
refresh recomputes only the touched days, and two runs at once agree."""

from __future__ import annotations

import random
import threading
from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, F, Q, Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from complaints.analytics import figures
from complaints.analytics.durations import durations_refresh_all
from complaints.analytics.filters import DashboardFilter
from complaints.analytics.rollup import (
    COUNTS,
    DIMENSIONS,
    Grain,
    grain_for,
    rollup_as_of,
    rollup_rebuild,
    rollup_refresh,
)
from complaints.models import (
    Complaint,
    DailyComplaintStats,
    DailyDurationBuckets,
    Escalation,
    StatusChange,
    SurveyResponse,
)
from tests.analytics.conftest import WEEK, at, place
from tests.factories import CustomerFactory, ProductFactory

pytestmark = pytest.mark.usefixtures("rollup_manual")
PERIOD = WEEK.with_dates(date(2025, 3, 1), date(2025, 3, 20))


def _snapshot() -> set[tuple]:
    fields = ["day"]  # first: the tests read it as row[0]
    fields += [f.attname for f in DailyComplaintStats._meta.fields if f.attname not in fields]
    fields.remove("id")
    return set(DailyComplaintStats.objects.values_list(*fields))


def _direct_volume(f) -> dict[str, int]:
    """The period's counts straight from the complaints, without the rollup."""
    qs = Complaint.objects.filter(f.dimensions())
    received, resolved = f.within("received_at"), f.within("resolved_at")
    return qs.aggregate(
        received=Count("pk", filter=received),
        resolved=Count("pk", filter=resolved),
        response_met=Count(
            "pk",
            filter=f.within("first_response_at") & Q(first_response_at__lte=F("response_due_at")),
        ),
        resolution_met=Count("pk", filter=resolved & Q(resolved_at__lte=F("resolution_due_at"))),
    )


@pytest.fixture
def randomized(org, make_complaint):
    """Thirty complaints with random moments, dimensions and surveys in March 2025."""
    rng = random.Random(7)
    products = [ProductFactory(category=org.category), ProductFactory(category=org.category_b)]
    customers = [CustomerFactory() for _ in range(5)]
    made = []
    for _ in range(30):
        state = rng.choice(["new", "in_progress", "resolved", "resolved"])
        complaint = make_complaint(
            state,
            customer=rng.choice(customers),
            channel=rng.choice(["web", "phone", "email"]),
            product=rng.choice([*products, None]),
        )
        received = at(1, 9) + timedelta(hours=rng.randrange(0, 20 * 24))
        answered = received + timedelta(minutes=rng.randrange(5, 3000))
        resolved = answered + timedelta(minutes=rng.randrange(5, 6000))
        fields = {
            "received_at": received,
            "response_due_at": received + timedelta(hours=rng.choice([1, 8, 48])),
            "resolution_due_at": received + timedelta(hours=rng.choice([24, 72])),
            "team": rng.choice([org.team, org.team_b]),
        }
        if state == "resolved":
            fields |= {"first_response_at": answered, "resolved_at": resolved}
        elif state == "in_progress":
            fields |= {"first_response_at": answered if rng.random() < 0.5 else None}
        complaint = place(complaint, **fields)
        if state == "resolved" and rng.random() < 0.5:
            SurveyResponse.objects.create(
                complaint=complaint,
                cycle=complaint.reopen_count,
                rating=rng.randint(1, 5),
                solved=True,
                answered_at=resolved + timedelta(hours=2),
            )
        if rng.random() < 0.3:
            Escalation.objects.create(complaint=complaint, reason="manual", opened_at=received)
        made.append(complaint)
    return made


def test_the_rollup_equals_the_direct_computation(org, randomized):
    rollup_rebuild()
    for f in (
        PERIOD,
        PERIOD.__class__(start=PERIOD.start, end=PERIOD.end, team=org.team_b),
        PERIOD.__class__(start=PERIOD.start, end=PERIOD.end, channel="phone"),
        PERIOD.__class__(start=date(2025, 3, 5), end=date(2025, 3, 9), category=org.category),
    ):
        volume = figures.volume(f, org.supervisor, at(30, 9))
        direct = _direct_volume(f)
        assert {k: volume[k] for k in direct} == direct, f
        answers = SurveyResponse.objects.filter(
            f.dimensions("complaint__"), f.within("answered_at")
        )
        assert figures.satisfaction(f, org.supervisor)["answers"] == answers.count()
        opened = Escalation.objects.filter(f.dimensions("complaint__"), f.within("opened_at"))
        assert figures.escalations(f, org.supervisor)["opened"] == opened.count()
    # Something was counted: the comparison is not between two empty sets.
    assert figures.volume(PERIOD, org.supervisor, at(30, 9))["received"] == 30


def test_incremental_refresh_recomputes_only_the_touched_days(org, randomized, make_complaint):
    rollup_rebuild()
    before = _snapshot()
    # A transition today on a complaint received on 4 March.
    complaint = place(make_complaint("in_progress"), received_at=at(4, 10))
    days = rollup_refresh()
    after = _snapshot()
    changed_days = {row[0] for row in before ^ after}
    assert date(2025, 3, 4) in changed_days
    # Only the complaint's own days (received, deadlines, today's log), not March.
    assert all(d == date(2025, 3, 4) or d >= date.today() for d in changed_days)
    assert days <= 5
    assert complaint.pk
    # A second refresh with nothing new changes nothing.
    rollup_refresh()
    assert _snapshot() == after
    # And the incremental result equals a rebuild from scratch.
    rollup_rebuild()
    assert _snapshot() == after


def test_a_reopen_moves_the_resolution_out_of_its_old_day(org, make_complaint):
    complaint = make_complaint("resolved")
    place(complaint, received_at=at(3, 9), first_response_at=at(3, 10), resolved_at=at(4, 10))
    rollup_rebuild()
    day = WEEK.with_dates(date(2025, 3, 4), date(2025, 3, 4))
    assert figures.volume(day, org.supervisor, at(30, 9))["resolved"] == 1
    Complaint.objects.filter(pk=complaint.pk).update(
        resolved_at=None, status="reopened", version=F("version") + 1
    )
    rollup_refresh()
    assert figures.volume(day, org.supervisor, at(30, 9))["resolved"] == 0
    assert figures.backlog(WEEK, org.supervisor, at(30, 9))["total"] == 1


def test_refresh_reads_recent_changes_and_checks_every_complaint_hourly(org, make_complaint):
    complaint = make_complaint("resolved")
    place(complaint, received_at=at(3, 9), first_response_at=at(3, 10), resolved_at=at(4, 10))
    start = timezone.now()
    rollup_rebuild(now=start)
    day = WEEK.with_dates(date(2025, 3, 4), date(2025, 3, 4))
    assert figures.volume(day, org.supervisor, at(30, 9))["resolved"] == 1

    # Saved (a history row is written): the next run sees it.
    complaint.refresh_from_db()
    complaint.title = "Kettle leaks"
    complaint.version += 1
    complaint.save()
    other = make_complaint("resolved")
    place(other, received_at=at(3, 9), first_response_at=at(3, 10), resolved_at=at(4, 10))
    rollup_refresh(now=start + timedelta(minutes=1))
    assert figures.volume(day, org.supervisor, at(30, 9))["resolved"] == 2

    # A change written without history (a raw update) to a complaint last saved long
    # ago: not in the window of a minute-by-minute run, found by the hourly check of
    # every complaint.
    Complaint.history.filter(id=complaint.pk).update(history_date=start - timedelta(hours=2))
    Complaint.objects.filter(pk=complaint.pk).update(
        resolved_at=None,
        status="reopened",
        version=F("version") + 1,
    )
    rollup_refresh(now=start + timedelta(minutes=2))
    assert figures.volume(day, org.supervisor, at(30, 9))["resolved"] == 2
    rollup_refresh(now=start + timedelta(minutes=62))
    assert figures.volume(day, org.supervisor, at(30, 9))["resolved"] == 1


def test_a_new_status_change_is_picked_up_by_its_day(org, make_complaint):
    complaint = make_complaint("resolved")
    rollup_rebuild()
    before = figures.reopens(WEEK.for_period("today"), org.supervisor)["reopens"]
    StatusChange.objects.create(
        complaint=complaint,
        transition="reopen",
        from_status="resolved",
        to_status="reopened",
        created_at=timezone.now(),
    )
    rollup_refresh()
    assert figures.reopens(WEEK.for_period("today"), org.supervisor)["reopens"] == before + 1


def test_the_command_rebuilds_and_says_so(org, randomized):
    out = StringIO()
    call_command("rollup_rebuild", "--since", "2025-03-10", stdout=out)
    assert "Rollup rebuilt" in out.getvalue()
    assert not DailyComplaintStats.objects.filter(day__lt=date(2025, 3, 10)).exists()
    assert rollup_as_of() is not None
    call_command("rollup_rebuild", stdout=out)
    assert DailyComplaintStats.objects.filter(day__lt=date(2025, 3, 10)).exists()


def test_a_bad_since_is_refused(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("rollup_rebuild", "--since", "March")


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections")
def test_two_rebuilds_at_once_give_one_result(org, randomized):
    rollup_rebuild()
    expected = _snapshot()
    errors = []

    def run():
        try:
            rollup_rebuild()
            rollup_refresh()
        except Exception as error:  # noqa: BLE001 - any failure is reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert _snapshot() == expected


def _per_day(grain: int) -> dict:
    rows = (
        DailyComplaintStats.objects.filter(grain=grain)
        .values("day")
        .annotate(**{f"s_{c}": Sum(c) for c in COUNTS})
        .order_by("day")
    )
    return {row.pop("day"): row for row in rows}


def test_every_grain_sums_to_the_full_grain(org, randomized):
    rollup_rebuild()
    full = _per_day(Grain.FULL)
    assert sum(day["s_received"] for day in full.values()) == 30
    for grain in set(Grain) - {Grain.FULL}:
        assert _per_day(grain) == full, grain
    # Outside its grain a dimension is empty.
    assert not DailyComplaintStats.objects.filter(grain=Grain.SLICE, product_id__isnull=False)
    assert not DailyComplaintStats.objects.filter(grain=Grain.PRODUCT).exclude(channel="")
    assert not DailyComplaintStats.objects.filter(grain=Grain.AGENT, category_id__isnull=False)
    assert not DailyComplaintStats.objects.filter(grain=Grain.TEAM, assignee_id__isnull=False)
    # The histograms count every duration of the period once.
    resolved = Complaint.objects.filter(resolved_at__isnull=False).count()
    buckets = DailyDurationBuckets.objects.filter(kind="resolution")
    assert buckets.aggregate(n=Sum("count"))["n"] == resolved


def test_a_read_takes_the_smallest_grain_that_keeps_its_dimensions(org):
    assert grain_for(set()) == Grain.TEAM
    assert grain_for({"team_id"}) == Grain.TEAM
    assert grain_for({"team_id", "channel"}) == Grain.SLICE
    assert grain_for({"team_id", "product_id"}) == Grain.PRODUCT
    assert grain_for({"assignee_id"}) == Grain.AGENT
    assert grain_for({"assignee_id", "channel"}) == Grain.FULL
    assert grain_for({"product_id", "category_id"}) == Grain.PRODUCT_SLICE
    assert grain_for({"assignee_id", "product_id"}) == Grain.FULL
    assert grain_for(DIMENSIONS) == Grain.FULL
    f = DashboardFilter(start=PERIOD.start, end=PERIOD.end, product=ProductFactory())
    # A product: the product grain for a supervisor, the full one for an agent's own.
    assert f'"grain" = {Grain.PRODUCT:d} ' in str(figures.stats(f, org.supervisor).query)
    assert f'"grain" = {Grain.FULL:d} ' in str(figures.stats(f, org.agent).query)


def test_a_rebuild_is_a_fixed_number_of_statements(org, randomized, make_complaint):
    rollup_rebuild()  # the rollup's state row exists from now on
    with CaptureQueriesContext(connection) as few:
        rollup_rebuild()
    for state in ("new", "resolved", "closed", "reopened"):
        place(make_complaint(state), received_at=at(12, 10))
    durations_refresh_all()
    with CaptureQueriesContext(connection) as more:
        rollup_rebuild()
    assert len(more.captured_queries) == len(few.captured_queries) <= 25


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL storage parameters")
def test_the_rollup_tables_are_vacuumed_early(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reloptions FROM pg_class WHERE relname IN "
            "('complaints_dailycomplaintstats', 'complaints_dailydurationbuckets')"
        )
        options = dict(cursor.fetchall())
    assert len(options) == 2
    for reloptions in options.values():
        assert "autovacuum_vacuum_scale_factor=0.01" in reloptions
