"""API intake's queries (issue 9): with keyword triage, the priority grid, a routing rule,
an SLA policy on a business calendar and a webhook all in play, a complaint costs a
fixed number of queries, and none of them re-reads that configuration."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from complaints.models import (
    BusinessCalendar,
    CalendarDay,
    Complaint,
    KeywordRule,
    RoutingRule,
    SlaPolicy,
    Webhook,
    WebhookDelivery,
)
from complaints.services import triage

pytestmark = pytest.mark.django_db

INTAKE_BUDGET = 32
CONFIGURATION_TABLES = (
    "complaints_keywordrule",
    "complaints_prioritymatrix",
    "complaints_routingrule",
    "complaints_slapolicy",
    "complaints_businesscalendar",
    "complaints_calendarday",
    "complaints_webhook",
    "complaints_category",
    "complaints_product",
    "complaints_priority",
)


@pytest.fixture
def configured(org):
    triage.triage_install_defaults()  # the starter rules and the 16 grid cells
    rule = KeywordRule.objects.create(name="kettle", terms="水壶|kettle", category=org.category)
    RoutingRule.objects.create(name="kettles", category=org.category, team=org.team, order=1)
    calendar = BusinessCalendar.objects.create(
        name="Shanghai",
        time_zone="Asia/Shanghai",
        working_hours={str(d): [["09:00", "18:00"]] for d in range(5)},
    )
    CalendarDay.objects.create(calendar=calendar, date="2026-10-01", kind="holiday")
    SlaPolicy.objects.create(
        name="any",
        calendar=calendar,
        first_response_minutes=120,
        resolution_minutes=960,
        warning_percent=80,
    )
    Webhook.objects.create(
        name="crm",
        url="https://crm.example.com/hook",
        secret="s" * 32,
        events=["complaint.created"],
    )
    return rule


def _client(user) -> APIClient:
    client = APIClient()
    token, _created = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def _body(n: int) -> dict:
    return {
        "channel": "api",
        "name": f"Customer {n}",
        "phone": f"+86 139{n:08d}",
        "title": "水壶漏水",
        "description": "The kettle leaks / 水壶底部漏水",
        "demand": "replacement",
    }


def test_intake_within_the_budget_without_reading_configuration(
    org, configured, django_assert_max_num_queries
):
    client = _client(org.agent)
    assert client.post("/api/intake/", _body(1), format="json").status_code == 201
    with django_assert_max_num_queries(INTAKE_BUDGET) as queries:
        response = client.post("/api/intake/", _body(2), format="json")
    assert response.status_code == 201, response.content

    complaint = Complaint.objects.get(pk=response.json()["id"])
    # Everything intake does still happened: triaged by the rule, routed, on the clock,
    # announced to the webhook.
    assert (complaint.status, complaint.category, complaint.team) == (
        "triaged",
        org.category,
        org.team,
    )
    assert complaint.sla_policy is not None and complaint.resolution_due_at is not None
    assert complaint.triage_proposal.rules.filter(pk=configured.pk).exists()
    assert WebhookDelivery.objects.filter(event="complaint.created").count() == 2
    reads = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("SELECT")
        and any(f'FROM "{table}"' in q["sql"] for table in CONFIGURATION_TABLES)
    ]
    assert reads == []


def test_a_rule_changed_between_two_intakes_is_used_by_the_second(org, configured):
    client = _client(org.agent)
    client.post("/api/intake/", _body(1), format="json")
    configured.is_active = False
    configured.save()

    response = client.post("/api/intake/", _body(2), format="json")

    complaint = Complaint.objects.get(pk=response.json()["id"])
    assert not complaint.triage_proposal.rules.filter(pk=configured.pk).exists()
