"""Proposing, deciding, delivering and cancelling remedies through the services, and
the `resolve` transition waiting for a remedy's approval."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group

from complaints import roles
from complaints.errors import ActionForbidden, InvalidInput, NotFound, TransitionRefused
from complaints.models import (
    AuthorityLimit,
    Category,
    Complaint,
    ComplaintEvent,
    Notification,
    Remedy,
    RemedyKind,
    Sop,
    User,
)
from complaints.services import collaboration, remedies
from complaints.services import transitions as t
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
Status = Remedy.Status


def _approval_notes(user) -> list[str]:
    return list(
        Notification.objects.filter(user=user, kind=Notification.Kind.APPROVAL).values_list(
            "text", flat=True
        )
    )


def _remedy_events(complaint) -> list[ComplaintEvent]:
    return list(complaint.events.filter(kind=ComplaintEvent.Kind.REMEDY).order_by("pk"))


def _resolve(complaint, actor):
    return t.complaint_resolve(
        complaint=complaint,
        actor=actor,
        summary="Refunded the kettle",
        root_cause="product_defect",
        remedy="Refund",
    )


# --- Proposing ------------------------------------------------------------------------------


def test_within_authority_is_approved_at_once(limits, make_complaint, propose):
    complaint = make_complaint("in_progress")

    remedy = propose(complaint, amount="80.5", description="Partial refund")

    remedy.refresh_from_db()
    assert remedy.status == Status.APPROVED
    assert remedy.amount == Decimal("80.50")
    assert remedy.decided_by == limits.agent
    assert remedy.decision_reason == "Within authority"
    assert remedy.decided_at is not None
    [event] = _remedy_events(complaint)
    assert event.is_internal
    assert event.actor == limits.agent
    assert "within authority" in event.body
    assert event.data["remedy"]["status"] == "approved"
    assert not Notification.objects.filter(kind=Notification.Kind.APPROVAL).exists()
    assert remedy.history.latest().history_user == limits.agent


def test_above_the_limit_waits_and_asks_the_team_supervisor(limits, make_complaint, propose):
    complaint = make_complaint("in_progress")

    remedy = propose(complaint, amount="250")

    assert remedy.status == Status.PENDING
    assert remedy.decided_by is None
    [event] = _remedy_events(complaint)
    assert event.is_internal
    assert "250.00 CNY" in event.body and "100.00 CNY" in event.body
    assert event.data["remedy"]["limit"] == "100.00"
    [text] = _approval_notes(limits.supervisor)
    assert complaint.tracking_number in text and "250.00 CNY" in text
    # The team supervisor is asked first: nobody else.
    assert _approval_notes(limits.admin) == []


def test_without_a_team_supervisor_every_supervisor_who_may_is_asked(
    limits, make_complaint, propose
):
    limits.team.supervisor = None
    limits.team.save()
    other = UserFactory(username="sup2", role=roles.SUPERVISOR)
    complaint = make_complaint("in_progress")

    propose(complaint, amount="250")

    assert len(_approval_notes(limits.supervisor)) == 1
    assert len(_approval_notes(other)) == 1
    assert _approval_notes(limits.admin) == []


def test_team_supervisor_whose_limit_is_too_low_is_passed_over(limits, make_complaint, propose):
    boss = UserFactory(username="boss", role=roles.SUPERVISOR)
    complaint = make_complaint("in_progress")
    # The team supervisor is only an agent now: their limit does not cover it.
    limits.supervisor.groups.set([Group.objects.get(name=roles.AGENT)])

    propose(complaint, amount="250")

    assert _approval_notes(User.objects.get(pk=limits.supervisor.pk)) == []
    assert len(_approval_notes(boss)) == 1


def test_above_every_supervisors_limit_is_refused(limits, make_complaint, propose):
    complaint = make_complaint("in_progress")

    with pytest.raises(InvalidInput) as err:
        propose(complaint, amount="1500")

    assert "Nobody may approve" in err.value.message
    assert not Remedy.objects.exists()
    assert _remedy_events(complaint) == []


def test_supervisor_within_own_limit_grants_at_once(limits, make_complaint, propose):
    remedy = propose(make_complaint("in_progress"), actor=limits.supervisor, amount="900")
    assert remedy.status == Status.APPROVED
    assert remedy.decided_by == limits.supervisor


def test_an_apology_needs_no_amount_and_no_approval(org, make_complaint):
    remedy = remedies.remedy_propose(
        complaint=make_complaint("assigned"),
        actor=org.agent,
        kind=RemedyKind.APOLOGY,
        amount="0",
        description="Phoned to apologise",
    )
    assert remedy.status == Status.APPROVED


@pytest.mark.parametrize(
    ("kind", "amount", "field", "message"),
    [
        ("refund", "-5", "amount", "The amount cannot be negative."),
        ("refund", "abc", "amount", "“abc” is not an amount"),
        ("refund", "", "amount", "Enter an amount"),
        ("refund", "NaN", "amount", "is not an amount"),
        ("refund", "10.005", "amount", "at most two decimals"),
        ("refund", "1000000.01", "amount", "cannot be above"),
        ("refund", "0", "amount", "needs an amount above zero"),
        ("apology", "20", "amount", "An apology has no amount"),
        ("cash", "20", "kind", "Unknown remedy type: cash."),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(
    limits, make_complaint, propose, kind, amount, field, message
):
    complaint = make_complaint("in_progress")
    with pytest.raises(InvalidInput) as err:
        propose(complaint, kind=kind, amount=amount)
    assert message in err.value.message
    assert message in " ".join(err.value.fields[field])
    assert not Remedy.objects.exists()


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ("resolved", "reopen it before proposing"),
        ("closed", "is closed"),
        ("rejected", "was rejected"),
    ],
)
def test_finished_complaints_take_no_new_remedy(limits, make_complaint, propose, state, message):
    complaint = make_complaint(state)
    with pytest.raises(InvalidInput) as err:
        propose(complaint, amount="50")
    assert message in err.value.message
    assert not Remedy.objects.exists()


def test_proposing_on_a_stale_copy_reads_the_status_under_the_lock(limits, make_complaint, propose):
    stale = make_complaint("in_progress")
    _resolve(Complaint.objects.get(pk=stale.pk), limits.agent)
    assert stale.status == "in_progress"  # this copy has not seen the resolution

    with pytest.raises(InvalidInput, match="resolved"):
        propose(stale, amount="50")


def test_reopened_complaint_takes_a_remedy(limits, make_complaint, propose):
    remedy = propose(make_complaint("reopened"), amount="50")
    assert remedy.status == Status.APPROVED


def test_agent_of_another_team_gets_not_found(limits, make_complaint, propose):
    complaint = make_complaint("in_progress")
    with pytest.raises(NotFound):
        propose(complaint, actor=limits.agent_b, amount="50")


def test_a_responder_who_may_see_it_may_not_propose(limits, make_complaint, propose):
    complaint = make_complaint("in_progress")
    collaboration.collaboration_ask(
        complaint=complaint, actor=limits.agent, department=limits.department, question="Batch?"
    )
    with pytest.raises(ActionForbidden):
        propose(complaint, actor=limits.responder, amount="50")


# --- The category's SOP ---------------------------------------------------------------------


def _sop(category, allowed, *, version=1, current=True):
    return Sop.objects.create(
        category=category,
        version=version,
        title="Kettles",
        steps=["Check", "Replace"],
        allowed_remedies=allowed,
        is_current=current,
    )


def test_the_sop_refuses_a_type_it_does_not_allow(limits, make_complaint, propose):
    _sop(limits.category, ["replacement", "repair"])
    complaint = make_complaint("in_progress")

    with pytest.raises(InvalidInput) as err:
        propose(complaint, kind=RemedyKind.REFUND, amount="50")

    assert "Allowed: Replacement, Repair." in err.value.message
    assert err.value.fields["kind"]
    ok = propose(complaint, kind=RemedyKind.REPLACEMENT, amount="0")
    assert ok.status == Status.APPROVED
    assert remedies.allowed_kinds(complaint) == ["replacement", "repair"]


def test_the_nearest_ancestors_current_sop_applies(limits, make_complaint, propose):
    parent = Category.objects.create(name="Appliances", code="appliances")
    limits.category.parent = parent
    limits.category.save()
    _sop(parent, ["voucher"], version=1, current=False)
    _sop(parent, ["repair"], version=2)
    complaint = make_complaint("in_progress")

    with pytest.raises(InvalidInput, match="Allowed: Repair"):
        propose(complaint, kind=RemedyKind.VOUCHER, amount="10")


def test_an_sop_without_allowed_remedies_allows_every_type(limits, make_complaint, propose):
    _sop(limits.category, [])
    remedy = propose(make_complaint("in_progress"), kind=RemedyKind.VOUCHER, amount="10")
    assert remedy.status == Status.PENDING


# --- Deciding -------------------------------------------------------------------------------


def test_supervisor_approves_and_the_proposer_is_told(limits, make_complaint, propose):
    complaint = make_complaint("in_progress")
    remedy = propose(complaint, amount="250")

    remedies.remedy_decide(remedy=remedy, actor=limits.supervisor, approve=True)

    remedy.refresh_from_db()
    assert remedy.status == Status.APPROVED
    assert remedy.decided_by == limits.supervisor
    assert remedy.decided_at is not None
    [text] = _approval_notes(limits.agent)
    assert "approved" in text and complaint.tracking_number in text
    event = _remedy_events(complaint)[-1]
    assert event.actor == limits.supervisor and event.is_internal
    assert event.data["remedy"]["action"] == "approved"
    assert remedy.history.latest().history_user == limits.supervisor


def test_rejecting_needs_a_reason(limits, make_complaint, propose):
    remedy = propose(make_complaint("in_progress"), amount="250")

    with pytest.raises(InvalidInput) as err:
        remedies.remedy_decide(remedy=remedy, actor=limits.supervisor, approve=False, reason=" ")
    assert err.value.fields["reason"]
    remedy.refresh_from_db()
    assert remedy.status == Status.PENDING

    remedies.remedy_decide(
        remedy=remedy, actor=limits.supervisor, approve=False, reason="Offer a voucher instead"
    )
    remedy.refresh_from_db()
    assert remedy.status == Status.REJECTED
    assert remedy.decision_reason == "Offer a voucher instead"
    assert "rejected" in _approval_notes(limits.agent)[0]


def test_the_proposer_cannot_approve_their_own_remedy(limits, make_complaint, propose):
    remedy = propose(make_complaint("in_progress"), amount="250")
    # The agent is promoted to supervisor while the remedy waits.
    limits.agent.groups.add(Group.objects.get(name=roles.SUPERVISOR))
    promoted = User.objects.get(pk=limits.agent.pk)

    with pytest.raises(ActionForbidden, match="another supervisor"):
        remedies.remedy_decide(remedy=remedy, actor=promoted, approve=True)
    remedy.refresh_from_db()
    assert remedy.status == Status.PENDING


def test_a_supervisor_whose_limit_is_too_low_may_not_decide(limits, make_complaint, propose):
    remedy = propose(make_complaint("in_progress"), amount="800")
    AuthorityLimit.objects.filter(role=roles.SUPERVISOR, kind="refund").update(
        max_amount=Decimal("500")
    )

    with pytest.raises(ActionForbidden, match="above your own limit"):
        remedies.remedy_decide(remedy=remedy, actor=limits.supervisor, approve=True)
    remedy.refresh_from_db()
    assert remedy.status == Status.PENDING


def test_an_agent_may_not_decide(limits, make_complaint, propose):
    remedy = propose(make_complaint("in_progress"), amount="250")
    with pytest.raises(ActionForbidden):
        remedies.remedy_decide(remedy=remedy, actor=limits.agent2, approve=True)


@pytest.mark.parametrize("who", ["agent_b", "outsider"])
def test_someone_who_may_not_see_the_complaint_gets_not_found(limits, make_complaint, propose, who):
    remedy = propose(make_complaint("in_progress"), amount="250")
    with pytest.raises(NotFound):
        remedies.remedy_decide(remedy=remedy, actor=getattr(limits, who), approve=True)


def test_a_remedy_already_decided_is_not_decided_again(limits, make_complaint, propose):
    remedy = propose(make_complaint("in_progress"), amount="250")
    stale = Remedy.objects.get(pk=remedy.pk)
    remedies.remedy_decide(remedy=remedy, actor=limits.supervisor, approve=True)

    with pytest.raises(remedies.RemedyConflict) as err:
        remedies.remedy_decide(remedy=stale, actor=limits.admin, approve=False, reason="No")

    assert err.value.status_code == 409
    assert "already approved by supervisor" in err.value.message
    remedy.refresh_from_db()
    assert remedy.status == Status.APPROVED
    assert remedy.decided_by == limits.supervisor


# --- Resolve waits for the decision ---------------------------------------------------------


@pytest.mark.parametrize("approve", [True, False])
def test_resolve_is_refused_while_a_remedy_waits_then_allowed(
    limits, make_complaint, propose, approve
):
    complaint = make_complaint("in_progress")
    remedy = propose(complaint, amount="250")

    with pytest.raises(TransitionRefused) as err:
        _resolve(complaint, limits.agent)
    assert "no remedy is still waiting for a supervisor's approval" in err.value.reasons
    complaint.refresh_from_db()
    assert complaint.status == "in_progress"

    remedies.remedy_decide(
        remedy=remedy, actor=limits.supervisor, approve=approve, reason="" if approve else "No"
    )
    _resolve(complaint, limits.agent)
    complaint.refresh_from_db()
    assert complaint.status == "resolved"


def test_cancelling_a_waiting_remedy_lets_the_complaint_be_resolved(
    limits, make_complaint, propose
):
    complaint = make_complaint("in_progress")
    remedy = propose(complaint, amount="250")

    remedies.remedy_cancel(remedy=remedy, actor=limits.agent, reason="Customer declined")

    remedy.refresh_from_db()
    assert remedy.status == Status.CANCELLED
    assert remedy.decision_reason == "Customer declined"
    _resolve(complaint, limits.agent)
    assert complaint.status == "resolved"


# --- Delivering and cancelling --------------------------------------------------------------


def test_an_approved_remedy_is_marked_delivered_once(limits, make_complaint, propose):
    complaint = make_complaint("in_progress")
    remedy = propose(complaint, amount="50")

    remedies.remedy_mark_delivered(remedy=remedy, actor=limits.agent)

    assert remedy.status == Status.DELIVERED
    assert Remedy.objects.get(pk=remedy.pk).status == Status.DELIVERED
    assert _remedy_events(complaint)[-1].data["remedy"]["action"] == "delivered"
    with pytest.raises(remedies.RemedyConflict):
        remedies.remedy_mark_delivered(remedy=remedy, actor=limits.agent)
    with pytest.raises(remedies.RemedyConflict):
        remedies.remedy_cancel(remedy=remedy, actor=limits.agent, reason="Too late")


def test_a_waiting_remedy_cannot_be_delivered(limits, make_complaint, propose):
    remedy = propose(make_complaint("in_progress"), amount="250")
    with pytest.raises(remedies.RemedyConflict, match="still waits for a supervisor"):
        remedies.remedy_mark_delivered(remedy=remedy, actor=limits.agent)


def test_cancel_needs_a_reason_and_the_right_person(limits, make_complaint, propose):
    complaint = make_complaint("in_progress")  # assignee: agent
    remedy = propose(complaint, actor=limits.supervisor, amount="50")

    with pytest.raises(InvalidInput):
        remedies.remedy_cancel(remedy=remedy, actor=limits.supervisor, reason="")
    # agent2: same team, neither the proposer nor the assignee.
    with pytest.raises(ActionForbidden):
        remedies.remedy_cancel(remedy=remedy, actor=limits.agent2, reason="Mine now")
    # The assignee may.
    remedies.remedy_cancel(remedy=remedy, actor=limits.agent, reason="Customer declined")
    assert Remedy.objects.get(pk=remedy.pk).status == Status.CANCELLED
