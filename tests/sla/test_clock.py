"""The SLA clock of a complaint: which policy, deadlines in business time, the pause
while waiting for the customer, and where the clock stands."""

from __future__ import annotations

from datetime import timedelta

import pytest

from complaints import config_cache
from complaints.businesstime import Calendar
from complaints.models import Complaint
from complaints.services import sla
from complaints.services import transitions as t
from tests.factories import CategoryFactory, priority
from tests.sla.calendars import SHANGHAI, at, hours

pytestmark = pytest.mark.django_db


# --- Which policy ---------------------------------------------------------------------------


@pytest.fixture
def tree(org):
    """quality ⊃ kettles ⊃ kettle lids."""
    kettles = CategoryFactory(name="Kettles", code="kettles", parent=org.category)
    lids = CategoryFactory(name="Lids", code="lids", parent=kettles)
    return org.category, kettles, lids


def _complaint(make_complaint, category, prio):
    complaint = make_complaint("new")
    complaint.category, complaint.priority = category, prio
    return complaint


def test_no_policy_at_all(org, make_complaint):
    assert sla.policy_for(_complaint(make_complaint, org.category, org.p1)) is None


def test_the_most_specific_policy_wins(org, make_complaint, policy, tree):
    quality, kettles, lids = tree
    default = policy(name="default")
    any_p1 = policy(priority=org.p1, name="any P1")
    quality_any = policy(category=quality, name="quality any")
    quality_p1 = policy(category=quality, priority=org.p1, name="quality P1")
    kettles_any = policy(category=kettles, name="kettles any")

    def chosen(category, prio):
        return sla.policy_for(_complaint(make_complaint, category, prio))

    # (ancestor, priority) beats (nearer category, any priority).
    assert chosen(lids, org.p1) == quality_p1
    # Among (category/ancestor, any): the nearer ancestor.
    assert chosen(lids, org.p3) == kettles_any
    assert chosen(quality, org.p3) == quality_any
    # (any category, priority) beats (any, any); a category policy beats both.
    assert chosen(org.category_b, org.p1) == any_p1
    assert chosen(org.category_b, org.p3) == default
    assert chosen(None, org.p1) == any_p1
    # A nearer (category, priority) beats a farther one.
    kettles_p1 = policy(category=kettles, priority=org.p1, name="kettles P1")
    assert chosen(lids, org.p1) == kettles_p1
    assert chosen(quality, org.p1) == quality_p1


def test_inactive_policies_are_ignored(org, make_complaint, policy):
    policy(category=org.category, priority=org.p1, active=False)
    fallback = policy()
    assert sla.policy_for(_complaint(make_complaint, org.category, org.p1)) == fallback


# --- Deadlines at triage -------------------------------------------------------------------------


def test_triage_sets_deadlines_in_business_time(org, make_complaint, policy):
    chosen = policy(category=org.category, response=120, resolution=16 * 60, warn=75)
    # Received Friday 10-09 17:00, before the make-up Saturday 10-10.
    complaint = make_complaint("new", received_at=at(SHANGHAI, 2026, 10, 9, 17))
    t.complaint_triage(complaint=complaint, actor=org.agent, category=org.category, priority=org.p3)
    complaint.refresh_from_db()
    assert complaint.sla_policy == chosen
    # 2h: 17–18 Friday, 09–10 Saturday (make-up day).
    assert complaint.response_due_at == at(SHANGHAI, 2026, 10, 10, 10)
    # 75 % of 2h = 1h30: Saturday 09:30.
    assert complaint.response_warn_at == at(SHANGHAI, 2026, 10, 10, 9, 30)
    # 16h: 1h Friday, 8h Saturday, Sunday off, 7h Monday 10-12 → 17:00.
    assert complaint.resolution_due_at == at(SHANGHAI, 2026, 10, 12, 17)
    # 75 % of 16h = 12h: 1 + 8 + Monday 3h → 12:00.
    assert complaint.resolution_warn_at == at(SHANGHAI, 2026, 10, 12, 12)
    # Recorded in the complaint's history and its triage event.
    assert complaint.history.first().sla_policy_id == chosen.pk


def test_received_before_national_day(org, make_complaint, policy):
    policy(response=60, resolution=8 * 60)
    complaint = make_complaint("new", received_at=at(SHANGHAI, 2026, 9, 30, 17, 30))
    t.complaint_triage(complaint=complaint, actor=org.agent, category=org.category, priority=org.p1)
    assert complaint.response_due_at == at(SHANGHAI, 2026, 10, 8, 9, 30)
    assert complaint.resolution_due_at == at(SHANGHAI, 2026, 10, 8, 17, 30)


