"""Configuration and people's standing are kept between requests (complaints/
config_cache.py): a change must count from the very next request, in this process
at once and in every other process once the change commits."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from complaints import config_cache, roles
from complaints.models import Category, TeamMembership

pytestmark = pytest.mark.django_db


def _detail(client, complaint):
    return client.get(f"/complaints/{complaint.pk}/")


def test_a_revoked_membership_counts_from_the_next_request(client, org, make_complaint):
    complaint = make_complaint("in_progress")  # team A's, assigned to org.agent
    client.force_login(org.agent2)
    assert _detail(client, complaint).status_code == 200
    TeamMembership.objects.filter(user=org.agent2, team=org.team).delete()
    assert _detail(client, complaint).status_code == 404


def test_a_role_taken_away_counts_from_the_next_request(client, org):
    client.force_login(org.agent)
    assert client.get("/queue/team/").status_code == 200
    org.agent.groups.remove(Group.objects.get(name=roles.AGENT))
    assert client.get("/queue/team/").status_code in (302, 403)


def test_a_permission_granted_to_a_role_counts_from_the_next_request(org):
    from django.contrib.auth.models import Permission

    from complaints.models import User

    agent = User.objects.get(pk=org.agent.pk)
    assert not agent.has_perm("complaints.view_personal_data")
    Group.objects.get(name=roles.AGENT).permissions.add(
        Permission.objects.get(codename="view_personal_data")
    )
    assert User.objects.get(pk=org.agent.pk).has_perm("complaints.view_personal_data")


def test_a_renamed_category_shows_in_the_queue_filter(client, org):
    category = Category.objects.create(name="Delivery", code="delivery-x")
    client.force_login(org.agent)
    assert "Delivery" in client.get("/queue/team/").content.decode()
    category.name = "Shipping"
    category.save()
    page = client.get("/queue/team/").content.decode()
    assert "Shipping" in page
    assert ">Delivery<" not in page


def test_the_generation_moves_again_when_the_change_commits(
    org, django_capture_on_commit_callbacks
):
    before = config_cache.generation()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        Category.objects.create(name="Billing", code="billing-x")
        at_once = config_cache.generation()
    assert at_once != before
    # Another process may read the old rows between the save and the commit: the
    # commit moves the generation on once more, so what it kept is not used.
    for callback in callbacks:
        callback()
    assert config_cache.generation() not in (before, at_once)


def test_a_kept_value_is_read_again_after_max_age(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(config_cache.time, "monotonic", lambda: clock[0])
    calls = []

    def load():
        calls.append(1)
        return len(calls)

    assert config_cache.lookup("test-entry", load) == 1
    assert config_cache.lookup("test-entry", load) == 1
    clock[0] += config_cache.MAX_AGE + 1
    assert config_cache.lookup("test-entry", load) == 2


def test_another_process_change_counts_within_the_generation_ttl(monkeypatch):
    from django.core.cache import cache

    clock = [5000.0]
    monkeypatch.setattr(config_cache.time, "monotonic", lambda: clock[0])
    config_cache.invalidate()
    calls = []

    def load():
        calls.append(1)
        return len(calls)

    assert config_cache.lookup("test-ttl", load) == 1
    cache.set(config_cache.GENERATION_KEY, "moved-by-another-process", timeout=None)
    assert config_cache.lookup("test-ttl", load) == 1  # not asked again yet
    clock[0] += config_cache.GENERATION_TTL
    assert config_cache.lookup("test-ttl", load) == 2


def test_an_unknown_choice_is_refused_without_a_query(client, org, django_assert_num_queries):
    from complaints.filters import ComplaintFilter
    from complaints.models import Complaint

    ComplaintFilter(data={"priority": ["1"]}, queryset=Complaint.objects.none()).is_valid()
    with django_assert_num_queries(0):
        f = ComplaintFilter(data={"priority": ["999999"]}, queryset=Complaint.objects.none())
        assert not f.is_valid()
    assert "priority" in f.errors
