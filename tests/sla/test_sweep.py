"""The SLA sweep: each crossing recorded once, on the timeline, escalated at a breach."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.utils import timezone

from complaints import roles
from complaints.models import ComplaintEvent, Escalation, SlaCrossing
from complaints.services import escalation as escalation_service
from complaints.services import sweep
from complaints.services import transitions as t
from complaints.services.sweep import sla_sweep
from tests.sla.calendars import SHANGHAI, at

pytestmark = pytest.mark.django_db

MONDAY_9 = at(SHANGHAI, 2026, 6, 1, 9)
# With the policy below, for a complaint received Monday 09:00:
RESPONSE_WARN = at(SHANGHAI, 2026, 6, 1, 10, 36)  # 80 % of 2h
RESPONSE_DUE = at(SHANGHAI, 2026, 6, 1, 11)
RESOLUTION_WARN = at(SHANGHAI, 2026, 6, 2, 14, 48)  # 80 % of 16h
RESOLUTION_DUE = at(SHANGHAI, 2026, 6, 2, 18)


@pytest.fixture
def backlog(org, make_complaint, policy, clock):
    """make backlog(n, state="in_progress") -> complaints received Monday 09:00."""
    policy(response=120, resolution=16 * 60, warn=80)
    clock.set(MONDAY_9)

    def make(n: int = 1, state: str = "in_progress"):
        return [make_complaint(state, received_at=MONDAY_9) for _ in range(n)]

    return make


@pytest.fixture
def escalated(monkeypatch):
    """Records the ids the sweep hands to the escalation service (instead of escalating)."""
    calls: list[list[int]] = []

    def record(*, complaint_ids, now):
        calls.append(list(complaint_ids))
        return len(calls[-1])

    monkeypatch.setattr(escalation_service, "escalation_open_for_sla_breach", record)
    return calls


def kinds(complaint) -> list[str]:
    return sorted(complaint.sla_crossings.values_list("kind", flat=True))


def sla_events(complaint):
    return ComplaintEvent.objects.filter(complaint=complaint, data__has_key="sla")


def test_nothing_before_the_warning(backlog, escalated):
    backlog()
    result = sla_sweep(now=at(SHANGHAI, 2026, 6, 1, 10, 35))
    assert result.total == 0 and result.escalated == 0
    assert not SlaCrossing.objects.exists()
    assert escalated == []


def test_a_warning_is_recorded_and_put_on_the_timeline(backlog, escalated):
    (complaint,) = backlog()
    before = timezone.now()
    result = sla_sweep(now=RESPONSE_WARN)
    after = timezone.now()
    assert result.counts == {
        "response_warning": 1,
        "response_breach": 0,
        "resolution_warning": 0,
        "resolution_breach": 0,
    }
    crossing = complaint.sla_crossings.get()
    assert (crossing.kind, crossing.cycle, crossing.due_at) == ("response_warning", 0, RESPONSE_DUE)
    assert crossing.sweep_id == result.sweep_id
    # Recorded when the sweep ran, whatever moment it swept "as of".
    assert before <= crossing.created_at <= after
    event = sla_events(complaint).get()
    assert event.kind == sweep.EVENT_KIND
    assert event.is_internal and event.actor is None
    assert event.created_at == RESPONSE_WARN
    assert event.data == {
        "sla": "response_warning",
        "due_at": event.data["due_at"],
        "cycle": 0,
        "crossing": crossing.pk,
    }
    assert datetime.fromisoformat(event.data["due_at"]) == RESPONSE_DUE
    assert "2026-06-01 11:00" in event.body
    assert escalated == []  # a warning escalates nothing


def test_a_breach_escalates(backlog, escalated):
    a, b = backlog(2)
    result = sla_sweep(now=RESPONSE_DUE)
    assert result.counts["response_warning"] == 2
    assert result.counts["response_breach"] == 2
    assert escalated == [[a.pk, b.pk]]
    assert result.escalated == 2
    assert kinds(a) == ["response_breach", "response_warning"]
    # Warning first, then the breach.
    assert [e.data["sla"] for e in sla_events(a).order_by("created_at", "pk")] == [
        "response_warning",
        "response_breach",
    ]


def test_running_twice_records_and_escalates_once(backlog, escalated):
    backlog(3)
    first = sla_sweep(now=RESOLUTION_DUE)
    second = sla_sweep(now=RESOLUTION_DUE)
    assert first.total == 12 and second.total == 0
    assert SlaCrossing.objects.count() == 12
    assert ComplaintEvent.objects.filter(data__has_key="sla").count() == 12
    # Response breaches and resolution breaches: one call each, none from the rerun.
    assert len(escalated) == 2


def test_the_real_escalation_opens_one_level_one_escalation(backlog, org):
    (complaint,) = backlog()
    sla_sweep(now=RESPONSE_DUE)
    sla_sweep(now=RESOLUTION_DUE)  # a second breach of the same complaint
    sla_sweep(now=RESOLUTION_DUE)
    escalation = Escalation.objects.get(complaint=complaint)
    assert (escalation.reason, escalation.level, escalation.settled_at) == ("sla_breach", 1, None)
    complaint.refresh_from_db()
    assert complaint.escalation_level == 1
    assert complaint.events.filter(kind="escalated").count() == 1


def test_a_first_response_stops_the_response_clock(backlog, org, escalated):
    (complaint,) = backlog()
    t.complaint_await_customer(complaint=complaint, actor=org.agent, question="Model number?")
    t.complaint_resume(complaint=complaint, actor=org.agent)
    sla_sweep(now=RESOLUTION_DUE)
    assert kinds(complaint) == ["resolution_breach", "resolution_warning"]


def test_paused_and_finished_complaints_are_not_swept(backlog, escalated):
    waiting, resolved, closed = (
        backlog(1, "awaiting_customer")[0],
        backlog(1, "resolved")[0],
        backlog(1, "closed")[0],
    )
    result = sla_sweep(now=at(SHANGHAI, 2026, 7, 1, 9))
    assert result.total == 0
    assert not SlaCrossing.objects.filter(complaint__in=[waiting, resolved, closed]).exists()


def test_untriaged_complaints_have_no_clock(org, make_complaint, escalated):
    make_complaint("new")
    assert sla_sweep().total == 0


def test_a_reopened_complaint_is_a_new_cycle(backlog, org, escalated):
    (complaint,) = backlog()
    sla_sweep(now=RESOLUTION_DUE)
    t.complaint_resolve(
        complaint=complaint,
        actor=org.agent,
        summary="Replaced",
        root_cause="product_defect",
        remedy="New kettle",
    )
    t.complaint_reopen(complaint=complaint, actor=roles.SYSTEM, reason="Still broken")
    sla_sweep(now=RESOLUTION_DUE)
    cycles = sorted(complaint.sla_crossings.values_list("kind", "cycle"))
    assert ("resolution_breach", 0) in cycles and ("resolution_breach", 1) in cycles
    # The first response was given (resolving records it): no response clock in cycle 1.
    assert ("response_breach", 1) not in cycles


def test_only_rows_this_sweep_inserted_are_acted_on(backlog, escalated):
    """Another sweep recorded the crossing first (between our query and our insert):
    our insert does nothing, and we neither write an event nor escalate."""
    a, b = backlog(2)
    rule = next(r for r in sweep.RULES if r.kind == "response_breach")
    other = SlaCrossing.objects.create(
        complaint=a,
        kind="response_breach",
        cycle=0,
        due_at=RESPONSE_DUE,
        sweep_id=sweep.uuid.uuid4(),
    )
    rows = ((a.pk, RESPONSE_DUE, 0), (b.pk, RESPONSE_DUE, 0))
    mine = sweep.uuid.uuid4()
    recorded, _ = sweep._record_batch(rule, rows, sweep_id=mine, now=RESPONSE_DUE)
    assert recorded == 1
    assert escalated == [[b.pk]]
    assert SlaCrossing.objects.get(pk=other.pk).sweep_id == other.sweep_id
    assert not sla_events(a).exists() and sla_events(b).count() == 1


def test_a_failed_escalation_leaves_the_breach_for_the_next_sweep(backlog, monkeypatch):
    (complaint,) = backlog()

    def broken(**kwargs):
        raise RuntimeError("escalation service down")

    monkeypatch.setattr(escalation_service, "escalation_open_for_sla_breach", broken)
    with pytest.raises(RuntimeError):
        sla_sweep(now=RESPONSE_DUE)
    # The warning (its own batch) is kept; the breach and its event were rolled back.
    assert kinds(complaint) == ["response_warning"]
    monkeypatch.undo()
    result = sla_sweep(now=RESPONSE_DUE)
    assert result.counts["response_breach"] == 1 and result.escalated == 1


def test_batches(backlog, escalated):
    complaints = backlog(5)
    result = sla_sweep(now=RESPONSE_DUE, batch_size=2)
    assert result.counts["response_breach"] == 5
    assert [len(ids) for ids in escalated] == [2, 2, 1]
    assert sorted(pk for ids in escalated for pk in ids) == sorted(c.pk for c in complaints)


def test_queries_do_not_grow_with_the_backlog(backlog, escalated, django_assert_max_num_queries):
    backlog(2)
    with django_assert_max_num_queries(40) as few:
        sla_sweep(now=RESOLUTION_DUE)
    backlog(12)
    with django_assert_max_num_queries(40) as many:
        sla_sweep(now=at(SHANGHAI, 2026, 6, 3, 9))
    assert len(many) == len(few)


def test_escalating_the_breaches_takes_as_many_queries_for_2_as_for_12(
    backlog, django_assert_max_num_queries
):
    backlog(2)
    with django_assert_max_num_queries(80) as few:
        assert sla_sweep(now=RESOLUTION_DUE).escalated == 2
    backlog(12)
    with django_assert_max_num_queries(80) as many:
        assert sla_sweep(now=at(SHANGHAI, 2026, 6, 3, 9)).escalated == 12
    assert len(many) == len(few)
    assert Escalation.objects.filter(reason="sla_breach").count() == 14
