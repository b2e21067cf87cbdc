"""Remedies and approvals through the API: propose (within and above the limit),
approve / reject, deliver, cancel, the approvals list, and Idempotency-Key."""

from decimal import Decimal

import pytest

from complaints import roles
from complaints.models import AuthorityLimit, Remedy, RemedyKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def limits(org):
    """Agents may refund up to 100 without approval; supervisors up to 1,000."""
    AuthorityLimit.objects.create(role=roles.AGENT, kind=RemedyKind.REFUND, max_amount=100)
    AuthorityLimit.objects.create(role=roles.SUPERVISOR, kind=RemedyKind.REFUND, max_amount=1000)
    return org


def _propose(api, user, complaint, **body):
    body = {"kind": "refund", "amount": "250", **body}
    return api(user).post(f"/api/complaints/{complaint.pk}/remedies/", body, format="json")


def test_within_the_limit_is_approved_at_once(limits, api, make_complaint):
    complaint = make_complaint("in_progress")
    response = _propose(api, limits.agent, complaint, amount="80.50", description="Part refund")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["amount"], body["currency"]) == ("approved", "80.50", "CNY")
    assert body["complaint"]["tracking_number"] == complaint.tracking_number
    assert body["proposed_by"]["username"] == "agent"
    listed = api(limits.agent).get(f"/api/complaints/{complaint.pk}/remedies/").json()
    assert [r["id"] for r in listed] == [body["id"]]


def test_above_the_limit_waits_then_a_supervisor_approves(limits, api, make_complaint):
    complaint = make_complaint("in_progress")
    pk = _propose(api, limits.agent, complaint).json()["id"]
    assert Remedy.objects.get(pk=pk).status == "pending"
    # The agent sees no approvals screen; the supervisor sees the remedy waiting.
    assert api(limits.agent).get("/api/approvals/").status_code == 403
    waiting = api(limits.supervisor).get("/api/approvals/").json()["results"]
    assert [(r["id"], r["proposer_limit"]) for r in waiting] == [(pk, "100.00")]
    # An agent may not decide.
    refused = api(limits.agent2).post(
        f"/api/remedies/{pk}/decide/", {"decision": "approve"}, format="json"
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden"
    approved = api(limits.supervisor).post(
        f"/api/remedies/{pk}/decide/", {"decision": "approve"}, format="json"
    )
    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == "approved"
    assert approved.json()["decided_by"]["username"] == "supervisor"
    again = api(limits.supervisor).post(
        f"/api/remedies/{pk}/decide/", {"decision": "reject", "reason": "x"}, format="json"
    )
    assert again.status_code == 409
    assert Remedy.objects.get(pk=pk).status == "approved"
    assert api(limits.supervisor).get("/api/approvals/").json()["results"] == []


def test_rejecting_needs_a_reason(limits, api, make_complaint):
    complaint = make_complaint("in_progress")
    pk = _propose(api, limits.agent, complaint).json()["id"]
    url = f"/api/remedies/{pk}/decide/"
    response = api(limits.supervisor).post(url, {"decision": "reject"}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()["fields"]
    assert Remedy.objects.get(pk=pk).status == "pending"
    response = api(limits.supervisor).post(
        url, {"decision": "reject", "reason": "Too much for a scratch"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["decision_reason"] == "Too much for a scratch"


def test_deliver_then_cancel_is_refused(limits, api, make_complaint):
    complaint = make_complaint("in_progress")
    pk = _propose(api, limits.agent, complaint, amount="50").json()["id"]
    delivered = api(limits.agent).post(f"/api/remedies/{pk}/deliver/")
    assert delivered.status_code == 200
    assert delivered.json()["status"] == "delivered"
    cancel = api(limits.agent).post(
        f"/api/remedies/{pk}/cancel/", {"reason": "Changed my mind"}, format="json"
    )
    assert cancel.status_code == 409
    assert Remedy.objects.get(pk=pk).status == "delivered"


def test_cancel_needs_a_reason(limits, api, make_complaint):
    complaint = make_complaint("in_progress")
    pk = _propose(api, limits.agent, complaint).json()["id"]
    missing = api(limits.agent).post(f"/api/remedies/{pk}/cancel/", {}, format="json")
    assert missing.status_code == 400
    assert set(missing.json()["fields"]) == {"reason"}
    done = api(limits.agent).post(
        f"/api/remedies/{pk}/cancel/", {"reason": "Customer declined"}, format="json"
    )
    assert done.json()["status"] == "cancelled"


@pytest.mark.parametrize(
    ("amount", "kind"), [("abc", "refund"), ("-5", "refund"), ("1.234", "refund"), ("3", "apology")]
)
def test_bad_amounts_are_400_naming_the_field(limits, api, make_complaint, amount, kind):
    complaint = make_complaint("in_progress")
    response = _propose(api, limits.agent, complaint, amount=amount, kind=kind)
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"amount"}
    assert not Remedy.objects.exists()


def test_a_resolved_complaint_takes_no_remedy(limits, api, make_complaint):
    complaint = make_complaint("resolved")
    response = _propose(api, limits.agent, complaint, amount="10")
    assert response.status_code == 400
    assert "resolved" in response.json()["message"]


def test_idempotency_key_proposes_once(limits, api, make_complaint):
    complaint = make_complaint("in_progress")
    client = api(limits.agent)
    url = f"/api/complaints/{complaint.pk}/remedies/"
    body = {"kind": "refund", "amount": "20"}
    first = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    second = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert (first.status_code, second.status_code) == (201, 200)
    assert second["Idempotent-Replayed"] == "true"
    assert second.json()["id"] == first.json()["id"]
    assert Remedy.objects.count() == 1
    other = client.post(url, {**body, "amount": "30"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert other.status_code == 409
    assert Remedy.objects.count() == 1


def test_approvals_list_query_count(limits, api, make_complaint, django_assert_max_num_queries):
    for amount in ("200", "300", "400"):
        _propose(api, limits.agent, make_complaint("in_progress"), amount=amount)
    client = api(limits.supervisor)
    with django_assert_max_num_queries(12):
        rows = client.get("/api/approvals/").json()["results"]
    assert [Decimal(r["amount"]) for r in rows] == [200, 300, 400]
