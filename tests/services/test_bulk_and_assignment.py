"""Bulk transitions (one result per complaint, one failure undoes nothing else) and
automatic assignment inside a team (round-robin, least-loaded, manual)."""

import pytest

from complaints import roles
from complaints.errors import ActionForbidden, InvalidInput, NotFound
from complaints.models import Complaint, StatusChange, Team
from complaints.services import assignment, bulk
from complaints.services import transitions as t
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

NOT_FOUND = str(NotFound())


def _triaged_in_team_b(org, make_complaint):
    complaint = make_complaint("new")
    t.complaint_triage(
        complaint=complaint, actor=org.supervisor, category=org.category_b, priority=org.p3
    )
    assert complaint.team == org.team_b
    return complaint


def _assigned_to(org, make_complaint, user, **kwargs):
    complaint = make_complaint("triaged", **kwargs)
    t.complaint_assign(complaint=complaint, actor=org.supervisor, assignee=user)
    return complaint


# --- Bulk ---------------------------------------------------------------------------------


def test_bulk_claim_changes_exactly_the_claimable_ones_and_reports_each(org, make_complaint):
    ok1, ok2 = make_complaint("triaged"), make_complaint("triaged")
    other_team = _triaged_in_team_b(org, make_complaint)
    taken = _assigned_to(org, make_complaint, org.agent2)
    changes_before = StatusChange.objects.count()

    results = bulk.complaints_bulk_claim(
        actor=org.agent, complaint_ids=[ok1.pk, other_team.pk, str(taken.pk), ok2.pk, ok1.pk]
    )

    # One result per distinct id, in the order given.
    assert [r.complaint_id for r in results] == [ok1.pk, other_team.pk, taken.pk, ok2.pk]
    assert [r.ok for r in results] == [True, False, False, True]
    by_id = {r.complaint_id: r for r in results}
    # Another team's complaint reads exactly like a missing one, and reveals nothing.
    assert by_id[other_team.pk].message == NOT_FOUND
    assert by_id[other_team.pk].complaint is None
    assert by_id[other_team.pk].tracking_number == ""
    assert by_id[taken.pk].message == (
        "A complaint that is “Assigned” cannot be changed by “Assign”."
    )
    assert by_id[taken.pk].tracking_number == taken.tracking_number
    assert by_id[ok1.pk].message == "Done: now “Assigned”."

    for complaint in (ok1, ok2):
        complaint.refresh_from_db()
        assert (complaint.status, complaint.assignee) == ("assigned", org.agent)
        change = complaint.status_changes.latest("created_at")
        assert (change.transition, change.actor) == ("assign", org.agent)
    other_team.refresh_from_db()
    taken.refresh_from_db()
    assert (other_team.status, other_team.assignee) == ("triaged", None)
    assert (taken.status, taken.assignee) == ("assigned", org.agent2)
    assert StatusChange.objects.count() == changes_before + 2


def test_missing_and_malformed_ids_are_reported_not_found(org, make_complaint):
    complaint = make_complaint("triaged")
    results = bulk.complaints_bulk_claim(
        actor=org.agent, complaint_ids=[999999, "abc", complaint.pk]
    )
    assert [(r.ok, r.message) for r in results[:2]] == [(False, NOT_FOUND), (False, NOT_FOUND)]
    assert results[2].ok


def test_bulk_close_by_an_agent_is_refused_per_complaint(org, make_complaint):
    first, second = make_complaint("resolved"), make_complaint("resolved")
    results = bulk.complaints_bulk_transition(
        actor=org.agent, complaint_ids=[first.pk, second.pk], name="close", reason="Done"
    )
    assert [r.ok for r in results] == [False, False]
    for result in results:
        assert result.message.startswith("Only the system (loop complete) and supervisors")
        assert "may use “Close”" in result.message
    for complaint in (first, second):
        complaint.refresh_from_db()
        assert complaint.status == "resolved"
        assert not complaint.status_changes.filter(transition="close").exists()


def test_bulk_close_by_a_supervisor_needs_and_records_the_reason(org, make_complaint):
    first, second = make_complaint("resolved"), make_complaint("resolved")
    results = bulk.complaints_bulk_transition(
        actor=org.supervisor,
        complaint_ids=[first.pk, second.pk],
        name="close",
        reason="Customer confirmed by phone",
    )
    assert all(r.ok for r in results)
    for complaint in (first, second):
        complaint.refresh_from_db()
        assert complaint.status == "closed"
        assert complaint.status_changes.get(transition="close").reason == (
            "Customer confirmed by phone"
        )


def test_more_than_200_ids_are_refused_before_anything_changes(org, make_complaint):
    complaint = make_complaint("triaged")
    ids = [complaint.pk, *range(10_000, 10_200)]
    assert len(ids) == 201
    with pytest.raises(InvalidInput, match="at most 200"):
        bulk.complaints_bulk_claim(actor=org.agent, complaint_ids=ids)
    complaint.refresh_from_db()
    assert complaint.status == "triaged"
    # Exactly 200 is allowed.
    results = bulk.complaints_bulk_claim(actor=org.agent, complaint_ids=ids[:200])
    assert len(results) == 200
    assert results[0].ok


