"""Escalations: open (idempotent), acknowledge, instruct, settle, the climb up the
ladder and the SLA sweep's entry point."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from complaints import roles
from complaints.errors import ActionForbidden, ComplaintConflict, InvalidInput, NotFound
from complaints.models import Complaint, ComplaintEvent, Escalation, Notification
from complaints.services import escalation as svc

pytestmark = pytest.mark.django_db

Reason = Escalation.Reason
Kind = ComplaintEvent.Kind


def _notified(kind=Notification.Kind.ESCALATED) -> set[str]:
    return set(Notification.objects.filter(kind=kind).values_list("user__username", flat=True))


def _escalated_events(complaint) -> list[ComplaintEvent]:
    return list(complaint.events.filter(kind=Kind.ESCALATED).order_by("pk"))


# --- Opening ------------------------------------------------------------------------------


def test_open_raises_the_level_records_and_notifies(ladder, make_complaint):
    org = ladder
    complaint = make_complaint("in_progress")
    history_before = complaint.history.count()

    escalation = svc.escalation_open(
        complaint=complaint, actor=org.agent2, reason=Reason.MANUAL, note="Customer threatens 12315"
    )

    escalation.refresh_from_db()
    assert escalation.level == 1
    assert escalation.opened_by == org.agent2
    assert escalation.note == "Customer threatens 12315"
    assert escalation.climb_at == escalation.opened_at + timedelta(minutes=30)
    assert escalation.is_open
    complaint.refresh_from_db()
    assert complaint.escalation_level == 1
    # One history row, with the reason and the actor.
    assert complaint.history.count() == history_before + 1
    latest = complaint.history.first()
    assert latest.history_change_reason == "Escalated: Raised by staff"
    assert latest.history_user == org.agent2
    [event] = _escalated_events(complaint)
    assert event.actor == org.agent2
    assert event.is_internal
    assert event.body == "Customer threatens 12315"
    assert event.data["escalation"]["id"] == escalation.pk
    assert event.data["escalation"]["action"] == "opened"
    # The team's supervisor (level 1) and the assignee hear of it; the opener does not.
    assert _notified() == {"supervisor", "agent"}


def test_open_twice_returns_the_open_escalation(ladder, make_complaint):
    org = ladder
    complaint = make_complaint("in_progress")
    first = svc.escalation_open(complaint=complaint, actor=org.agent, reason=Reason.VIP)
    history = complaint.history.count()

    again, opened = svc.escalation_open_or_existing(
        complaint=complaint, actor=org.agent2, reason=Reason.VIP
    )

    assert again.pk == first.pk
    assert opened is False
    assert Escalation.objects.filter(complaint=complaint).count() == 1
    assert complaint.history.count() == history
    assert len(_escalated_events(complaint)) == 1


def test_a_second_open_escalation_with_the_same_reason_is_refused_by_the_database(
    ladder, make_complaint
):
    complaint = make_complaint("in_progress")
    svc.escalation_open(complaint=complaint, actor=ladder.agent, reason=Reason.REPEAT)
    with pytest.raises(IntegrityError), transaction.atomic():
        Escalation.objects.create(
            complaint=complaint, reason=Reason.REPEAT, opened_at=timezone.now()
        )


def test_another_reason_opens_another_escalation(ladder, make_complaint):
    complaint = make_complaint("in_progress")
    svc.escalation_open(complaint=complaint, actor=ladder.agent, reason=Reason.VIP)
    svc.escalation_open(complaint=complaint, actor=ladder.agent, reason=Reason.REPEAT, level=2)

    assert Escalation.objects.filter(complaint=complaint, settled_at__isnull=True).count() == 2
    complaint.refresh_from_db()
    assert complaint.escalation_level == 2


def test_level_two_goes_to_the_head_and_level_three_to_management(ladder, make_complaint):
    org = ladder
    complaint = make_complaint("in_progress")
    svc.escalation_open(complaint=complaint, actor=roles.SYSTEM, reason=Reason.VIP, level=2)
    assert _notified() == {"head", "agent"}

    Notification.objects.all().delete()
    other = make_complaint("in_progress")
    svc.escalation_open(complaint=other, actor=roles.SYSTEM, reason=Reason.VIP, level=3)
    assert _notified() == {"admin", "agent"}
    other.refresh_from_db()
    assert other.escalation_level == 3
    # No step for level 3: it climbs no further.
    assert Escalation.objects.get(complaint=other).climb_at is None
    assert org.admin.username == "admin"


def test_nobody_at_the_level_the_next_level_hears_of_it(org, make_complaint):
    org.team.supervisor = None
    org.team.save()
    complaint = make_complaint("in_progress")
    svc.escalation_open(complaint=complaint, actor=roles.SYSTEM, reason=Reason.VIP)
    assert _notified() == {"admin", "agent"}


def test_no_step_for_the_priority_means_no_climb_time(org, make_complaint):
    complaint = make_complaint("in_progress")
    escalation = svc.escalation_open(complaint=complaint, actor=org.agent, reason=Reason.MANUAL)
    assert escalation.climb_at is None


def test_staff_who_cannot_see_the_complaint_cannot_escalate(ladder, make_complaint):
    org = ladder
    complaint = make_complaint("in_progress")
    for actor in (org.agent_b, org.outsider):
        with pytest.raises(NotFound):
            svc.escalation_open(complaint=complaint, actor=actor, reason=Reason.MANUAL)
    assert not Escalation.objects.exists()
    complaint.refresh_from_db()
    assert complaint.escalation_level == 0


def test_unknown_reason_or_level_is_refused(ladder, make_complaint):
    complaint = make_complaint("in_progress")
    with pytest.raises(InvalidInput):
        svc.escalation_open(complaint=complaint, actor=ladder.agent, reason="whim")
    with pytest.raises(InvalidInput):
        svc.escalation_open(complaint=complaint, actor=ladder.agent, reason=Reason.VIP, level=4)
    assert not Escalation.objects.exists()


def test_a_rejected_complaint_is_not_escalated(ladder, make_complaint):
    complaint = make_complaint("rejected")
    with pytest.raises(InvalidInput):
        svc.escalation_open(complaint=complaint, actor=roles.SYSTEM, reason=Reason.VIP)


def test_a_stale_copy_is_refused_and_left_as_it_was(ladder, make_complaint):
    complaint = make_complaint("in_progress")
    stale = Complaint.objects.get(pk=complaint.pk)
    svc.escalation_open(complaint=complaint, actor=ladder.agent, reason=Reason.VIP)

    with pytest.raises(ComplaintConflict):
        svc.escalation_open(complaint=stale, actor=ladder.agent, reason=Reason.REPEAT, level=2)
    assert stale.escalation_level == 0
    assert not Escalation.objects.filter(reason=Reason.REPEAT).exists()


# --- Acknowledge, instruct, settle ---------------------------------------------------------


@pytest.fixture
def opened(ladder, make_complaint):
    complaint = make_complaint("in_progress")
    escalation = svc.escalation_open(complaint=complaint, actor=roles.SYSTEM, reason=Reason.VIP)
    Notification.objects.all().delete()
    return escalation


def test_supervisor_acknowledges_once(opened, ladder):
    svc.escalation_acknowledge(escalation=opened, actor=ladder.supervisor)
    first = opened.acknowledged_at
    assert first is not None
    assert opened.acknowledged_by == ladder.supervisor

    svc.escalation_acknowledge(escalation=opened, actor=ladder.head)
    opened.refresh_from_db()
    assert opened.acknowledged_at == first
    assert opened.acknowledged_by == ladder.supervisor
    events = _escalated_events(opened.complaint)
    assert [e.data["escalation"]["action"] for e in events] == ["opened", "acknowledged"]
    assert opened.history.first().history_user == ladder.supervisor


@pytest.mark.parametrize("who", ["agent", "responder", "outsider"])
def test_only_supervisors_manage_escalations(opened, ladder, who):
    actor = getattr(ladder, who)
    with pytest.raises(ActionForbidden):
        svc.escalation_acknowledge(escalation=opened, actor=actor)
    with pytest.raises(ActionForbidden):
        svc.escalation_settle(escalation=opened, actor=actor, settlement="done")
    with pytest.raises(ActionForbidden):
        svc.escalation_instruct(escalation=opened, actor=actor, note="do it")
    opened.refresh_from_db()
    assert opened.acknowledged_at is None
    assert opened.is_open


def test_instruct_adds_an_internal_note_and_tells_the_assignee(opened, ladder):
    event = svc.escalation_instruct(
        escalation=opened, actor=ladder.supervisor, note="Call the customer today."
    )
    assert event.kind == Kind.NOTE_ADDED
    assert event.is_internal
    assert event.actor == ladder.supervisor
    assert event.body == "Call the customer today."
    assert event.data["escalation"] == {
        "id": opened.pk,
        "reason": "vip",
        "reason_label": "VIP customer",
        "level": 1,
        "action": "instructed",
    }
    assert _notified() == {"agent"}


def test_instruct_needs_a_text(opened, ladder):
    with pytest.raises(InvalidInput):
        svc.escalation_instruct(escalation=opened, actor=ladder.supervisor, note="  ")


def test_settle_needs_a_settlement(opened, ladder):
    with pytest.raises(InvalidInput):
        svc.escalation_settle(escalation=opened, actor=ladder.supervisor, settlement=" ")
    opened.refresh_from_db()
    assert opened.is_open


def test_settling_the_last_escalation_resets_the_level(opened, ladder):
    complaint = opened.complaint
    history = complaint.history.count()

    svc.escalation_settle(
        escalation=opened, actor=ladder.supervisor, settlement="Voucher offered; customer calm."
    )

    assert opened.settled_at is not None
    assert opened.settled_by == ladder.supervisor
    assert opened.settlement == "Voucher offered; customer calm."
    complaint.refresh_from_db()
    assert complaint.escalation_level == 0
    assert complaint.history.count() == history + 1
    assert complaint.history.first().history_change_reason == "Escalation settled: VIP customer"
    assert _escalated_events(complaint)[-1].data["escalation"]["action"] == "settled"
    assert _notified() == {"agent"}
    with pytest.raises(InvalidInput):
        svc.escalation_settle(escalation=opened, actor=ladder.supervisor, settlement="again")
    # Settled: the same reason may open again.
    again = svc.escalation_open(complaint=complaint, actor=roles.SYSTEM, reason=Reason.VIP)
    assert again.pk != opened.pk


def test_settling_one_of_two_keeps_the_level_of_the_other(ladder, make_complaint):
    complaint = make_complaint("in_progress")
    low = svc.escalation_open(complaint=complaint, actor=roles.SYSTEM, reason=Reason.VIP)
    high = svc.escalation_open(
        complaint=complaint, actor=roles.SYSTEM, reason=Reason.REPEAT, level=2
    )

    svc.escalation_settle(escalation=high, actor=ladder.supervisor, settlement="Handled")
    complaint.refresh_from_db()
    assert complaint.escalation_level == 1

    svc.escalation_settle(escalation=low, actor=ladder.supervisor, settlement="Handled")
    complaint.refresh_from_db()
    assert complaint.escalation_level == 0


# --- The climb -------------------------------------------------------------------------------


def test_climb_moves_up_one_level_once(opened, ladder):
    complaint = opened.complaint
    later = opened.climb_at + timedelta(minutes=1)

    assert svc.escalations_climb(now=later) == 1
    assert svc.escalations_climb(now=later) == 0

    opened.refresh_from_db()
    assert opened.level == 2
    assert opened.climb_at == later + timedelta(minutes=60)
    complaint.refresh_from_db()
    assert complaint.escalation_level == 2
    assert complaint.history.first().history_change_reason == "Escalated: VIP customer"
    climbed = [
        e for e in _escalated_events(complaint) if e.data["escalation"]["action"] == "climbed"
    ]
    assert len(climbed) == 1
    assert climbed[0].actor is None
    assert _notified() == {"head", "agent"}
    assert opened.history.first().history_change_reason == "Climbed to level 2"


def test_a_climb_selected_by_two_sweeps_happens_once(opened):
    """Both sweeps selected the candidate at level 1; the second one, coming after the
    first committed, finds it climbed and does nothing."""
    later = opened.climb_at + timedelta(minutes=1)
    assert svc._climb_one(opened.pk, opened.complaint_id, 1, later) is True
    assert svc._climb_one(opened.pk, opened.complaint_id, 1, later) is False
    opened.refresh_from_db()
    assert opened.level == 2


def test_climb_stops_at_management(opened, ladder):
    moment = opened.climb_at + timedelta(minutes=1)
    assert svc.escalations_climb(now=moment) == 1
    opened.refresh_from_db()
    assert svc.escalations_climb(now=opened.climb_at + timedelta(minutes=1)) == 1
    opened.refresh_from_db()
    assert opened.level == 3
    assert opened.climb_at is None
    assert svc.escalations_climb(now=moment + timedelta(days=30)) == 0
    assert opened.complaint.escalations.get().level == 3


def test_nothing_climbs_before_its_time_or_once_settled(opened, ladder):
    assert svc.escalations_climb(now=opened.climb_at - timedelta(seconds=1)) == 0
    svc.escalation_settle(escalation=opened, actor=ladder.supervisor, settlement="Done")
    assert svc.escalations_climb(now=opened.climb_at + timedelta(hours=5)) == 0


# --- The SLA sweep's entry point ---------------------------------------------------------


def test_sla_breach_opens_one_level_one_escalation_per_open_complaint(ladder, make_complaint):
    late = make_complaint("in_progress")
    also_late = make_complaint("triaged")
    finished = make_complaint("resolved")
    now = timezone.now()

    ids = [late.pk, also_late.pk, finished.pk, late.pk, 999_999]
    assert svc.escalation_open_for_sla_breach(complaint_ids=ids, now=now) == 2
    assert svc.escalation_open_for_sla_breach(complaint_ids=ids, now=now) == 0

    rows = Escalation.objects.filter(reason=Reason.SLA_BREACH)
    assert {e.complaint_id for e in rows} == {late.pk, also_late.pk}
    for escalation in rows:
        assert escalation.level == 1
        assert escalation.opened_by is None
        assert escalation.opened_at == now
        assert escalation.climb_at == now + timedelta(minutes=30)
    late.refresh_from_db()
    assert late.escalation_level == 1
    assert late.history.first().history_user is None
    finished.refresh_from_db()
    assert finished.escalation_level == 0
