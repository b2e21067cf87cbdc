"""Team visibility (Team.visibility: own team / all), one rule for every screen, and a
revoked membership counting from the next request."""

from __future__ import annotations

import pytest
from django.urls import reverse

from complaints import permissions, selectors
from complaints.models import Team, TeamMembership
from complaints.services import transitions as t

pytestmark = pytest.mark.django_db


@pytest.fixture
def spread(org, make_complaint):
    a = make_complaint("assigned", title="Team A kettle")
    b = make_complaint("new", title="Team B kettle")
    t.complaint_triage(complaint=b, actor=org.supervisor, category=org.category_b, priority=org.p3)
    return {"a": a, "b": b}


def _sees(user, complaint) -> bool:
    in_list = selectors.complaints_visible_to(user).filter(pk=complaint.pk).exists()
    # The list and the predicate agree, always.
    assert in_list == permissions.can_view_complaint(user, complaint)
    return in_list


def test_own_team_is_the_default(org, spread):
    assert org.team_b.visibility == Team.Visibility.OWN_TEAM
    assert _sees(org.agent_b, spread["b"])
    assert not _sees(org.agent_b, spread["a"])


def test_a_team_that_sees_all_lets_its_agents_see_every_complaint(org, spread):
    org.team_b.visibility = Team.Visibility.ALL
    org.team_b.save()
    assert _sees(org.agent_b, spread["a"])
    assert permissions.sees_all_complaints(org.agent_b)
    assert selectors.complaints_visible_to(org.agent_b).count() == 2


def test_all_visibility_needs_a_staff_role(org, spread):
    """A member without a role still sees nothing."""
    org.team_b.visibility = Team.Visibility.ALL
    org.team_b.save()
    TeamMembership.objects.create(team=org.team_b, user=org.outsider)
    assert not _sees(org.outsider, spread["a"])
    assert not _sees(org.outsider, spread["b"])


def test_an_inactive_team_grants_nothing_extra(org, spread):
    org.team_b.visibility = Team.Visibility.ALL
    org.team_b.is_active = False
    org.team_b.save()
    assert not _sees(org.agent_b, spread["a"])


def test_all_visibility_for_a_department_responder(org, spread):
    org.department.visibility = Team.Visibility.ALL
    org.department.save()
    assert _sees(org.responder, spread["a"])
    assert _sees(org.responder, spread["b"])


def test_all_visibility_reaches_the_detail_page_and_the_api(client, org, spread):
    client.force_login(org.agent_b)
    detail = reverse("complaints:staff-detail", args=[spread["a"].pk])
    api = reverse("api:complaint-detail", args=[spread["a"].pk])
    assert client.get(detail).status_code == 404
    assert client.get(api).status_code == 404
    org.team_b.visibility = Team.Visibility.ALL
    org.team_b.save()
    assert client.get(detail).status_code == 200
    assert client.get(api).status_code == 200


def test_revoked_membership_counts_from_the_next_request(client, org, spread):
    client.force_login(org.agent)
    detail = reverse("complaints:staff-detail", args=[spread["a"].pk])
    api_list = reverse("api:complaint-list")
    assert client.get(detail).status_code == 200
    assert spread["a"].tracking_number in client.get(api_list).content.decode()

    TeamMembership.objects.filter(team=org.team, user=org.agent).delete()
    # Assigned to them it stays theirs; unassigned, it is gone at the next request.
    assert client.get(detail).status_code == 200
    t.complaint_reassign(
        complaint=spread["a"], actor=org.supervisor, assignee=org.agent2, reason="Holiday"
    )
    assert client.get(detail).status_code == 404
    assert spread["a"].tracking_number not in client.get(api_list).content.decode()


def test_team_visibility_change_counts_from_the_next_request(client, org, spread):
    client.force_login(org.agent_b)
    detail = reverse("complaints:staff-detail", args=[spread["a"].pk])
    org.team_b.visibility = Team.Visibility.ALL
    org.team_b.save()
    assert client.get(detail).status_code == 200
    org.team_b.visibility = Team.Visibility.OWN_TEAM
    org.team_b.save()
    assert client.get(detail).status_code == 404


def test_membership_lookup_is_one_query_per_request(org, spread, django_assert_num_queries):
    from complaints.models import User

    user = User.objects.get(pk=org.agent_b.pk)
    with django_assert_num_queries(2):  # the groups, the memberships (with their teams)
        permissions.visibility_filter(user)
        permissions.visibility_filter(user)
        permissions.can_view_complaint(user, spread["a"])


def test_admin_changelist_follows_team_visibility(client, org, spread):
    org.agent_b.is_staff = True
    org.agent_b.save()
    from django.contrib.auth.models import Permission

    org.agent_b.user_permissions.add(Permission.objects.get(codename="view_complaint"))
    client.force_login(org.agent_b)
    url = reverse("admin:complaints_complaint_changelist")
    body = client.get(url).content.decode()
    assert spread["b"].tracking_number in body
    assert spread["a"].tracking_number not in body
    org.team_b.visibility = Team.Visibility.ALL
    org.team_b.save()
    assert spread["a"].tracking_number in client.get(url).content.decode()