def test_no_ids_unknown_action_and_unexpected_inputs_are_refused(org, make_complaint):
    complaint = make_complaint("triaged")
    with pytest.raises(InvalidInput):
        bulk.complaints_bulk_claim(actor=org.agent, complaint_ids=[])
    with pytest.raises(InvalidInput, match="Unknown action"):
        bulk.complaints_bulk_transition(actor=org.agent, complaint_ids=[complaint.pk], name="zap")
    with pytest.raises(InvalidInput, match="does not take"):
        bulk.complaints_bulk_transition(
            actor=org.agent, complaint_ids=[complaint.pk], name="start", reason="x"
        )


def test_bulk_assign_is_for_supervisors(org, make_complaint):
    first, second = make_complaint("triaged"), make_complaint("triaged")
    with pytest.raises(ActionForbidden):
        bulk.complaints_bulk_assign(actor=org.agent, complaint_ids=[first.pk], assignee=org.agent2)
    first.refresh_from_db()
    assert first.status == "triaged"
    results = bulk.complaints_bulk_assign(
        actor=org.supervisor, complaint_ids=[first.pk, second.pk], assignee=org.agent2
    )
    assert all(r.ok for r in results)
    assert set(
        Complaint.objects.filter(pk__in=[first.pk, second.pk]).values_list("assignee", flat=True)
    ) == {org.agent2.pk}


def test_bulk_assign_to_someone_outside_the_team_is_refused_per_complaint(org, make_complaint):
    complaint = make_complaint("triaged")  # team A
    (result,) = bulk.complaints_bulk_assign(
        actor=org.supervisor, complaint_ids=[complaint.pk], assignee=org.agent_b
    )
    assert not result.ok
    assert "the assignee is an active member of the complaint's team" in result.message
    complaint.refresh_from_db()
    assert (complaint.status, complaint.assignee) == ("triaged", None)


# --- Automatic assignment ----------------------------------------------------------------


@pytest.fixture
def agent3(org):
    user = UserFactory(username="agent3", role=roles.AGENT)
    MembershipFactory(team=org.team, user=user)
    return user


def _set_strategy(team: Team, strategy: str) -> None:
    team.assignment_strategy = strategy
    team.save(update_fields=["assignment_strategy"])


def _auto_assign_new(make_complaint):
    complaint = make_complaint("triaged")
    change = assignment.complaint_auto_assign(complaint=complaint)
    assert change is not None
    assert (change.transition, change.actor) == ("assign", None)  # by the system
    complaint.refresh_from_db()
    assert complaint.status == "assigned"
    return complaint.assignee


def test_round_robin_cycles_through_the_teams_agents_in_order(org, make_complaint, agent3):
    _set_strategy(org.team, Team.Strategy.ROUND_ROBIN)
    picked = [_auto_assign_new(make_complaint) for _ in range(4)]
    # The supervisor is a member of the team but not an agent: never picked.
    assert picked == [org.agent, org.agent2, agent3, org.agent]


def test_round_robin_skips_away_agents(org, make_complaint, agent3):
    _set_strategy(org.team, Team.Strategy.ROUND_ROBIN)
    org.agent2.is_away = True
    org.agent2.save(update_fields=["is_away"])
    picked = [_auto_assign_new(make_complaint) for _ in range(4)]
    assert picked == [org.agent, agent3, org.agent, agent3]
    assert org.supervisor not in picked


def test_round_robin_continues_after_an_agent_who_went_away(org, make_complaint, agent3):
    _set_strategy(org.team, Team.Strategy.ROUND_ROBIN)
    assert [_auto_assign_new(make_complaint) for _ in range(2)] == [org.agent, org.agent2]
    org.agent2.is_away = True
    org.agent2.save(update_fields=["is_away"])
    assert _auto_assign_new(make_complaint) == agent3


def test_least_loaded_picks_the_agent_owning_fewest_open_complaints(org, make_complaint, agent3):
    _set_strategy(org.team, Team.Strategy.LEAST_LOADED)
    # agent: 1 open owned (resolved and closed ones are not a load) ...
    make_complaint("in_progress")
    make_complaint("resolved")
    make_complaint("closed")
    # ... agent2: 2 open owned; agent3 would have none but is away.
    _assigned_to(org, make_complaint, org.agent2)
    _assigned_to(org, make_complaint, org.agent2)
    agent3.is_away = True
    agent3.save(update_fields=["is_away"])

    assert _auto_assign_new(make_complaint) == org.agent  # 1 < 2
    assert _auto_assign_new(make_complaint) == org.agent  # a tie (2, 2): lowest id first
    assert _auto_assign_new(make_complaint) == org.agent2  # 3 > 2


def test_manual_strategy_assigns_nobody(org, make_complaint):
    _set_strategy(org.team, Team.Strategy.MANUAL)
    complaint = make_complaint("triaged")
    assert assignment.complaint_auto_assign(complaint=complaint) is None
    complaint.refresh_from_db()
    assert (complaint.status, complaint.assignee) == ("triaged", None)


def test_nobody_available_assigns_nobody(org, make_complaint):
    _set_strategy(org.team, Team.Strategy.ROUND_ROBIN)
    for user in (org.agent, org.agent2):
        user.is_away = True
        user.save(update_fields=["is_away"])
    complaint = make_complaint("triaged")
    assert assignment.complaint_auto_assign(complaint=complaint) is None
    complaint.refresh_from_db()
    assert complaint.status == "triaged"


def test_a_complaint_without_a_team_cannot_be_auto_assigned(org, make_complaint):
    complaint = make_complaint("new")
    assert complaint.team is None
    with pytest.raises(InvalidInput, match="no team"):
        assignment.complaint_auto_assign(complaint=complaint)
