"""/api/complaints/: list, detail, create, update, transitions, and who may do what."""

import pytest
from django.urls import reverse

from complaints.models import Complaint, IdempotentRequest, StatusChange
from complaints.services import collaboration
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

LIST = "/api/complaints/"


def detail(c):
    return f"/api/complaints/{c.pk}/"


def transitions(c):
    return f"/api/complaints/{c.pk}/transitions/"


def transition(c, name):
    return f"/api/complaints/{c.pk}/transitions/{name}/"


def ids(response):
    return {row["id"] for row in response.json()["results"]}


def test_urls_are_named():
    assert reverse("api:complaint-list") == LIST
    assert reverse("api:complaint-transition", args=[3, "start"]) == (
        "/api/complaints/3/transitions/start/"
    )


# --- Access matrix: list and detail ----------------------------------------------------------


@pytest.fixture
def complaints_ab(org, make_complaint):
    """a: team A's; b: team B's (triaged with the billing category); n: untriaged."""
    from complaints.services.transitions import complaint_triage

    a = make_complaint("triaged")
    b = make_complaint("new")
    complaint_triage(
        complaint=b, actor=org.supervisor, category=org.category_b, priority=org.p3, team=org.team_b
    )
    n = make_complaint("new")
    assert (a.team_id, b.team_id, n.team_id) == (org.team.pk, org.team_b.pk, None)
    return a, b, n


def test_list_is_scoped_like_the_screens(org, api, complaints_ab):
    a, b, n = complaints_ab
    assert ids(api(org.agent).get(LIST)) == {a.pk, n.pk}
    assert ids(api(org.agent_b).get(LIST)) == {b.pk, n.pk}
    assert ids(api(org.supervisor).get(LIST)) == {a.pk, b.pk, n.pk}
    assert ids(api(org.responder).get(LIST)) == set()
    collaboration.collaboration_ask(
        complaint=a, actor=org.agent, department=org.department, question="Batch?"
    )
    assert ids(api(org.responder).get(LIST)) == {a.pk}


def test_list_anonymous_401_and_roleless_403(org, api, complaints_ab):
    response = api().get(LIST)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    response = api(org.outsider).get(LIST)
    assert response.status_code == 403
    assert response.json() == {
        "code": "permission_denied",
        "message": "This account has no back-office role.",
    }


def test_detail_matrix_missing_and_forbidden_look_the_same(org, api, complaints_ab):
    a, b, _n = complaints_ab
    ok = api(org.agent).get(detail(a))
    assert ok.status_code == 200
    assert ok.json()["tracking_number"] == a.tracking_number
    assert ok["ETag"] == f'"{a.version}"'
    forbidden = api(org.agent).get(detail(b))
    missing = api(org.agent).get("/api/complaints/999999/")
    assert forbidden.status_code == missing.status_code == 404
    assert forbidden.json() == missing.json()
    assert forbidden.json()["code"] == "not_found"
    assert api(org.supervisor).get(detail(b)).status_code == 200
    assert api(org.responder).get(detail(a)).status_code == 404
    assert api().get(detail(a)).status_code == 401


# --- List: filters, ordering, pagination, query count ---------------------------------------


def test_filters_are_the_queues_filters(org, api, make_complaint):
    a = make_complaint("triaged", title="Kettle leaks")
    b = make_complaint("in_progress", title="Toaster sparks", description="It sparks.")
    client = api(org.supervisor)
    assert ids(client.get(LIST, {"status": "in_progress"})) == {b.pk}
    assert ids(client.get(LIST, {"q": "kettle"})) == {a.pk}
    assert ids(client.get(LIST, {"q": a.tracking_number})) == {a.pk}
    assert ids(client.get(LIST, {"assignee": org.agent.pk})) == {b.pk}


