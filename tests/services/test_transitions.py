"""Every transition through its service: the new state, exactly one StatusChange row,
exactly one history row with actor and reason, the timeline event, the notification
after commit, and the refusals with their reasons."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction

from complaints import roles
from complaints.errors import (
    ActionForbidden,
    ComplaintConflict,
    InvalidInput,
    NotFound,
    TransitionRefused,
)
from complaints.models import Complaint, ComplaintEvent, OutboxMessage, StatusChange
from complaints.services import transitions as t
from complaints.services.notifications import CUSTOMER_FACING
from complaints.workflow import TRANSITIONS

pytestmark = pytest.mark.django_db


def _cases(org, make_complaint):
    """(transition, starting state, service call, expected actor, expected reason)."""
    other = make_complaint("triaged")
    return {
        "triage": (
            "new",
            lambda c: t.complaint_triage(
                complaint=c, actor=org.agent, category=org.category, priority=org.p1
            ),
            org.agent,
            "",
        ),
        "assign": (
            "triaged",
            lambda c: t.complaint_assign(complaint=c, actor=org.supervisor, assignee=org.agent2),
            org.supervisor,
            "",
        ),
        "start": (
            "assigned",
            lambda c: t.complaint_start(complaint=c, actor=org.agent),
            org.agent,
            "",
        ),
        "await_customer": (
            "in_progress",
            lambda c: t.complaint_await_customer(
                complaint=c, actor=org.agent, question="Which model?"
            ),
            org.agent,
            "Which model?",
        ),
        "resume": (
            "awaiting_customer",
            lambda c: t.complaint_resume(
                complaint=c, actor=roles.SYSTEM, reason="Customer answered"
            ),
            None,
            "Customer answered",
        ),
        "reassign": (
            "in_progress",
            lambda c: t.complaint_reassign(
                complaint=c, actor=org.supervisor, assignee=org.agent2, reason="Agent on leave"
            ),
            org.supervisor,
            "Agent on leave",
        ),
        "release": (
            "assigned",
            lambda c: t.complaint_release(
                complaint=c, actor=org.agent, reason="Needs billing skills"
            ),
            org.agent,
            "Needs billing skills",
        ),
        "resolve": (
            "in_progress",
            lambda c: t.complaint_resolve(
                complaint=c,
                actor=org.agent,
                summary="Refunded",
                root_cause="billing",
                remedy="Refund 50 CNY",
            ),
            org.agent,
            "",
        ),
        "close": (
            "resolved",
            lambda c: t.complaint_close(
                complaint=c, actor=org.supervisor, reason="Customer confirmed by phone"
            ),
            org.supervisor,
            "Customer confirmed by phone",
        ),
        "reopen": (
            "closed",
            lambda c: t.complaint_reopen(complaint=c, actor=org.agent, reason="Same fault again"),
            org.agent,
            "Same fault again",
        ),
        "reject": (
            "triaged",
            lambda c: t.complaint_reject(
                complaint=c,
                actor=org.supervisor,
                reason="An inquiry, not a complaint",
                recourse="12315",
            ),
            org.supervisor,
            "An inquiry, not a complaint",
        ),
        "merge": (
            "in_progress",
            lambda c: t.complaint_merge(
                complaint=c, actor=org.agent, target=other, reason="Same problem"
            ),
            org.agent,
            "Same problem",
        ),
    }


def test_every_transition_is_covered(org, make_complaint):
    assert set(_cases(org, make_complaint)) == set(TRANSITIONS)


@pytest.mark.parametrize("name", sorted(TRANSITIONS))
def test_transition_leaves_one_log_row_one_history_row_and_notifies(
    name, org, make_complaint, django_capture_on_commit_callbacks
):
    start_state, call, actor, reason = _cases(org, make_complaint)[name]
    complaint = make_complaint(start_state)
    changes_before = StatusChange.objects.filter(complaint=complaint).count()
    history_before = complaint.history.count()
    version_before = complaint.version

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        change = call(complaint)

    rule = TRANSITIONS[name]
    complaint.refresh_from_db()
    assert complaint.status == rule.target
    assert complaint.version == version_before + 1

    new_changes = StatusChange.objects.filter(complaint=complaint).order_by("pk")[changes_before:]
    assert list(new_changes) == [change]
    assert change.transition == name
    assert change.from_status == start_state
    assert change.to_status == rule.target
    assert change.actor == actor
    assert change.reason == reason

    assert complaint.history.count() == history_before + 1
    record = complaint.history.first()  # newest first
    assert record.status == rule.target
    assert record.history_user == actor
    assert record.history_change_reason == (reason or str(rule.label))

    event = complaint.events.order_by("-pk").first()
    assert event.data["transition"] == name
    assert event.data["to"] == rule.target
    # The customer hears of customer-facing changes: the message is in the outbox with
    # the change, and its delivery is queued only after commit.
    queued = OutboxMessage.objects.filter(complaint=complaint, created_at__gte=change.created_at)
    if rule.target in CUSTOMER_FACING:
        assert queued.filter(channel="email", to=complaint.customer.email).count() == 1
        assert len(callbacks) == 1
    else:
        assert not queued.exists()
        assert callbacks == []


def test_status_cannot_be_assigned_directly(make_complaint):
    complaint = make_complaint("resolved")
    with pytest.raises(AttributeError):
        complaint.status = "closed"
    fresh = Complaint.objects.get(pk=complaint.pk)
    with pytest.raises(AttributeError):
        fresh.status = "closed"
    fresh.save()
    assert Complaint.objects.get(pk=complaint.pk).status == "resolved"


def test_role_that_may_not_is_refused_with_who_may(org, make_complaint):
    complaint = make_complaint("triaged")
    with pytest.raises(ActionForbidden) as err:
        t.complaint_reject(complaint=complaint, actor=org.agent, reason="spam", recourse="12315")
    assert "Only supervisors may" in str(err.value)
    complaint.refresh_from_db()
    assert complaint.status == "triaged"
    assert not complaint.status_changes.filter(transition="reject").exists()


def test_only_the_assignee_starts(org, make_complaint):
    complaint = make_complaint("assigned")  # assigned to org.agent
    with pytest.raises(ActionForbidden):
        t.complaint_start(complaint=complaint, actor=org.agent2)
    t.complaint_start(complaint=complaint, actor=org.agent)
    assert complaint.status == "in_progress"


def test_failed_condition_says_which_and_changes_nothing(org, make_complaint):
    complaint = make_complaint("in_progress")
    history_before = complaint.history.count()
    with pytest.raises(TransitionRefused) as err:
        t.complaint_resolve(
            complaint=complaint, actor=org.agent, summary="Fixed", root_cause="", remedy=""
        )
    assert "a resolution summary and a root cause are recorded" in err.value.reasons
    assert "the remedy offered to the customer is decided" in err.value.reasons
    # Nothing stored, and the in-memory copy is as it was.
    assert complaint.resolution_summary == ""
    complaint.refresh_from_db()
    assert complaint.status == "in_progress"
    assert complaint.resolution_summary == ""
    assert complaint.history.count() == history_before


def test_transition_from_wrong_state_is_refused(org, make_complaint):
    complaint = make_complaint("new")
    with pytest.raises(TransitionRefused) as err:
        t.complaint_start(complaint=complaint, actor=org.agent)
    assert "“New”" in str(err.value)


def test_triage_requires_category_and_priority(org, make_complaint):
    complaint = make_complaint("new")
    with pytest.raises(TransitionRefused) as err:
        t.complaint_triage(
            complaint=complaint, actor=org.agent, category=org.category, priority=None
        )
    assert err.value.reasons == ["a category and a priority are set"]


def test_triage_routes_to_the_category_default_team(org, make_complaint):
    complaint = make_complaint("new")
    t.complaint_triage(
        complaint=complaint, actor=org.agent, category=org.category_b, priority=org.p3
    )
    assert complaint.team == org.team_b


def test_agent_claims_only_for_themself(org, make_complaint):
    complaint = make_complaint("triaged")
    with pytest.raises(ActionForbidden):
        t.complaint_assign(complaint=complaint, actor=org.agent, assignee=org.agent2)
    t.complaint_claim(complaint=complaint, actor=org.agent)
    assert complaint.assignee == org.agent
    assert complaint.status == "assigned"


def test_assignee_must_belong_to_the_team(org, make_complaint):
    complaint = make_complaint("triaged")  # team A
    with pytest.raises(TransitionRefused) as err:
        t.complaint_assign(complaint=complaint, actor=org.supervisor, assignee=org.agent_b)
    assert "the assignee is an active member of the complaint's team" in err.value.reasons
    complaint.refresh_from_db()
    assert complaint.assignee is None


def test_reassign_needs_a_reason_and_a_new_person(org, make_complaint):
    complaint = make_complaint("in_progress")
    with pytest.raises(TransitionRefused) as err:
        t.complaint_reassign(
            complaint=complaint, actor=org.supervisor, assignee=org.agent2, reason=" "
        )
    assert err.value.reasons == ["a reason is given"]
    with pytest.raises(InvalidInput):
        t.complaint_reassign(
            complaint=complaint, actor=org.supervisor, assignee=org.agent, reason="x"
        )


def test_reject_needs_reason_and_recourse(org, make_complaint):
    complaint = make_complaint("new")
    with pytest.raises(TransitionRefused) as err:
        t.complaint_reject(complaint=complaint, actor=org.supervisor, reason="", recourse="")
    assert set(err.value.reasons) == {
        "a reason is given",
        "the recourse offered to the customer is recorded (e.g. 12315)",
    }


def test_reopen_after_the_window_is_refused(org, make_complaint, settings):
    complaint = make_complaint("closed")
    settings.COMPLAINT_REOPEN_WINDOW = timedelta(seconds=-1)
    with pytest.raises(TransitionRefused) as err:
        t.complaint_reopen(complaint=complaint, actor=org.agent, reason="again")
    assert err.value.reasons == ["a closed complaint is still within its reopen window"]
    settings.COMPLAINT_REOPEN_WINDOW = timedelta(days=30)
    t.complaint_reopen(complaint=complaint, actor=org.agent, reason="again")
    assert complaint.status == "reopened"
    assert complaint.reopen_count == 1
    assert complaint.closed_at is None


def test_merge_into_a_closed_or_the_same_complaint_is_refused(org, make_complaint):
    complaint = make_complaint("triaged")
    closed = make_complaint("closed")
    with pytest.raises(TransitionRefused) as err:
        t.complaint_merge(complaint=complaint, actor=org.agent, target=closed)
    assert err.value.reasons == ["the complaint it is merged into is another, open complaint"]
    with pytest.raises(TransitionRefused):
        t.complaint_merge(complaint=complaint, actor=org.agent, target=complaint)
    complaint.refresh_from_db()
    assert complaint.merged_into is None


def test_merge_records_on_both_complaints(org, make_complaint):
    target = make_complaint("in_progress")
    dup = make_complaint("new", customer=target.customer)
    t.complaint_merge(complaint=dup, actor=org.agent, target=target)
    dup.refresh_from_db()
    assert dup.status == "merged"
    assert dup.merged_into == target
    event = target.events.get(kind=ComplaintEvent.Kind.MERGED)
    assert event.data["merged"]["tracking_number"] == dup.tracking_number


def test_two_stale_copies_one_wins_one_conflicts(org, make_complaint):
    complaint = make_complaint("assigned")
    first = Complaint.objects.get(pk=complaint.pk)
    second = Complaint.objects.get(pk=complaint.pk)
    t.complaint_start(complaint=first, actor=org.agent)
    with pytest.raises(ComplaintConflict) as err:
        t.complaint_start(complaint=second, actor=org.agent)
    assert "changed by someone else" in str(err.value)
    assert complaint.status_changes.filter(transition="start").count() == 1
    assert Complaint.objects.get(pk=complaint.pk).history.filter(status="in_progress").count() == 1


def test_stale_copy_of_same_state_transition_conflicts(org, make_complaint):
    """reassign keeps the status (assigned → assigned): the version still catches the race."""
    complaint = make_complaint("assigned")
    first = Complaint.objects.get(pk=complaint.pk)
    second = Complaint.objects.get(pk=complaint.pk)
    t.complaint_reassign(complaint=first, actor=org.supervisor, assignee=org.agent2, reason="a")
    with pytest.raises(ComplaintConflict):
        t.complaint_reassign(
            complaint=second, actor=org.supervisor, assignee=org.supervisor, reason="b"
        )
    assert Complaint.objects.get(pk=complaint.pk).assignee == org.agent2


def test_invisible_complaint_is_not_found(org, make_complaint):
    complaint = make_complaint("triaged")  # team A
    with pytest.raises(NotFound):
        t.complaint_claim(complaint=complaint, actor=org.agent_b)
    with pytest.raises(NotFound):
        t.complaint_start(complaint=complaint, actor=org.outsider)


def test_resolution_is_mailed_to_the_customer_after_commit(
    org, make_complaint, django_capture_on_commit_callbacks
):
    complaint = make_complaint("in_progress")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        t.complaint_resolve(
            complaint=complaint,
            actor=org.agent,
            summary="Replaced",
            root_cause="product_defect",
            remedy="New kettle",
        )
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [complaint.customer.email]
    assert complaint.tracking_number in message.subject
    assert "New kettle" in message.body


def test_rolled_back_transition_sends_nothing(
    org, make_complaint, django_capture_on_commit_callbacks
):
    complaint = make_complaint("in_progress")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                t.complaint_resolve(
                    complaint=complaint,
                    actor=org.agent,
                    summary="x",
                    root_cause="other",
                    remedy="none",
                )
                raise RuntimeError("boom")
        except RuntimeError:
            pass
    assert callbacks == []
    assert mail.outbox == []
    assert Complaint.objects.get(pk=complaint.pk).status == "in_progress"


def test_failed_mail_does_not_undo_the_transition(
    org, make_complaint, settings, django_capture_on_commit_callbacks
):
    complaint = make_complaint("in_progress")
    settings.MAILERS = {"default": {"BACKEND": "tests.support.FailingEmailBackend"}}
    with django_capture_on_commit_callbacks(execute=True):
        t.complaint_resolve(
            complaint=complaint, actor=org.agent, summary="x", root_cause="other", remedy="none"
        )
    assert Complaint.objects.get(pk=complaint.pk).status == "resolved"


@pytest.mark.parametrize("name", sorted(TRANSITIONS))
def test_rule_inputs_match_the_service_signature(name):
    import inspect

    params = set(inspect.signature(t.SERVICES[name]).parameters) - {"complaint", "actor"}
    rule = TRANSITIONS[name]
    assert set(rule.inputs) | set(rule.system_inputs) == params


def test_transition_by_name_refuses_unknown_inputs(org, make_complaint):
    complaint = make_complaint("assigned")
    with pytest.raises(InvalidInput) as err:
        t.complaint_transition(complaint=complaint, actor=org.agent, name="start", status="closed")
    assert "status" in str(err.value)
    with pytest.raises(InvalidInput):
        t.complaint_transition(complaint=complaint, actor=org.agent, name="explode")
    t.complaint_transition(complaint=complaint, actor=org.agent, name="start")
    assert complaint.status == "in_progress"


def test_assign_or_reassign_to_nobody_is_a_clear_input_error(org, make_complaint):
    triaged = make_complaint("triaged")
    with pytest.raises(InvalidInput):
        t.complaint_assign(complaint=triaged, actor=org.supervisor, assignee=None)
    assigned = make_complaint("assigned")
    with pytest.raises(InvalidInput):
        t.complaint_reassign(complaint=assigned, actor=org.supervisor, assignee=None, reason="x")
    # Permission comes first: an agent who may not reassign hears that.
    with pytest.raises(ActionForbidden):
        t.complaint_reassign(complaint=assigned, actor=org.agent2, assignee=None, reason="x")