def test_without_a_policy_the_wall_clock_fallback_stays(org, make_complaint):
    complaint = make_complaint("new")
    t.complaint_triage(complaint=complaint, actor=org.agent, category=org.category, priority=org.p1)
    assert complaint.sla_policy is None
    assert complaint.response_due_at == complaint.received_at + hours(1)
    assert complaint.resolution_due_at == complaint.received_at + hours(24)
    assert complaint.response_warn_at == complaint.received_at + timedelta(minutes=48)
    assert complaint.resolution_warn_at == complaint.received_at + hours(24 * 0.8)


def test_a_priority_without_targets_sets_nothing(org, make_complaint, settings):
    settings.COMPLAINT_DEFAULT_SLA_HOURS = {"P1": (1, 24)}
    complaint = make_complaint("new")
    t.complaint_triage(complaint=complaint, actor=org.agent, category=org.category, priority=org.p3)
    assert complaint.response_due_at is None and complaint.resolution_due_at is None


# --- The pause ----------------------------------------------------------------------------------


def test_waiting_for_the_customer_shifts_by_business_time(org, make_complaint, policy, clock):
    policy(response=120, resolution=16 * 60)
    clock.set(at(SHANGHAI, 2026, 6, 1, 9))  # Monday
    complaint = make_complaint("in_progress", received_at=at(SHANGHAI, 2026, 6, 1, 9))
    assert complaint.resolution_due_at == at(SHANGHAI, 2026, 6, 2, 18)
    assert complaint.resolution_warn_at == at(SHANGHAI, 2026, 6, 2, 14, 48)
    clock.set(at(SHANGHAI, 2026, 6, 1, 17))
    t.complaint_await_customer(complaint=complaint, actor=org.agent, question="Photo please?")
    # Waiting from Monday 17:00 to Tuesday 10:00: 17 hours of wall clock, 2 business hours.
    clock.set(at(SHANGHAI, 2026, 6, 2, 10))
    t.complaint_resume(complaint=complaint, actor=org.agent)
    complaint.refresh_from_db()
    assert complaint.awaiting_since is None
    assert complaint.resolution_due_at == at(SHANGHAI, 2026, 6, 3, 11)
    assert complaint.resolution_warn_at == at(SHANGHAI, 2026, 6, 2, 16, 48)
    # The question was the first response: that clock had stopped and stays.
    assert complaint.first_response_at == at(SHANGHAI, 2026, 6, 1, 17)
    assert complaint.response_due_at == at(SHANGHAI, 2026, 6, 1, 11)


def test_a_pause_over_the_weekend_costs_little(org, make_complaint, policy, clock):
    policy(response=120, resolution=16 * 60)
    clock.set(at(SHANGHAI, 2026, 6, 4, 9))  # Thursday
    complaint = make_complaint("awaiting_customer", received_at=at(SHANGHAI, 2026, 6, 4, 9))
    due = complaint.resolution_due_at  # Friday 18:00
    assert due == at(SHANGHAI, 2026, 6, 5, 18)
    complaint.awaiting_since = at(SHANGHAI, 2026, 6, 5, 17)
    sla.resume_clock(complaint, at(SHANGHAI, 2026, 6, 8, 9, 30))  # Monday 09:30
    # 1h Friday + 30 min Monday: Friday 18:00 + 1h30 = Monday 10:30.
    assert complaint.resolution_due_at == at(SHANGHAI, 2026, 6, 8, 10, 30)


def test_the_response_clock_shifts_while_nobody_answered(org, make_complaint, policy):
    policy(response=120, resolution=16 * 60)
    complaint = make_complaint("new", received_at=at(SHANGHAI, 2026, 6, 1, 9))
    t.complaint_triage(complaint=complaint, actor=org.agent, category=org.category, priority=org.p3)
    complaint.awaiting_since = at(SHANGHAI, 2026, 6, 1, 10)  # in memory only
    sla.resume_clock(complaint, at(SHANGHAI, 2026, 6, 1, 14))  # 3 business hours
    # 11:00 + 3h over lunch = 15:00; 10:36 + 3h = 14:36.
    assert complaint.response_due_at == at(SHANGHAI, 2026, 6, 1, 15)
    assert complaint.response_warn_at == at(SHANGHAI, 2026, 6, 1, 14, 36)


def test_a_pause_in_the_night_moves_nothing(org, make_complaint, policy):
    policy()
    complaint = make_complaint("new", received_at=at(SHANGHAI, 2026, 6, 1, 9))
    t.complaint_triage(complaint=complaint, actor=org.agent, category=org.category, priority=org.p3)
    before = complaint.resolution_due_at
    complaint.awaiting_since = at(SHANGHAI, 2026, 6, 1, 19)
    sla.resume_clock(complaint, at(SHANGHAI, 2026, 6, 2, 8))
    assert complaint.resolution_due_at == before