def test_bad_filter_and_ordering_values_400_with_fields(org, api):
    response = api(org.supervisor).get(LIST, {"status": "nope", "ordering": "assignee"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["fields"]) == {"status", "ordering"}


def test_cursor_pagination_walks_every_row_once(org, api, make_complaint):
    made = {make_complaint("new").pk for _ in range(5)}
    client = api(org.supervisor)
    seen, url = [], LIST + "?page_size=2&ordering=number"
    while url:
        page = client.get(url).json()
        assert len(page["results"]) <= 2
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
    assert sorted(seen) == sorted(made)
    assert len(seen) == len(set(seen))
    numbers = [Complaint.objects.get(pk=pk).tracking_number for pk in seen]
    assert numbers == sorted(numbers)


def test_list_query_count_does_not_grow_with_the_page(
    org, api, make_complaint, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api(org.agent)
    for _ in range(2):
        make_complaint("in_progress")
    client.get(LIST)  # configuration read once (config_cache)
    with CaptureQueriesContext(connection) as small:
        assert len(client.get(LIST).json()["results"]) == 2
    small_count = len(small)  # the log is reset by the next request
    for _ in range(6):
        make_complaint("in_progress", product=ProductFactory())
    client.get(LIST)  # configuration read once (config_cache)
    with django_assert_max_num_queries(small_count):
        assert len(client.get(LIST).json()["results"]) == 8


# --- Create ---------------------------------------------------------------------------------

BODY = {
    "channel": "phone",
    "name": "李娜",
    "phone": "13900139000",
    "title": "Fridge noisy",
    "description": "The fridge hums loudly at night.",
    "demand": "repair",
}


def test_staff_record_a_complaint_through_intake(org, api):
    response = api(org.agent).post(LIST, BODY, format="json")
    assert response.status_code == 201, response.content
    complaint = Complaint.objects.get()
    assert response.json()["id"] == complaint.pk
    assert response.json()["channel"] == "phone"
    assert response["ETag"] == f'"{complaint.version}"'
    assert complaint.customer.phone == "+8613900139000"
    assert StatusChange.objects.get(complaint=complaint).actor == org.agent


def test_create_field_errors_400(org, api):
    response = api(org.agent).post(LIST, {**BODY, "phone": "12", "demand": "x"}, format="json")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"demand"}  # serializer first, then intake
    response = api(org.agent).post(LIST, {**BODY, "phone": "12"}, format="json")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"phone"}
    assert not Complaint.objects.exists()


