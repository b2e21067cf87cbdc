"""Each dashboard figure on a hand-built data set with known answers."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from complaints.analytics import charts, figures
from complaints.analytics.durations import compute, durations_pending, durations_refresh_all
from complaints.businesstime import Calendar
from complaints.models import (
    CollaborationRequest,
    ComplaintDurations,
    Escalation,
    ImprovementAction,
    StatusChange,
    SurveyResponse,
)
from tests.analytics.conftest import WEEK, at, place
from tests.factories import CustomerFactory, ProductFactory


@pytest.fixture
def handled(org, calendar, make_complaint):
    """Four complaints resolved in the week and one still open, with known business
    times on the calendar (09–12, 13–18, Wednesday a holiday):

    | | received | first response | resolved | response min | resolution min |
    | A | Mon 09:00 | Mon 10:00 | Tue 10:00 | 60 | 540 |
    | B | Fri 17:00 | Mon 09:30 | Mon 11:00 | 90 | 180 |
    | C | Mon 11:00 | Mon 11:30 | Mon 14:00 | 30 | 120 |
    | D | Tue 17:00 | Thu 09:15 | Thu 10:00 | 75 | 120 (Wednesday skipped) |
    | E | Thu 09:00 | —         | —         | open, both deadlines passed |
    """
    a = make_complaint("resolved")
    b = make_complaint("resolved", channel="phone")
    c = make_complaint("resolved")
    d = make_complaint("resolved")
    e = make_complaint("in_progress")
    place(
        a,
        received_at=at(3, 9),
        first_response_at=at(3, 10),
        resolved_at=at(4, 10),
        response_due_at=at(3, 12),
        resolution_due_at=at(6, 18),
    )
    place(  # answered late
        b,
        received_at=at(7, 17),
        first_response_at=at(10, 9, 30),
        resolved_at=at(10, 11),
        response_due_at=at(7, 18),
        resolution_due_at=at(10, 18),
    )
    place(  # resolved late
        c,
        received_at=at(3, 11),
        first_response_at=at(3, 11, 30),
        resolved_at=at(3, 14),
        response_due_at=at(3, 12),
        resolution_due_at=at(3, 13),
    )
    place(
        d,
        received_at=at(4, 17),
        first_response_at=at(6, 9, 15),
        resolved_at=at(6, 10),
        response_due_at=at(6, 10),
        resolution_due_at=at(7, 10),
    )
    place(
        e,
        received_at=at(6, 9),
        first_response_at=None,
        response_due_at=at(6, 10),
        resolution_due_at=at(7, 10),
    )
    durations_refresh_all()
    return {"a": a, "b": b, "c": c, "d": d, "e": e}


def test_business_time_durations_are_stored_per_complaint(handled):
    rows = {
        row.complaint_id: (row.first_response_minutes, row.resolution_minutes)
        for row in ComplaintDurations.objects.all()
    }
    assert rows[handled["a"].pk] == (60, 540)
    assert rows[handled["b"].pk] == (90, 180)
    assert rows[handled["c"].pk] == (30, 120)
    assert rows[handled["d"].pk] == (75, 120)  # the holiday does not count
    assert handled["e"].pk not in rows  # nothing to measure yet
    assert durations_pending() == 0


def test_medians_and_90th_percentiles_in_business_time(org, handled):
    times = figures.times(WEEK, org.supervisor)
    # First response [30, 60, 75, 90]: median 67.5; p90 at rank 2.7 → 75 + 0.7·15.
    assert times["first_response_median"] == pytest.approx(67.5)
    assert times["first_response_p90"] == pytest.approx(85.5)
    # Resolution [120, 120, 180, 540]: median 150; p90 at rank 2.7 → 180 + 0.7·360.
    assert times["resolution_median"] == pytest.approx(150)
    assert times["resolution_p90"] == pytest.approx(432)


def test_a_changed_complaint_is_recomputed(org, handled):
    place(handled["c"], resolved_at=at(3, 15))  # an hour later: 180 business minutes
    assert durations_pending() == 1
    durations_refresh_all()
    assert ComplaintDurations.objects.get(pk=handled["c"].pk).resolution_minutes == 180


def test_received_resolved_and_sla_compliance(org, handled):
    now = timezone.now()
    volume = figures.volume(WEEK, org.supervisor, now)
    assert volume["received"] == 5
    assert volume["resolved"] == 4
    # Response: A, C, D on time; B late; E unanswered past its deadline.
    assert (volume["response_met"], volume["response_total"]) == (3, 5)
    assert volume["response_compliance"] == 60.0
    # Resolution: A, B, D on time; C late; E unresolved past its deadline.
    assert (volume["resolution_met"], volume["resolution_total"]) == (3, 5)
    assert volume["resolution_compliance"] == 60.0


def test_backlog_by_state_and_age(org, handled, make_complaint):
    fresh = make_complaint("new")
    backlog = figures.backlog(WEEK, org.supervisor, timezone.now())
    assert backlog["total"] == 2
    by_status = {state.value: n for state, n in backlog["by_status"]}
    assert by_status["in_progress"] == 1
    assert by_status["new"] == 1
    by_age = {key: n for key, _label, _low, _high, n in backlog["by_age"]}
    assert by_age == {"lt1": 1, "1to3": 0, "3to7": 0, "7to30": 0, "gt30": 1}
    assert fresh.pk  # received now: under a day old


def test_csat_and_survey_response_rate(org, handled):
    for key, rating in (("a", 5), ("b", 4), ("c", 2)):
        SurveyResponse.objects.create(
            complaint=handled[key],
            cycle=0,
            rating=rating,
            solved=rating > 2,
            answered_at=at(10, 12),
        )
    # An answer outside the period counts for neither figure's average.
    SurveyResponse.objects.create(
        complaint=handled["d"], cycle=0, rating=1, solved=False, answered_at=at(20, 12)
    )
    satisfaction = figures.satisfaction(WEEK, org.supervisor)
    assert satisfaction["answers"] == 3
    assert satisfaction["average"] == pytest.approx(3.67)
    assert satisfaction["satisfied_share"] == 66.7
    # All four resolved in the period had their round answered (D's after it).
    volume = figures.volume(WEEK, org.supervisor, timezone.now())
    assert volume["surveyed"] == 4
    assert volume["survey_response_rate"] == 100.0


def test_reopen_rate_from_the_status_log(org, handled):
    StatusChange.objects.create(
        complaint=handled["c"],
        transition="reopen",
        from_status="resolved",
        to_status="reopened",
        created_at=at(4, 9),
    )
    StatusChange.objects.create(  # outside the period
        complaint=handled["a"],
        transition="reopen",
        from_status="resolved",
        to_status="reopened",
        created_at=at(20, 9),
    )
    reopens = figures.reopens(WEEK, org.supervisor)
    assert (reopens["reopens"], reopens["resolutions"]) == (1, 4)
    assert reopens["reopen_rate"] == 25.0


def test_repeat_rate_within_30_days(org, make_complaint):
    period = WEEK.with_dates(date(2025, 3, 1), date(2025, 4, 30))
    kettle = ProductFactory(name="Kettle")
    x, y, z, w = (CustomerFactory() for _ in range(4))

    def complaint(customer, day_offset, category, product=None):
        c = make_complaint("new", customer=customer, category=category, product=product)
        return place(c, received_at=at(1, 10) + timedelta(days=day_offset))

    complaint(x, 0, org.category)
    complaint(x, 20, org.category)  # repeat (20 days after)
    complaint(x, 45, org.category)  # repeat (25 days after the second)
    complaint(y, 0, org.category)
    complaint(y, 40, org.category)  # 40 days: not a repeat
    complaint(z, 0, org.category_b)
    complaint(z, 5, org.category)  # another category, no product: not a repeat
    complaint(w, 0, org.category_b, kettle)
    complaint(w, 10, org.category, kettle)  # same product: repeat
    volume = figures.volume(period, org.supervisor, timezone.now())
    assert volume["received_distinct"] == 9
    assert volume["repeats"] == 3
    assert volume["repeat_rate"] == 33.3


def test_escalations_opened_and_settled(org, handled):
    Escalation.objects.create(complaint=handled["a"], reason="manual", opened_at=at(3, 10))
    Escalation.objects.create(
        complaint=handled["b"], reason="manual", opened_at=at(4, 10), settled_at=at(5, 10)
    )
    Escalation.objects.create(  # opened before the period, settled in it
        complaint=handled["c"], reason="manual", opened_at=at(20, 10, month=2), settled_at=at(6, 9)
    )
    esc = figures.escalations(WEEK, org.supervisor)
    assert esc == {"opened": 2, "settled": 2, "open_now": 1}


def test_collaboration_answered_on_time(org, handled):
    def ask(due, answered=None, status="open"):
        return CollaborationRequest.objects.create(
            complaint=handled["a"],
            department=org.department,
            question="Is the batch affected?",
            asked_by=org.agent,
            asked_at=at(3, 9),
            due_at=due,
            answered_at=answered,
            status=status,
        )

    ask(at(4, 12), answered=at(4, 11), status="answered")  # on time
    ask(at(4, 12), answered=at(4, 15), status="answered")  # late
    ask(at(5, 12))  # never answered, deadline passed
    ask(at(6, 12), status="cancelled")  # does not count
    ask(at(20, 12, month=4), answered=at(3, 10), status="answered")  # due after the period
    collab = figures.collaboration(WEEK, org.supervisor, timezone.now())
    assert (collab["on_time"], collab["due"]) == (1, 3)
    assert collab["on_time_share"] == 33.3
    assert collab["overdue_open"] == 1


def test_improvement_actions_open_and_overdue(org):
    today = timezone.localdate()

    def action(status, due, team=org.team):
        return ImprovementAction.objects.create(
            title="Fix the lid",
            problem="Lids crack",
            owner_team=team,
            due_date=due,
            status=status,
            created_by=org.supervisor,
            done_at=timezone.now() if status in ("done", "verified") else None,
        )

    action("open", today - timedelta(days=1))  # overdue
    action("in_progress", today + timedelta(days=5))
    action("done", today - timedelta(days=9))  # finished: neither
    action("open", today - timedelta(days=2), team=org.team_b)  # another team
    assert figures.improvements(WEEK, org.supervisor, today) == {"open": 3, "overdue": 2}
    team_a = WEEK.__class__(start=WEEK.start, end=WEEK.end, team=org.team)
    assert figures.improvements(team_a, org.supervisor, today) == {"open": 2, "overdue": 1}
    # An agent sees their own teams' actions.
    assert figures.improvements(WEEK, org.agent_b, today) == {"open": 1, "overdue": 1}


def test_agents_see_their_own_figures_only(org, handled, make_complaint):
    other = make_complaint("in_progress")
    place(other, received_at=at(4, 9))
    from complaints.services import transitions as t

    t.complaint_reassign(complaint=other, actor=org.supervisor, assignee=org.agent2, reason="Leave")
    supervisor = figures.volume(WEEK, org.supervisor, timezone.now())
    agent = figures.volume(WEEK, org.agent, timezone.now())
    agent2 = figures.volume(WEEK, org.agent2, timezone.now())
    assert supervisor["received"] == 6
    assert agent["received"] == 5
    assert agent2["received"] == 1
    rows = charts.agent_table(WEEK, org.agent, timezone.now())
    assert [r["pk"] for r in rows] == [org.agent.pk]


def test_dimension_filters(org, handled):
    phone = WEEK.__class__(start=WEEK.start, end=WEEK.end, channel="phone")
    assert figures.volume(phone, org.supervisor, timezone.now())["received"] == 1
    team_b = WEEK.__class__(start=WEEK.start, end=WEEK.end, team=org.team_b)
    assert figures.volume(team_b, org.supervisor, timezone.now())["received"] == 0


def test_team_and_agent_tables(org, handled):
    rows = charts.team_table(WEEK, org.supervisor, timezone.now())
    assert len(rows) == 1
    row = rows[0]
    assert row["pk"] == org.team.pk
    assert (row["received"], row["resolved"], row["backlog"]) == (5, 4, 1)
    assert row["resolution_compliance"] == 75.0  # of the four resolved, C was late
    assert row["resolution_median"] == pytest.approx(150)
    assert f"team={org.team.pk}" in row["link"]


def test_pause_while_awaiting_the_customer_is_left_out():
    calendar = Calendar.build(
        time_zone="Asia/Shanghai", working_hours={str(d): [["09:00", "18:00"]] for d in range(5)}
    )

    class Stub:
        received_at = at(3, 9)
        first_response_at = at(3, 10)
        resolved_at = at(3, 17)

    changes = [
        StatusChange(to_status="awaiting_customer", created_at=at(3, 11)),
        StatusChange(to_status="in_progress", created_at=at(3, 14)),
        StatusChange(to_status="resolved", created_at=at(3, 17)),
    ]
    assert compute(Stub, changes, calendar) == (60, 8 * 60 - 3 * 60)
    assert compute(Stub, changes, None) == (60, 5 * 60)  # wall clock, same pause


def test_durations_copy_the_complaints_moments_and_dimensions(org, handled):
    row = ComplaintDurations.objects.get(pk=handled["b"].pk)
    b = handled["b"]
    assert (row.first_response_at, row.resolved_at) == (b.first_response_at, b.resolved_at)
    assert (row.team_id, row.category_id, row.channel) == (org.team.pk, org.category.pk, "phone")
    assert row.assignee_id == org.agent.pk
    from complaints.services import transitions as t

    t.complaint_reassign(
        complaint=handled["e"], actor=org.supervisor, assignee=org.agent2, reason="Leave"
    )
    place(handled["b"], product=ProductFactory(name="Kettle"), assignee=org.agent2)
    durations_refresh_all()
    row.refresh_from_db()
    assert row.product_id is not None
    assert row.assignee_id == org.agent2.pk


def test_percentiles_for_a_channel_a_product_or_an_agent(org, handled):
    # One complaint: its own times (read from ComplaintDurations, not the histograms).
    phone = WEEK.__class__(start=WEEK.start, end=WEEK.end, channel="phone")
    times = figures.times(phone, org.supervisor)
    assert (times["first_response_median"], times["first_response_p90"]) == (90, 90)
    assert (times["resolution_median"], times["resolution_p90"]) == (180, 180)
    kettle = ProductFactory(name="Kettle")
    for key in ("a", "c"):
        place(handled[key], product=kettle)
    durations_refresh_all()
    one_product = WEEK.__class__(start=WEEK.start, end=WEEK.end, product=kettle)
    times = figures.times(one_product, org.supervisor)
    # First response [30, 60]; resolution [120, 540]: p90 at rank 1.9.
    assert times["first_response_median"] == pytest.approx(45)
    assert times["resolution_median"] == pytest.approx(330)
    assert times["resolution_p90"] == pytest.approx(120 + 0.9 * 420)
    # The agent's own figures: every complaint of the week is theirs.
    # (PostgreSQL's percentile_cont interpolates in floating point: approx.)
    assert figures.times(WEEK, org.agent) == pytest.approx(figures.times(WEEK, org.supervisor))
    assert figures.times(WEEK, org.agent2)["resolution_median"] is None


def test_both_sources_of_percentiles_count_in_the_same_steps(org, handled):
    # 187 business minutes: the 10-minute step 180, from the histograms (a team) and
    # from ComplaintDurations (an agent's own view) alike.
    place(handled["c"], resolved_at=at(3, 15, 7))
    durations_refresh_all()
    team = WEEK.__class__(start=WEEK.start, end=WEEK.end, team=org.team)
    assert ComplaintDurations.objects.get(pk=handled["c"].pk).resolution_minutes == 187
    by_team = figures.times(team, org.supervisor)
    assert by_team["resolution_median"] == pytest.approx(180)
    assert figures.times(team, org.agent) == pytest.approx(by_team)


def test_the_agent_table_medians(org, handled):
    place(handled["b"], assignee=org.agent2)
    durations_refresh_all()
    rows = {row["pk"]: row for row in charts.agent_table(WEEK, org.supervisor, timezone.now())}
    # agent: A, C, D resolved [120, 120, 540]; agent2: B [180].
    assert rows[org.agent.pk]["resolution_median"] == pytest.approx(120)
    assert rows[org.agent2.pk]["resolution_median"] == pytest.approx(180)
