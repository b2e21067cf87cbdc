"""The queue's count stops at a cap (complaints/paginators.py) and the nav badges
are kept per user for NAV_BADGES_SECONDS."""

import pytest

from complaints.paginators import CappedPaginator
from complaints.selectors_nav import nav_badges_recent


@pytest.fixture
def five(org, make_complaint):
    return [make_complaint("in_progress") for _ in range(5)]


def test_the_count_stops_at_the_cap(org, five):
    from complaints.models import Complaint

    capped = CappedPaginator(Complaint.objects.order_by("pk"), 2, cap=3)
    assert (capped.count, capped.capped, capped.num_pages) == (3, True, 2)
    exact = CappedPaginator(Complaint.objects.order_by("pk"), 2, cap=5)
    assert (exact.count, exact.capped, exact.num_pages) == (5, False, 3)


def test_the_queue_says_more_than_the_cap(client, org, five, monkeypatch):
    from complaints import paginators

    monkeypatch.setattr(paginators, "QUEUE_COUNT_CAP", 3)
    monkeypatch.setattr(paginators.CappedPaginator.__init__, "__kwdefaults__", {"cap": 3})
    client.force_login(org.agent)
    page = client.get("/queue/team/?size=25").content.decode()
    assert "More than 3 complaints" in page
    assert page.count("data-tracking=") == 3


def test_badges_are_kept_for_a_while_then_counted_again(org, make_complaint, settings):
    settings.NAV_BADGES_SECONDS = 60
    make_complaint("in_progress")
    first = nav_badges_recent(org.agent)
    make_complaint("in_progress")
    assert nav_badges_recent(org.agent) == first  # kept
    org.agent.groups.first().save()  # a configuration change forgets them
    assert nav_badges_recent(org.agent).queues["team"] == first.queues["team"] + 1