def test_create_is_idempotent(org, api):
    client = api(org.agent)
    first = client.post(LIST, BODY, format="json", headers={"Idempotency-Key": "rec-1"})
    again = client.post(LIST, BODY, format="json", headers={"Idempotency-Key": "rec-1"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert Complaint.objects.count() == 1
    other = client.post(
        LIST, {**BODY, "demand": "refund"}, format="json", headers={"Idempotency-Key": "rec-1"}
    )
    assert other.status_code == 409
    assert other.json()["code"] == "conflict"
    assert Complaint.objects.count() == 1


def test_a_refused_create_does_not_use_up_the_key(org, api):
    client = api(org.agent)
    bad = client.post(
        LIST, {**BODY, "phone": "12"}, format="json", headers={"Idempotency-Key": "k"}
    )
    assert bad.status_code == 400
    assert not IdempotentRequest.objects.exists()
    good = client.post(LIST, BODY, format="json", headers={"Idempotency-Key": "k"})
    assert good.status_code == 201


# --- Update ---------------------------------------------------------------------------------


def test_patch_changes_fields_through_the_service(org, api, make_complaint):
    complaint = make_complaint("triaged")
    product = ProductFactory()
    response = api(org.agent).patch(
        detail(complaint),
        {"title": "New title", "product": product.pk, "reason": "Customer called"},
        format="json",
        headers={"If-Match": f'"{complaint.version}"'},
    )
    assert response.status_code == 200, response.content
    complaint.refresh_from_db()
    assert (complaint.title, complaint.product) == ("New title", product)
    assert response.json()["version"] == complaint.version
    event = complaint.events.get(kind="field_changed")
    assert event.actor == org.agent and event.body == "Customer called"
    assert complaint.history.first().history_user == org.agent


def test_patch_without_a_version_428(org, api, make_complaint):
    complaint = make_complaint("triaged")
    response = api(org.agent).patch(detail(complaint), {"title": "X"}, format="json")
    assert response.status_code == 428
    assert response.json()["code"] == "precondition_required"


def test_patch_on_a_stale_version_409(org, api, make_complaint):
    complaint = make_complaint("triaged")
    seen = complaint.version
    api(org.agent2).patch(detail(complaint), {"title": "First", "version": seen}, format="json")
    response = api(org.agent).patch(
        detail(complaint), {"title": "Second", "version": seen}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    complaint.refresh_from_db()
    assert complaint.title == "First"


def test_patch_never_changes_the_status(org, api, make_complaint):
    complaint = make_complaint("triaged")
    response = api(org.supervisor).patch(
        detail(complaint),
        {"status": "closed", "assignee": org.agent.pk, "version": complaint.version},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"status", "assignee"}
    complaint.refresh_from_db()
    assert complaint.status == "triaged"


def test_patch_access_matrix(org, api, complaints_ab, make_complaint):
    _a, b, _n = complaints_ab
    body = {"title": "Changed", "version": b.version}
    assert api(org.agent).patch(detail(b), body, format="json").status_code == 404
    assert api(org.responder).patch(detail(b), body, format="json").status_code == 404
    assert api().patch(detail(b), body, format="json").status_code == 401
    assert api(org.supervisor).patch(detail(b), body, format="json").status_code == 200
    rejected = make_complaint("rejected")
    response = api(org.supervisor).patch(
        detail(rejected), {"title": "X", "version": rejected.version}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def test_patch_field_messages_400(org, api, make_complaint):
    complaint = make_complaint("triaged")
    response = api(org.agent).patch(
        detail(complaint),
        {"title": "", "priority": 999999, "version": complaint.version},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"title", "priority"}


# --- Transitions ----------------------------------------------------------------------------


def test_transitions_offered_to_the_caller_with_their_inputs(org, api, make_complaint):
    complaint = make_complaint("new")
    rows = {r["name"]: r for r in api(org.agent).get(transitions(complaint)).json()}
    assert set(rows) == {"triage", "merge"}
    assert [i["name"] for i in rows["triage"]["inputs"]] == [
        "category",
        "priority",
        "product",
        "team",
        "reason",
    ]
    assert rows["triage"]["unmet"] == ["a category and a priority are set"]
    supervisor_rows = {r["name"] for r in api(org.supervisor).get(transitions(complaint)).json()}
    assert "reject" in supervisor_rows


def test_a_transition_with_its_inputs(org, api, make_complaint):
    complaint = make_complaint("new")
    response = api(org.agent).post(
        transition(complaint, "triage"),
        {"category": org.category.pk, "priority": org.p1.pk},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "triaged"
    complaint.refresh_from_db()
    assert (complaint.status, complaint.priority, complaint.team) == ("triaged", org.p1, org.team)
    change = complaint.status_changes.last()
    assert (change.transition, change.actor) == ("triage", org.agent)


def test_an_agent_claims_with_assign(org, api, make_complaint):
    complaint = make_complaint("triaged")
    response = api(org.agent).post(transition(complaint, "assign"), {}, format="json")
    assert response.status_code == 200, response.content
    complaint.refresh_from_db()
    assert (complaint.status, complaint.assignee) == ("assigned", org.agent)
    # ...and cannot give it to a colleague.
    other = make_complaint("triaged")
    response = api(org.agent).post(
        transition(other, "assign"), {"assignee": org.agent2.pk}, format="json"
    )
    assert response.status_code == 403


def test_refused_transition_409_names_the_unmet_conditions(org, api, make_complaint):
    complaint = make_complaint("in_progress")
    response = api(org.agent).post(
        transition(complaint, "resolve"), {"summary": "Fixed"}, format="json"
    )
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "transition_refused"
    assert "a resolution summary and a root cause are recorded" in body["conditions"]
    assert "the remedy offered to the customer is decided" in body["conditions"]
    complaint.refresh_from_db()
    assert complaint.status == "in_progress"


def test_transition_from_the_wrong_status_409(org, api, make_complaint):
    complaint = make_complaint("new")
    response = api(org.supervisor).post(transition(complaint, "start"), {}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "transition_refused"


def test_transition_input_not_of_this_transition_400(org, api, make_complaint):
    complaint = make_complaint("assigned")
    response = api(org.agent).post(
        transition(complaint, "start"), {"reason": "go", "summary": "x"}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"reason", "summary"}


def test_transition_stale_if_match_409(org, api, make_complaint):
    complaint = make_complaint("assigned")
    response = api(org.agent).post(
        transition(complaint, "start"), {}, format="json", headers={"If-Match": '"1"'}
    )
    assert complaint.version != 1
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"


def test_transition_access_matrix(org, api, complaints_ab):
    a, b, _n = complaints_ab
    body = {"reason": "Not ours", "recourse": "12315"}
    assert api(org.agent).post(transition(b, "reject"), body, format="json").status_code == 404
    assert api(org.agent).get(transitions(b)).status_code == 404
    assert api(org.responder).post(transition(a, "reject"), body, format="json").status_code == 404
    assert api().post(transition(a, "reject"), body, format="json").status_code == 401
    # Visible but not theirs to use: 403 with the rule's words.
    refused = api(org.agent).post(transition(a, "reject"), body, format="json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden"
    assert api(org.supervisor).post(transition(b, "reject"), body, format="json").status_code == 200


def test_unknown_transition_404(org, api, make_complaint):
    complaint = make_complaint("new")
    response = api(org.supervisor).post(transition(complaint, "teleport"), {}, format="json")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
