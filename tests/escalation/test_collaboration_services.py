"""Collaboration requests: asking a department (deadline in its business time),
answering onto the complaint's timeline, withdrawing, and the overdue sweep."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from complaints import roles
from complaints.errors import (
    ActionForbidden,
    ComplaintConflict,
    InvalidInput,
    NotFound,
    TransitionRefused,
)
from complaints.models import (
    BusinessCalendar,
    CollaborationRequest,
    ComplaintEvent,
    Escalation,
    Notification,
)
from complaints.services import collaboration as svc
from tests.escalation.conftest import NINE_TO_SIX
from tests.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
FRIDAY_5PM = datetime(2026, 3, 13, 17, 0, tzinfo=SHANGHAI)  # a Friday
Status = CollaborationRequest.Status


def _notified(kind) -> list[str]:
    return sorted(Notification.objects.filter(kind=kind).values_list("user__username", flat=True))


@pytest.fixture
def ask(ladder, make_complaint):
    """ask(**overrides) -> a request from `agent` to Technical on an in-progress complaint."""

    def make(complaint=None, **kwargs):
        fields = {
            "complaint": complaint or make_complaint("in_progress"),
            "actor": ladder.agent,
            "department": ladder.department,
            "question": "Is firmware 2.1 affected by the overheating bug?",
        }
        fields.update(kwargs)
        return svc.collaboration_ask(**fields)

    return make


# --- The deadline -------------------------------------------------------------------------


def test_deadline_counts_the_departments_business_hours(org, calendar):
    due = svc.collaboration_due_at(department=org.department, start=FRIDAY_5PM)
    # One working hour on Friday (17–18), the second on Monday (9–10).
    assert due == datetime(2026, 3, 16, 10, 0, tzinfo=SHANGHAI)


def test_ask_on_friday_evening_is_due_on_monday(ladder, calendar, ask, monkeypatch):
    monkeypatch.setattr(svc.timezone, "now", lambda: FRIDAY_5PM)
    request = ask()
    assert request.asked_at == FRIDAY_5PM
    assert request.due_at == datetime(2026, 3, 16, 10, 0, tzinfo=SHANGHAI)


def test_without_its_own_calendar_the_first_calendar_counts(org):
    BusinessCalendar.objects.create(
        name="A first", time_zone="Asia/Shanghai", working_hours=NINE_TO_SIX
    )
    BusinessCalendar.objects.create(
        name="B always open",
        time_zone="Asia/Shanghai",
        working_hours={str(d): [["00:00", "23:59"]] for d in range(7)},
    )
    org.department.collaboration_minutes = 120
    due = svc.collaboration_due_at(department=org.department, start=FRIDAY_5PM)
    assert due == datetime(2026, 3, 16, 10, 0, tzinfo=SHANGHAI)


def test_without_any_calendar_the_wall_clock_counts(org):
    org.department.collaboration_minutes = 120
    due = svc.collaboration_due_at(department=org.department, start=FRIDAY_5PM)
    assert due == FRIDAY_5PM + timedelta(hours=2)


# --- Asking -------------------------------------------------------------------------------


def test_ask_records_an_internal_event_and_tells_the_department(ladder, ask):
    request = ask()

    assert request.status == Status.OPEN
    assert request.asked_by == ladder.agent
    assert request.version == 1
    event = request.complaint.events.get(kind=ComplaintEvent.Kind.NOTE_ADDED)
    assert event.is_internal
    assert event.actor == ladder.agent
    assert event.data["collaboration"]["id"] == request.pk
    assert event.data["collaboration"]["action"] == "asked"
    assert "Is firmware 2.1 affected" in event.body
    assert "Technical" in event.body
    # The department's member and its supervisor.
    assert _notified(Notification.Kind.COLLABORATION) == ["tech", "tech_lead"]


def test_ask_does_not_change_the_complaint(ladder, make_complaint, ask):
    complaint = make_complaint("in_progress")
    version, history = complaint.version, complaint.history.count()
    ask(complaint=complaint)
    complaint.refresh_from_db()
    assert complaint.version == version
    assert complaint.history.count() == history


def test_only_an_active_department_can_be_asked(ladder, ask):
    with pytest.raises(InvalidInput):
        ask(department=ladder.team_b)
    closed = TeamFactory(name="Old logistics", kind="department", is_active=False)
    with pytest.raises(InvalidInput):
        ask(department=closed)
    with pytest.raises(InvalidInput):
        ask(department=None)
    assert not CollaborationRequest.objects.exists()


def test_a_question_is_required(ask):
    with pytest.raises(InvalidInput):
        ask(question="   ")


def test_who_may_ask(ladder, make_complaint, ask):
    complaint = make_complaint("in_progress")
    with pytest.raises(NotFound):
        ask(complaint=complaint, actor=ladder.agent_b)
    with pytest.raises(NotFound):
        ask(complaint=complaint, actor=ladder.outsider)
    with pytest.raises(ActionForbidden):
        ask(complaint=make_complaint("rejected"), actor=ladder.supervisor)
    ask(complaint=complaint, actor=ladder.supervisor)
    assert CollaborationRequest.objects.count() == 1


# --- Answering ----------------------------------------------------------------------------


def test_answer_goes_on_the_timeline_and_tells_the_asker(ladder, ask):
    request = ask(actor=ladder.agent2)
    Notification.objects.all().delete()

    svc.collaboration_answer(request=request, actor=ladder.responder, answer="Yes: flash 2.2.")

    assert request.status == Status.ANSWERED
    assert request.answer == "Yes: flash 2.2."
    assert request.answered_by == ladder.responder
    assert request.answered_at is not None
    assert request.version == 2
    stored = CollaborationRequest.objects.get(pk=request.pk)
    assert stored.status == Status.ANSWERED
    assert stored.history.first().history_user == ladder.responder
    event = request.complaint.events.filter(kind=ComplaintEvent.Kind.NOTE_ADDED).last()
    assert event.actor == ladder.responder
    assert event.is_internal
    assert "Yes: flash 2.2." in event.body
    assert event.data["collaboration"]["id"] == request.pk
    assert event.data["collaboration"]["action"] == "answered"
    # The asker and the complaint's assignee.
    assert _notified(Notification.Kind.COLLABORATION) == ["agent", "agent2"]


def test_a_supervisor_may_answer_for_the_department(ladder, ask):
    request = ask()
    svc.collaboration_answer(request=request, actor=ladder.supervisor, answer="Known issue.")
    assert request.status == Status.ANSWERED


def test_who_is_not_in_the_department_cannot_answer(ladder, ask):
    request = ask()
    # The agent may see the complaint: told why. Others: as if it did not exist.
    with pytest.raises(ActionForbidden):
        svc.collaboration_answer(request=request, actor=ladder.agent, answer="me")
    with pytest.raises(NotFound):
        svc.collaboration_answer(request=request, actor=ladder.agent_b, answer="me")
    logistics = TeamFactory(name="Logistics", code="logistics", kind="department")
    driver = UserFactory(username="driver", role=roles.RESPONDER)
    MembershipFactory(team=logistics, user=driver)
    with pytest.raises(NotFound):
        svc.collaboration_answer(request=request, actor=driver, answer="me")
    request.refresh_from_db()
    assert request.status == Status.OPEN


def test_an_answer_is_required(ladder, ask):
    request = ask()
    with pytest.raises(InvalidInput):
        svc.collaboration_answer(request=request, actor=ladder.responder, answer="")


def test_a_stale_copy_cannot_answer(ladder, ask):
    request = ask()
    stale = CollaborationRequest.objects.get(pk=request.pk)
    svc.collaboration_answer(request=request, actor=ladder.responder, answer="First")
    with pytest.raises(ComplaintConflict):
        svc.collaboration_answer(request=stale, actor=ladder.responder, answer="Second")
    # Reloaded, it is no longer open.
    fresh = CollaborationRequest.objects.get(pk=request.pk)
    with pytest.raises(TransitionRefused):
        svc.collaboration_answer(request=fresh, actor=ladder.responder, answer="Second")
    assert CollaborationRequest.objects.get(pk=request.pk).answer == "First"


def test_withdraw(ladder, ask):
    request = ask()
    with pytest.raises(NotFound):
        svc.collaboration_cancel(request=request, actor=ladder.agent_b)
    svc.collaboration_cancel(request=request, actor=ladder.agent2, reason="Solved meanwhile")
    assert request.status == Status.CANCELLED
    event = request.complaint.events.filter(kind=ComplaintEvent.Kind.NOTE_ADDED).last()
    assert event.data["collaboration"]["action"] == "cancelled"
    assert "Solved meanwhile" in event.body
    with pytest.raises(TransitionRefused):
        svc.collaboration_answer(request=request, actor=ladder.responder, answer="late")


# --- Selectors ----------------------------------------------------------------------------


def test_department_people_see_their_departments_requests(ladder, ask):
    request = ask()
    assert list(svc.collaboration_requests_for_department_user(ladder.responder)) == [request]
    assert list(svc.collaboration_requests_for_department_user(ladder.tech_lead)) == [request]
    assert list(svc.collaboration_requests_for_department_user(ladder.agent)) == []
    assert list(svc.collaboration_open_for(request.complaint)) == [request]
    svc.collaboration_answer(request=request, actor=ladder.responder, answer="ok")
    assert list(svc.collaboration_open_for(request.complaint)) == []


# --- The overdue sweep ----------------------------------------------------------------------


def test_sweep_marks_overdue_once_and_escalates_once(ladder, ask):
    request = ask()
    complaint = request.complaint
    Notification.objects.all().delete()
    later = request.due_at + timedelta(minutes=1)

    assert svc.collaboration_sweep(now=request.due_at - timedelta(seconds=1)) == 0
    assert svc.collaboration_sweep(now=later) == 1
    assert svc.collaboration_sweep(now=later + timedelta(hours=1)) == 0

    request.refresh_from_db()
    assert request.overdue_at == later
    assert request.status == Status.OPEN
    assert request.history.first().history_change_reason == "Overdue"
    [escalation] = Escalation.objects.filter(complaint=complaint)
    assert escalation.reason == Escalation.Reason.COLLABORATION
    assert escalation.level == 1
    assert escalation.opened_by is None
    assert "Technical did not answer" in escalation.note
    complaint.refresh_from_db()
    assert complaint.escalation_level == 1
    # The department's supervisor (not the complaint team's) and the assignee.
    assert _notified(Notification.Kind.ESCALATED) == ["agent", "tech_lead"]


def test_a_request_marked_by_another_sweep_is_left_alone(ladder, ask):
    request = ask()
    later = request.due_at + timedelta(minutes=1)
    assert svc._mark_overdue(request.pk, later) is True
    assert svc._mark_overdue(request.pk, later) is False
    assert Escalation.objects.count() == 1


def test_two_overdue_departments_share_one_escalation(ladder, make_complaint, ask):
    complaint = make_complaint("in_progress")
    logistics = TeamFactory(name="Logistics", code="logistics", kind="department")
    boss = UserFactory(username="logistics_boss", role=roles.SUPERVISOR)
    logistics.supervisor = boss
    logistics.save()
    first = ask(complaint=complaint)
    ask(complaint=complaint, department=logistics)
    Notification.objects.all().delete()

    assert svc.collaboration_sweep(now=first.due_at + timedelta(days=10)) == 2

    assert Escalation.objects.filter(complaint=complaint).count() == 1
    assert _notified(Notification.Kind.ESCALATED) == ["agent", "logistics_boss", "tech_lead"]


def test_answering_the_overdue_request_settles_its_escalation(ladder, ask):
    request = ask()
    svc.collaboration_sweep(now=request.due_at + timedelta(minutes=1))
    request.refresh_from_db()

    svc.collaboration_answer(request=request, actor=ladder.responder, answer="Finally: yes.")

    escalation = Escalation.objects.get(complaint=request.complaint)
    assert escalation.settled_at is not None
    assert escalation.settled_by is None
    request.complaint.refresh_from_db()
    assert request.complaint.escalation_level == 0


def test_sweep_skips_answered_and_withdrawn_requests(ladder, ask):
    answered = ask()
    svc.collaboration_answer(request=answered, actor=ladder.responder, answer="ok")
    withdrawn = ask()
    svc.collaboration_cancel(request=withdrawn, actor=ladder.agent)
    assert svc.collaboration_sweep(now=timezone.now() + timedelta(days=30)) == 0
    assert not Escalation.objects.exists()
