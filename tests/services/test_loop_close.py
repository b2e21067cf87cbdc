"""The loop closes only when it is complete: the customer told the result, and their
answer recorded (survey, call-back) or a supervisor's override with a reason."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from complaints import roles
from complaints.errors import ActionForbidden, InvalidInput, TransitionRefused
from complaints.models import LoopOutcome, Remedy, StatusChange
from complaints.services import survey
from complaints.services import transitions as t
from complaints.workflow import ComplaintStatus as S

pytestmark = pytest.mark.django_db


def resolve(complaint, actor, **extra):
    return t.complaint_resolve(
        complaint=complaint,
        actor=actor,
        summary="Replaced the unit",
        root_cause="product_defect",
        remedy="Replacement shipped",
        **extra,
    )


def test_resolving_tells_the_customer_and_records_when(org, make_complaint):
    complaint = make_complaint("in_progress")
    before = timezone.now()
    resolve(complaint, org.agent)
    complaint.refresh_from_db()
    assert complaint.customer_notified_at >= before
    told = complaint.outbox_messages.filter(created_at__gte=before)
    assert any("Replaced the unit" in m.body for m in told)


def test_a_customer_without_email_or_phone_must_be_told_by_the_agent(org, make_complaint):
    complaint = make_complaint("in_progress")
    customer = complaint.customer
    customer.email = ""
    customer.phone = ""
    customer.save()
    with pytest.raises(TransitionRefused) as refused:
        resolve(complaint, org.agent)
    assert any("told the result" in r for r in refused.value.reasons)
    complaint.refresh_from_db()
    assert complaint.status == S.IN_PROGRESS and complaint.customer_notified_at is None

    resolve(complaint, org.agent, told_customer=True)
    complaint.refresh_from_db()
    assert complaint.status == S.RESOLVED and complaint.customer_notified_at is not None


def test_resolve_waits_for_a_remedy_pending_approval(org, make_complaint):
    complaint = make_complaint("in_progress")
    remedy = Remedy.objects.create(
        complaint=complaint,
        kind="refund",
        amount=Decimal("900"),
        status=Remedy.Status.PENDING,
        proposed_by=org.agent,
        proposed_at=timezone.now(),
    )
    with pytest.raises(TransitionRefused) as refused:
        resolve(complaint, org.agent)
    assert any("approval" in r for r in refused.value.reasons)
    remedy.status = Remedy.Status.APPROVED
    remedy.save()
    resolve(complaint, org.agent)
    assert complaint.status == S.RESOLVED


def test_an_agent_cannot_close(org, make_complaint):
    complaint = make_complaint("resolved")
    with pytest.raises(ActionForbidden):
        t.complaint_close(complaint=complaint, actor=org.agent, reason="Done")
    complaint.refresh_from_db()
    assert complaint.status == S.RESOLVED and complaint.loop_outcome == ""


def test_a_supervisor_overrides_only_with_a_reason(org, make_complaint):
    complaint = make_complaint("resolved")
    with pytest.raises(TransitionRefused):
        t.complaint_close(complaint=complaint, actor=org.supervisor, reason="  ")
    change = t.complaint_close(
        complaint=complaint, actor=org.supervisor, reason="Customer confirmed by letter"
    )
    complaint.refresh_from_db()
    assert complaint.status == S.CLOSED
    assert complaint.loop_outcome == LoopOutcome.OVERRIDE
    assert change.actor == org.supervisor and change.reason == "Customer confirmed by letter"


@pytest.mark.parametrize("outcome", [None, "", "override", "whatever"])
def test_the_system_closes_only_with_the_loops_outcome(org, make_complaint, outcome):
    complaint = make_complaint("resolved")
    with pytest.raises(InvalidInput):
        t.complaint_close(complaint=complaint, actor=roles.SYSTEM, reason="x", outcome=outcome)
    complaint.refresh_from_db()
    assert complaint.status == S.RESOLVED
    assert not StatusChange.objects.filter(complaint=complaint, to_status=S.CLOSED).exists()


def test_the_system_closes_with_an_outcome(org, make_complaint):
    complaint = make_complaint("resolved")
    t.complaint_close(
        complaint=complaint, actor=roles.SYSTEM, reason="Call-back: satisfied", outcome="callback"
    )
    complaint.refresh_from_db()
    assert (complaint.status, complaint.loop_outcome) == (S.CLOSED, LoopOutcome.CALLBACK)


def test_a_reopened_round_needs_its_own_answer(org, make_complaint):
    complaint = make_complaint("closed")
    assert complaint.loop_outcome == LoopOutcome.SURVEY
    t.complaint_reopen(complaint=complaint, actor=org.agent, reason="Broke again")
    complaint.refresh_from_db()
    assert complaint.loop_outcome == "" and complaint.customer_notified_at is None
    t.complaint_assign(complaint=complaint, actor=org.supervisor, assignee=org.agent)
    t.complaint_start(complaint=complaint, actor=org.agent)
    resolve(complaint, org.agent)
    # The first round's survey answer does not close the second round.
    with pytest.raises(InvalidInput):
        survey.survey_submit(complaint=complaint, rating=5, solved=True, cycle=0)
    survey.survey_submit(complaint=complaint, rating=5, solved=True)
    complaint.refresh_from_db()
    assert complaint.status == S.CLOSED and complaint.survey_responses.count() == 2


def test_reopen_window(org, make_complaint, settings):
    complaint = make_complaint("closed")
    complaint.closed_at = timezone.now() - timedelta(days=31)
    complaint.save(update_fields=["closed_at"])
    settings.COMPLAINT_REOPEN_WINDOW = timedelta(days=30)
    with pytest.raises(TransitionRefused) as refused:
        t.complaint_reopen(complaint=complaint, actor=org.agent, reason="Again")
    assert any("reopen window" in r for r in refused.value.reasons)
    settings.COMPLAINT_REOPEN_WINDOW = timedelta(days=32)
    t.complaint_reopen(complaint=complaint, actor=org.agent, reason="Again")
    assert complaint.status == S.REOPENED
