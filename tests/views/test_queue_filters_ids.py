"""Ids no database can hold are refused like any unknown choice (no 500)."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "query",
    ["priority=-9799598294399000576", "team=9223372036854775808", "assignee=99999999999999999999"],
)
def test_the_staff_queue_answers_an_impossible_id(client, org, make_complaint, query):
    make_complaint("triaged")
    client.force_login(org.supervisor)
    response = client.get(reverse("complaints:staff-queue", args=["all"]) + "?" + query)
    assert response.status_code == 200
    assert response.context["filter"].errors


@pytest.mark.parametrize("ordering", ["number", "-number"])
def test_the_queue_sorts_by_a_column_header(client, org, make_complaint, ordering):
    made = [make_complaint("triaged") for _ in range(3)]
    client.force_login(org.supervisor)

    response = client.get(reverse("complaints:staff-queue", args=["all"]), {"ordering": ordering})

    assert response.status_code == 200
    page = response.content.decode()
    shown = [c.tracking_number for c in made if c.tracking_number in page]
    positions = sorted(shown, key=page.index)
    expected = sorted(shown, reverse=ordering.startswith("-"))
    assert len(shown) == 3
    assert positions == expected
