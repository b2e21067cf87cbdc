"""The call-back service (回访): the sweep opens one after N days without a survey
answer, once per round; recording a call closes, reopens or counts an attempt; a
survey answer, a reopening or a supervisor's close overtakes it."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from complaints import roles
from complaints.errors import ActionForbidden, InvalidInput, NotFound, TransitionRefused
from complaints.models import (
    CallbackAttempt,
    CallbackResult,
    CallbackTask,
    Complaint,
    ComplaintEvent,
    Escalation,
    LoopOutcome,
    Notification,
    StatusChange,
    SurveyResponse,
)
from complaints.services import callbacks, survey
from complaints.services import transitions as t
from complaints.tasks_loop import callbacks_due_task
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

Kind = ComplaintEvent.Kind
Status = CallbackTask.Status
Outcome = CallbackTask.Outcome
SATISFIED = CallbackResult.REACHED_SATISFIED
UNSATISFIED = CallbackResult.REACHED_UNSATISFIED
NOT_REACHED = CallbackResult.NOT_REACHED


def _callback_events(complaint) -> list[ComplaintEvent]:
    return list(complaint.events.filter(kind=Kind.CALLBACK).order_by("created_at", "pk"))


def _record(task, actor, result, note=""):
    return callbacks.callback_record(task=task, actor=actor, result=result, note=note)


# --- The sweep ------------------------------------------------------------------------------


def test_sweep_opens_a_callback_only_after_the_configured_days(org, make_complaint):
    complaint = make_complaint("resolved")
    wait_over = complaint.resolved_at + timedelta(days=3)

    assert callbacks.callbacks_due_sweep(now=wait_over - timedelta(minutes=1)) == 0
    assert not CallbackTask.objects.exists()
    assert _callback_events(complaint) == []

    assert callbacks.callbacks_due_sweep(now=wait_over) == 1
    task = CallbackTask.objects.get()
    assert (task.complaint, task.cycle, task.status, task.outcome) == (complaint, 0, "open", "")
    assert task.attempts == 0
    assert task.created_at == task.next_attempt_at == wait_over
    assert task.assignee == org.agent
    [event] = _callback_events(complaint)
    assert event.actor is None and event.is_internal
    assert event.data == {"callback": task.pk, "opened": True}
    note = Notification.objects.get(user=org.agent, kind=Notification.Kind.CALLBACK)
    assert note.complaint == complaint
    assert complaint.tracking_number in note.text
    complaint.refresh_from_db()
    assert complaint.status == "resolved"


def test_the_wait_is_configurable(settings, make_complaint):
    settings.COMPLAINT_CALLBACK_AFTER_DAYS = 5
    complaint = make_complaint("resolved")
    assert callbacks.callbacks_due_sweep(now=complaint.resolved_at + timedelta(days=4)) == 0
    assert callbacks.callbacks_due_sweep(now=complaint.resolved_at + timedelta(days=5)) == 1


def test_sweep_opens_one_callback_per_round(org, make_complaint):
    complaint = make_complaint("resolved")
    later = complaint.resolved_at + timedelta(days=4)

    assert callbacks.callbacks_due_sweep(now=later) == 1
    assert callbacks.callbacks_due_sweep(now=later + timedelta(hours=1)) == 0
    assert CallbackTask.objects.filter(complaint=complaint).count() == 1
    assert len(_callback_events(complaint)) == 1
    assert Notification.objects.filter(kind=Notification.Kind.CALLBACK).count() == 1

    # Unsatisfied on the phone: second handling, resolved again, a new round's call-back.
    task = CallbackTask.objects.get()
    _record(task, org.agent, UNSATISFIED, "Still leaking")
    complaint.refresh_from_db()
    t.complaint_assign(complaint=complaint, actor=org.supervisor, assignee=org.agent)
    t.complaint_start(complaint=complaint, actor=org.agent)
    t.complaint_resolve(
        complaint=complaint,
        actor=org.agent,
        summary="Second unit sent",
        root_cause="product_defect",
        remedy="Replacement",
    )
    assert callbacks.callbacks_due_sweep(now=complaint.resolved_at + timedelta(days=3)) == 1
    assert sorted(complaint.callbacks.values_list("cycle", "status")) == [
        (0, "done"),
        (1, "open"),
    ]


def test_no_callback_when_the_survey_was_answered(make_complaint):
    complaint = make_complaint("resolved")
    survey.survey_submit(complaint=complaint, rating=5, solved=True)
    assert callbacks.callbacks_due_sweep(now=timezone.now() + timedelta(days=30)) == 0
    assert not CallbackTask.objects.exists()


def test_no_callback_for_a_round_with_an_answer_even_if_still_resolved(make_complaint):
    # An answer whose consequences are not written yet (another transaction) must
    # still win over the sweep.
    complaint = make_complaint("resolved")
    SurveyResponse.objects.create(
        complaint=complaint, cycle=0, rating=4, solved=True, answered_at=timezone.now()
    )
    assert callbacks.callbacks_due_sweep(now=timezone.now() + timedelta(days=30)) == 0
    with pytest.raises(TransitionRefused, match="answered the survey"):
        callbacks.callback_open(complaint=complaint)
    assert not CallbackTask.objects.exists()


@pytest.mark.parametrize("state", ["reopened", "closed", "in_progress"])
def test_no_callback_for_a_complaint_not_resolved(make_complaint, state):
    complaint = make_complaint(state)
    assert callbacks.callbacks_due_sweep(now=timezone.now() + timedelta(days=30)) == 0
    with pytest.raises(TransitionRefused, match="Only a resolved complaint"):
        callbacks.callback_open(complaint=complaint)
    assert not CallbackTask.objects.exists()


def test_open_reads_the_complaint_again_not_the_callers_stale_copy(org, make_complaint):
    complaint = make_complaint("resolved")
    other_copy = Complaint.objects.get(pk=complaint.pk)
    t.complaint_close(complaint=other_copy, actor=org.supervisor, reason="Customer moved abroad")

    assert complaint.status == "resolved"  # the stale copy the sweep's list would hold
    with pytest.raises(TransitionRefused):
        callbacks.callback_open(complaint=complaint)
    assert not CallbackTask.objects.exists()


def test_management_command_runs_the_sweep(make_complaint, clock):
    make_complaint("resolved")
    make_complaint("resolved")
    clock.move(days=3)
    out = StringIO()
    call_command("callbacks_due", stdout=out)
    assert "2 call-back(s) opened" in out.getvalue()
    call_command("callbacks_due", stdout=out)
    assert "0 call-back(s) opened" in out.getvalue()
    assert CallbackTask.objects.count() == 2


# --- Recording a call -------------------------------------------------------------------------


def test_reached_satisfied_closes_with_the_callback_outcome(org, due_callback):
    task = due_callback()
    complaint = task.complaint

    attempt = _record(task, org.agent2, SATISFIED, "Happy with the new kettle")

    complaint.refresh_from_db()
    assert complaint.status == "closed"
    assert complaint.loop_outcome == LoopOutcome.CALLBACK
    task.refresh_from_db()
    assert (task.status, task.outcome, task.attempts) == ("done", "satisfied", 0)
    assert task.finished_at is not None and task.assignee == org.agent2
    assert (attempt.result, attempt.actor, attempt.note) == (
        SATISFIED,
        org.agent2,
        "Happy with the new kettle",
    )
    change = StatusChange.objects.filter(complaint=complaint).latest("created_at", "pk")
    assert (change.transition, change.to_status, change.actor) == ("close", "closed", None)
    assert "agent2" in change.reason
    event = _callback_events(complaint)[-1]
    assert event.actor == org.agent2
    assert "satisfied" in event.body and "Happy with the new kettle" in event.body
    assert event.data["result"] == SATISFIED


def test_reached_unsatisfied_reopens_and_escalates(org, due_callback):
    task = due_callback()
    complaint = task.complaint

    _record(task, org.agent, UNSATISFIED, "The replacement leaks too")

    complaint.refresh_from_db()
    assert complaint.status == "reopened"
    assert complaint.reopen_count == 1
    assert complaint.loop_outcome == ""
    task.refresh_from_db()
    assert (task.status, task.outcome) == ("done", "unsatisfied")
    escalation = Escalation.objects.get(complaint=complaint)
    assert escalation.reason == Escalation.Reason.UNSATISFIED
    assert escalation.note == "The replacement leaks too"
    bodies = [e.body for e in _callback_events(complaint)]
    assert any("The replacement leaks too" in b and "not satisfied" in b for b in bodies)
    reopen = StatusChange.objects.get(complaint=complaint, transition="reopen")
    assert "The replacement leaks too" in reopen.reason


def test_not_reached_counts_attempts_then_closes_with_no_response(org, due_callback, clock):
    task = due_callback()
    complaint = task.complaint
    start = clock.now

    _record(task, org.agent, NOT_REACHED, "Voicemail")
    task.refresh_from_db()
    assert (task.status, task.attempts) == ("open", 1)
    assert task.next_attempt_at == start + timedelta(hours=4)
    complaint.refresh_from_db()
    assert complaint.status == "resolved"

    clock.move(hours=4)
    _record(task, org.agent, NOT_REACHED)
    task.refresh_from_db()
    assert task.attempts == 2
    assert task.next_attempt_at == start + timedelta(hours=8)

    clock.move(hours=4)
    _record(task, org.agent2, NOT_REACHED, "Number switched off")
    task.refresh_from_db()
    assert (task.status, task.outcome, task.attempts) == ("done", "no_response", 3)
    complaint.refresh_from_db()
    assert complaint.status == "closed"
    assert complaint.loop_outcome == LoopOutcome.NO_RESPONSE
    assert CallbackAttempt.objects.filter(task=task, result=NOT_REACHED).count() == 3
    bodies = [e.body for e in _callback_events(complaint)[1:]]
    assert bodies[0] == "Call-back: not reached (attempt 1 of 3): Voicemail"
    assert bodies[1] == "Call-back: not reached (attempt 2 of 3)"
    assert "attempt 3 of 3" in bodies[2]
    close = StatusChange.objects.get(complaint=complaint, transition="close")
    assert close.actor is None and "3" in close.reason


def test_max_attempts_is_configurable(settings, org, due_callback):
    settings.COMPLAINT_CALLBACK_MAX_ATTEMPTS = 1
    task = due_callback()
    _record(task, org.agent, NOT_REACHED)
    task.complaint.refresh_from_db()
    assert task.complaint.loop_outcome == LoopOutcome.NO_RESPONSE


def test_a_finished_callback_refuses_another_call(org, due_callback):
    task = due_callback()
    stale = CallbackTask.objects.get(pk=task.pk)
    _record(task, org.agent, SATISFIED)

    with pytest.raises(TransitionRefused, match="finished already"):
        _record(stale, org.agent2, UNSATISFIED, "too late")
    assert CallbackAttempt.objects.filter(task=task).count() == 1
    stale.complaint.refresh_from_db()
    assert stale.complaint.status == "closed"
    assert not Escalation.objects.exists()


def test_a_call_recorded_meanwhile_is_not_counted_twice(org, due_callback):
    task = due_callback()
    callbacks.callback_record(task=task, actor=org.agent, result=NOT_REACHED, expected_attempts=0)
    with pytest.raises(TransitionRefused, match="meanwhile"):
        callbacks.callback_record(
            task=task, actor=org.agent2, result=NOT_REACHED, expected_attempts=0
        )
    task.refresh_from_db()
    assert task.attempts == 1
    assert CallbackAttempt.objects.filter(task=task).count() == 1


@pytest.mark.parametrize(
    ("result", "note", "field"),
    [("", "", "result"), ("maybe", "", "result"), (NOT_REACHED, "x" * 2001, "note")],
)
def test_bad_input_is_refused_with_a_clear_message(org, due_callback, result, note, field):
    task = due_callback()
    with pytest.raises(InvalidInput) as refused:
        _record(task, org.agent, result, note)
    assert field in refused.value.fields
    expected = "Choose how the call went." if field == "result" else "too long"
    assert expected in refused.value.message
    task.refresh_from_db()
    assert (task.status, task.attempts) == ("open", 0)
    assert not CallbackAttempt.objects.exists()


# --- Permissions ------------------------------------------------------------------------------


def test_agent_of_another_team_gets_not_found(org, due_callback):
    task = due_callback()
    with pytest.raises(NotFound):
        _record(task, org.agent_b, SATISFIED)
    task.refresh_from_db()
    assert task.status == "open"


def test_responder_may_not_record_even_when_they_see_the_complaint(org, due_callback):
    responder = UserFactory(username="front-responder", role=roles.RESPONDER)
    MembershipFactory(team=org.team, user=responder)
    task = due_callback()
    with pytest.raises(ActionForbidden):
        _record(task, responder, SATISFIED)
    with pytest.raises(NotFound):
        _record(task, org.responder, SATISFIED)  # the department's: cannot see it
    task.refresh_from_db()
    assert task.status == "open"
    assert not CallbackAttempt.objects.exists()


def test_supervisor_of_any_team_may_record(org, due_callback):
    task = due_callback()
    _record(task, org.admin, SATISFIED)
    task.refresh_from_db()
    assert task.outcome == "satisfied"


# --- Overtaken -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rating", "solved", "status"), [(5, True, "closed"), (1, False, "reopened")]
)
def test_survey_answered_after_the_callback_opened_cancels_it(due_callback, rating, solved, status):
    task = due_callback()
    survey.survey_submit(complaint=task.complaint, rating=rating, solved=solved)
    task.refresh_from_db()
    assert (task.status, task.outcome) == ("cancelled", "overtaken")
    assert task.finished_at is not None
    assert task.complaint.status == status
    if status == "closed":
        assert task.complaint.loop_outcome == LoopOutcome.SURVEY


def test_supervisor_close_override_cancels_the_callback(org, due_callback):
    task = due_callback()
    t.complaint_close(
        complaint=task.complaint, actor=org.supervisor, reason="Customer moved abroad"
    )
    task.refresh_from_db()
    assert (task.status, task.outcome) == ("cancelled", "overtaken")
    assert task.complaint.loop_outcome == LoopOutcome.OVERRIDE
    with pytest.raises(TransitionRefused, match="finished already"):
        _record(task, org.agent, SATISFIED)


def test_an_agent_may_not_close_while_the_loop_is_incomplete(org, due_callback):
    task = due_callback()
    complaint = task.complaint
    with pytest.raises(ActionForbidden):
        t.complaint_close(complaint=complaint, actor=org.agent, reason="Enough")
    complaint.refresh_from_db()
    task.refresh_from_db()
    assert complaint.status == "resolved" and complaint.loop_outcome == ""
    assert task.status == "open"


def test_the_system_may_not_close_without_a_loop_outcome(due_callback):
    task = due_callback()
    with pytest.raises(InvalidInput):
        t.complaint_close(complaint=task.complaint, actor=roles.SYSTEM, reason="Time")
    task.refresh_from_db()
    assert task.status == "open"


# --- The whole path, through the periodic task ---------------------------------------------


def test_no_answer_then_callback_then_closed_through_the_task(org, make_complaint, clock):
    complaint = make_complaint("resolved")

    clock.move(days=2, hours=23)
    assert callbacks_due_task() == 0
    assert callbacks.callbacks_due_count(org.agent) == 0

    clock.move(hours=1)
    assert callbacks_due_task() == 1
    task = CallbackTask.objects.get(complaint=complaint)
    assert task.created_at == clock.now
    assert [c.pk for c in callbacks.callbacks_queue(user=org.agent, tab="due")] == [task.pk]
    assert callbacks.callbacks_due_count(org.agent) == 1
    assert callbacks.callbacks_due_count(org.agent_b) == 0

    _record(task, org.agent, NOT_REACHED, "No answer")
    assert callbacks_due_task() == 0  # still one per round
    assert list(callbacks.callbacks_queue(user=org.agent, tab="due")) == []
    assert [c.pk for c in callbacks.callbacks_queue(user=org.agent, tab="later")] == [task.pk]

    clock.move(hours=4)
    assert [c.pk for c in callbacks.callbacks_queue(user=org.agent, tab="due")] == [task.pk]
    _record(task, org.agent, SATISFIED, "All good now")

    complaint.refresh_from_db()
    assert complaint.status == "closed"
    assert complaint.loop_outcome == LoopOutcome.CALLBACK
    assert complaint.closed_at == clock.now
    assert [c.pk for c in callbacks.callbacks_queue(user=org.agent, tab="finished")] == [task.pk]
    assert callbacks_due_task() == 0
    assert [e.data.get("result") for e in _callback_events(complaint)] == [
        None,
        NOT_REACHED,
        SATISFIED,
    ]


def test_a_supervisor_override_needs_a_reason(org, due_callback):
    task = due_callback()
    with pytest.raises(TransitionRefused) as refused:
        t.complaint_close(complaint=task.complaint, actor=org.supervisor, reason="  ")
    assert "a reason is given" in str(refused.value)
    task.refresh_from_db()
    task.complaint.refresh_from_db()
    assert (task.status, task.complaint.status) == ("open", "resolved")