def test_without_a_policy_the_pause_is_wall_clock(org, make_complaint):
    complaint = make_complaint("awaiting_customer")
    due, warn = complaint.resolution_due_at, complaint.resolution_warn_at
    complaint.awaiting_since = complaint.received_at
    sla.resume_clock(complaint, complaint.received_at + hours(5))
    assert complaint.resolution_due_at - due == hours(5)
    assert complaint.resolution_warn_at - warn == hours(5)


def test_restart_clock_starts_a_new_resolution_cycle(org, make_complaint, policy):
    policy(response=120, resolution=8 * 60)
    complaint = make_complaint("resolved", received_at=at(SHANGHAI, 2026, 6, 1, 9))
    sla.restart_clock(complaint, at(SHANGHAI, 2026, 6, 10, 14))
    assert complaint.resolution_due_at == at(SHANGHAI, 2026, 6, 11, 14)
    # The first response was given (resolve records it): that deadline stays.
    assert complaint.response_due_at == at(SHANGHAI, 2026, 6, 1, 11)


# --- Where the clock stands ---------------------------------------------------------------------


def test_state_counts_business_time_left(org, make_complaint, policy):
    policy(response=120, resolution=16 * 60, warn=75)
    complaint = make_complaint("in_progress", received_at=at(SHANGHAI, 2026, 6, 5, 9))  # Fri
    state = sla.sla_state(complaint, at(SHANGHAI, 2026, 6, 5, 10))
    assert not state.paused
    assert state.response.remaining == hours(1)
    assert not state.response.warned and not state.response.breached
    # Resolution due Monday 18:00: from Friday 10:00, 7h Friday + 8h Monday.
    assert state.resolution.due_at == at(SHANGHAI, 2026, 6, 8, 18)
    assert state.resolution.remaining == hours(15)
    # Saturday: the clock does not run at the weekend.
    weekend = sla.sla_state(complaint, at(SHANGHAI, 2026, 6, 6, 15))
    assert weekend.response.breached and weekend.response.remaining == -hours(6)
    assert weekend.resolution.remaining == hours(8)
    # Resolution warns at 12 business hours: Monday 14:00.
    assert not weekend.resolution.warned and not weekend.resolution.breached
    assert weekend.breached and weekend.warned
    monday = sla.sla_state(complaint, at(SHANGHAI, 2026, 6, 8, 14))
    assert monday.resolution.warned and monday.resolution.remaining == hours(4)


def test_state_stands_still_while_waiting(org, make_complaint, policy, clock):
    policy(response=120, resolution=16 * 60)
    clock.set(at(SHANGHAI, 2026, 6, 1, 9))
    complaint = make_complaint("in_progress", received_at=at(SHANGHAI, 2026, 6, 1, 9))
    clock.set(at(SHANGHAI, 2026, 6, 1, 11))
    t.complaint_await_customer(complaint=complaint, actor=org.agent, question="Which model?")
    later = sla.sla_state(complaint, at(SHANGHAI, 2026, 6, 3, 11))
    assert later.paused
    assert later.resolution.remaining == hours(14)  # as at Monday 11:00
    assert not later.resolution.breached
    # The first response was given at 11:00, exactly on time.
    assert later.response.stopped and later.response.remaining == timedelta(0)


def test_state_of_a_resolved_complaint_is_judged_when_resolved(org, make_complaint, policy, clock):
    policy(response=120, resolution=16 * 60)
    clock.set(at(SHANGHAI, 2026, 6, 1, 9))
    complaint = make_complaint("resolved", received_at=at(SHANGHAI, 2026, 6, 1, 9))
    state = sla.sla_state(complaint, at(SHANGHAI, 2026, 7, 1, 9))
    assert state.resolution.stopped and not state.resolution.breached
    assert state.resolution.remaining == hours(16)


def test_state_reads_each_calendar_once_for_a_list(
    org, make_complaint, policy, django_assert_num_queries
):
    policy()
    for _ in range(3):
        make_complaint("triaged")
    # As a selector loads a list.
    complaints = list(Complaint.objects.select_related("sla_policy__calendar"))
    cache: dict[int, Calendar] = {}
    config_cache.invalidate()  # as in a fresh process
    with django_assert_num_queries(1):  # the calendar's days, once
        for c in complaints:
            sla.sla_state(c, at(SHANGHAI, 2026, 6, 1), calendars=cache)


def test_unknown_priority_code_has_no_fallback(org, make_complaint):
    complaint = make_complaint("new")
    complaint.priority = priority("P2")
    complaint.priority.code = "PX"  # in memory only
    assert sla.targets_for(complaint) is None
