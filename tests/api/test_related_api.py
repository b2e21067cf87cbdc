"""Customers, collaboration requests, escalations, survey responses, configuration."""

import pytest

from complaints.models import CollaborationRequest, Escalation
from complaints.services import survey
from complaints.services.transitions import complaint_triage
from tests.factories import CustomerFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def team_b_complaint(org, make_complaint):
    c = make_complaint("new", customer=CustomerFactory(name="B's customer"))
    complaint_triage(
        complaint=c, actor=org.supervisor, category=org.category_b, priority=org.p3, team=org.team_b
    )
    return c


def test_customers_are_scoped_to_visible_complaints(org, api, make_complaint, team_b_complaint):
    mine = make_complaint("triaged").customer
    theirs = team_b_complaint.customer
    CustomerFactory(name="No complaint")
    listed = {c["id"] for c in api(org.agent).get("/api/customers/").json()["results"]}
    assert listed == {mine.pk}
    assert api(org.agent).get(f"/api/customers/{mine.pk}/").json()["phone"] == mine.phone
    assert api(org.agent).get(f"/api/customers/{theirs.pk}/").status_code == 404
    assert api(org.supervisor).get(f"/api/customers/{theirs.pk}/").status_code == 200


def test_collaboration_ask_answer(org, api, make_complaint):
    complaint = make_complaint("in_progress")
    url = f"/api/complaints/{complaint.pk}/collaboration-requests/"
    response = api(org.agent).post(
        url, {"department": org.department.pk, "question": "Known batch issue?"}, format="json"
    )
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    assert response.json()["status"] == "open"
    inbox = api(org.responder).get("/api/collaboration-requests/").json()["results"]
    assert [r["id"] for r in inbox] == [pk]
    # The asker's side may not answer for the department.
    refused = api(org.agent).post(
        f"/api/collaboration-requests/{pk}/answer/", {"answer": "x"}, format="json"
    )
    assert refused.status_code == 404
    answered = api(org.responder).post(
        f"/api/collaboration-requests/{pk}/answer/", {"answer": "Yes, batch 42."}, format="json"
    )
    assert answered.status_code == 200, answered.content
    assert CollaborationRequest.objects.get(pk=pk).status == "answered"
    rows = api(org.agent).get(url).json()
    assert rows[0]["answer"] == "Yes, batch 42."


def test_collaboration_to_a_non_department_400(org, api, make_complaint):
    complaint = make_complaint("in_progress")
    response = api(org.agent).post(
        f"/api/complaints/{complaint.pk}/collaboration-requests/",
        {"department": org.team_b.pk, "question": "?"},
        format="json",
    )
    assert response.status_code == 400
    assert not CollaborationRequest.objects.exists()


def test_escalate_then_settle(org, api, make_complaint):
    complaint = make_complaint("in_progress")
    url = f"/api/complaints/{complaint.pk}/escalations/"
    opened = api(org.agent).post(url, {"reason": "manual", "note": "Angry"}, format="json")
    assert opened.status_code == 201, opened.content
    again = api(org.agent).post(url, {"reason": "manual"}, format="json")
    assert again.status_code == 200
    assert again.json()["id"] == opened.json()["id"]
    pk = opened.json()["id"]
    complaint.refresh_from_db()
    assert complaint.escalation_level == 1
    # Agents may not settle; supervisors may.
    refused = api(org.agent).post(f"/api/escalations/{pk}/settle/", {"text": "x"}, format="json")
    assert refused.status_code == 403
    settled = api(org.supervisor).post(
        f"/api/escalations/{pk}/settle/", {"text": "Refunded"}, format="json"
    )
    assert settled.status_code == 200
    assert Escalation.objects.get(pk=pk).settlement == "Refunded"
    complaint.refresh_from_db()
    assert complaint.escalation_level == 0
    assert api(org.agent).get("/api/escalations/", {"open": "true"}).json()["results"] == []


def test_system_reasons_cannot_be_raised_by_hand(org, api, make_complaint):
    complaint = make_complaint("in_progress")
    response = api(org.agent).post(
        f"/api/complaints/{complaint.pk}/escalations/", {"reason": "sla_breach"}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"reason"}


def test_escalations_of_another_team_404(org, api, team_b_complaint):
    response = api(org.agent).post(
        f"/api/complaints/{team_b_complaint.pk}/escalations/", {"reason": "manual"}, format="json"
    )
    assert response.status_code == 404
    opened = api(org.agent_b).post(
        f"/api/complaints/{team_b_complaint.pk}/escalations/", {"reason": "manual"}, format="json"
    )
    assert api(org.agent).get(f"/api/escalations/{opened.json()['id']}/").status_code == 404
    assert api(org.agent).get("/api/escalations/").json()["results"] == []


def test_survey_responses_read(org, api, make_complaint):
    complaint = make_complaint("resolved")
    survey.survey_submit(complaint=complaint, rating=4, solved=True, comment="Fine")
    rows = api(org.agent).get(f"/api/complaints/{complaint.pk}/survey-responses/").json()
    assert [(r["rating"], r["solved"], r["comment"]) for r in rows] == [(4, True, "Fine")]


def test_configuration_lists(org, api):
    product = ProductFactory(sku="KT-1")
    client = api(org.responder)
    assert product.pk in {p["id"] for p in client.get("/api/products/").json()}
    assert [p["code"] for p in client.get("/api/priorities/").json()] == ["P1", "P2", "P3", "P4"]
    teams = {t["code"]: t["kind"] for t in client.get("/api/teams/").json()}
    assert teams["tech"] == "department"
    assert {"quality", "billing"} <= {c["code"] for c in client.get("/api/categories/").json()}
    assert api().get("/api/teams/").status_code == 401
    assert client.post("/api/teams/", {}).status_code == 405
