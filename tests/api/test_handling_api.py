"""Call-backs, improvement actions, the SOP checklist, reply templates and similar
complaints through the API."""

from datetime import timedelta

import pytest

from complaints.models import (
    CallbackAttempt,
    CallbackTask,
    ImprovementAction,
    ReplyTemplate,
    SopCheck,
)
from complaints.services import callbacks, guidance, improvements

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def loop_settings(settings):
    settings.COMPLAINT_CALLBACK_MAX_ATTEMPTS = 3
    settings.COMPLAINT_CALLBACK_RETRY_HOURS = 4


@pytest.fixture
def callback(make_complaint):
    complaint = make_complaint("resolved")
    return callbacks.callback_open(complaint=complaint)


# --- Call-backs ---------------------------------------------------------------------------


def test_callback_list_and_record_not_reached(org, api, callback):
    client = api(org.agent)
    due = client.get("/api/callbacks/").json()["results"]
    assert [c["id"] for c in due] == [callback.pk]
    url = f"/api/callbacks/{callback.pk}/attempts/"
    response = client.post(
        url, {"result": "not_reached", "note": "Voicemail", "expected_attempts": 0}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["attempts"]) == ("open", 1)
    assert [(a["result"], a["note"]) for a in body["attempt_log"]] == [("not_reached", "Voicemail")]
    # Retried later: no longer due now, on the "later" tab.
    assert client.get("/api/callbacks/").json()["results"] == []
    assert [c["id"] for c in client.get("/api/callbacks/", {"tab": "later"}).json()["results"]] == [
        callback.pk
    ]
    # A client that still saw 0 attempts is refused instead of counting twice.
    stale = client.post(url, {"result": "not_reached", "expected_attempts": 0}, format="json")
    assert stale.status_code == 409
    assert CallbackAttempt.objects.count() == 1


def test_callback_reached_satisfied_closes_the_complaint(org, api, callback):
    response = api(org.agent).post(
        f"/api/callbacks/{callback.pk}/attempts/", {"result": "reached_satisfied"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["outcome"] == "satisfied"
    callback.complaint.refresh_from_db()
    assert (callback.complaint.status, callback.complaint.loop_outcome) == ("closed", "callback")
    again = api(org.agent).post(
        f"/api/callbacks/{callback.pk}/attempts/", {"result": "not_reached"}, format="json"
    )
    assert again.status_code == 409


def test_callback_bad_input_and_idempotency(org, api, callback):
    client = api(org.agent)
    url = f"/api/callbacks/{callback.pk}/attempts/"
    bad = client.post(url, {"result": "maybe"}, format="json")
    assert bad.status_code == 400
    assert set(bad.json()["fields"]) == {"result"}
    assert client.get("/api/callbacks/", {"tab": "nope"}).status_code == 400
    first = client.post(url, {"result": "not_reached"}, format="json", HTTP_IDEMPOTENCY_KEY="c1")
    second = client.post(url, {"result": "not_reached"}, format="json", HTTP_IDEMPOTENCY_KEY="c1")
    assert (first.status_code, second.status_code) == (201, 200)
    assert CallbackTask.objects.get(pk=callback.pk).attempts == 1


# --- Improvement actions ------------------------------------------------------------------


def _create_body(org, *complaints, **overrides):
    return {
        "title": "Fix the kettle thermostat",
        "problem": "Batch 42 thermostats fail.",
        "owner_team": org.department.pk,
        "due_date": (improvements.today() + timedelta(days=14)).isoformat(),
        "complaints": [c.pk for c in complaints],
        **overrides,
    }


def test_improvement_create_link_status(org, api, make_complaint):
    first, second = make_complaint("in_progress"), make_complaint("triaged")
    client = api(org.agent)
    created = client.post(
        "/api/improvements/", _create_body(org, first), format="json", HTTP_IDEMPOTENCY_KEY="i1"
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert [c["id"] for c in created.json()["complaints"]] == [first.pk]
    assert created.json()["allowed_statuses"] == ["in_progress"]  # the creator may start it
    replay = client.post(
        "/api/improvements/", _create_body(org, first), format="json", HTTP_IDEMPOTENCY_KEY="i1"
    )
    assert replay.status_code == 200
    assert ImprovementAction.objects.count() == 1
    linked = client.post(
        f"/api/improvements/{pk}/complaints/", {"complaint": second.pk}, format="json"
    )
    assert linked.status_code == 201
    twice = client.post(f"/api/improvements/{pk}/complaints/", {"complaint": second.pk})
    assert twice.status_code == 200
    assert {c["id"] for c in twice.json()["complaints"]} == {first.pk, second.pk}
    assert client.delete(f"/api/improvements/{pk}/complaints/{second.pk}/").status_code == 204
    assert list(ImprovementAction.objects.get(pk=pk).complaints.all()) == [first]
    # Done needs an outcome; then a supervisor verifies.
    started = client.post(f"/api/improvements/{pk}/status/", {"status": "in_progress"})
    assert started.json()["status"] == "in_progress"
    no_outcome = client.post(f"/api/improvements/{pk}/status/", {"status": "done"})
    assert no_outcome.status_code == 400
    assert set(no_outcome.json()["fields"]) == {"outcome"}
    done = client.post(
        f"/api/improvements/{pk}/status/", {"status": "done", "outcome": "New supplier"}
    )
    assert done.json()["status"] == "done"
    assert client.post(f"/api/improvements/{pk}/status/", {"status": "verified"}).status_code == 403
    verified = api(org.supervisor).post(f"/api/improvements/{pk}/status/", {"status": "verified"})
    assert verified.json()["status"] == "verified"
    assert [c["to_status"] for c in verified.json()["changes"]] == [
        "open",
        "in_progress",
        "done",
        "verified",
    ]
    listed = client.get("/api/improvements/", {"status": "verified"}).json()["results"]
    assert [a["id"] for a in listed] == [pk]


def test_improvement_create_validation(org, api, make_complaint, team_b_complaint):
    client = api(org.agent)
    past = client.post(
        "/api/improvements/",
        _create_body(org, due_date=(improvements.today() - timedelta(days=1)).isoformat()),
        format="json",
    )
    assert past.status_code == 400
    assert set(past.json()["fields"]) == {"due_date"}
    # A complaint of another team: refused like a missing one, nothing created.
    hidden = client.post("/api/improvements/", _create_body(org, team_b_complaint), format="json")
    assert hidden.status_code == 400
    assert set(hidden.json()["fields"]) == {"complaints"}
    assert not ImprovementAction.objects.exists()
    responder = api(org.responder).post("/api/improvements/", _create_body(org), format="json")
    assert responder.status_code == 403


# --- SOP, reply templates, similar ---------------------------------------------------------


@pytest.fixture
def sop(org):
    return guidance.sop_save_version(
        category=org.category,
        actor=org.admin,
        title="Quality SOP",
        steps=["Call within 2 hours", "Ask for the order number"],
        allowed_remedies=["refund"],
        time_limit_hours=48,
    )


def test_sop_checklist_check_and_uncheck(org, api, make_complaint, sop):
    complaint = make_complaint("in_progress")
    client = api(org.agent)
    url = f"/api/complaints/{complaint.pk}/sop/"
    before = client.get(url).json()
    assert (before["sop"]["title"], before["total"], before["done_count"]) == ("Quality SOP", 2, 0)
    checked = client.post(f"{url}check/", {"step": 2}, format="json")
    assert checked.status_code == 200
    assert [s["done"] for s in checked.json()["steps"]] == [False, True]
    assert checked.json()["steps"][1]["by"]["username"] == "agent"
    assert client.post(f"{url}check/", {"step": 2}).status_code == 200  # a double submit
    assert SopCheck.objects.count() == 1
    bad = client.post(f"{url}check/", {"step": 3})
    assert bad.status_code == 400
    assert set(bad.json()["fields"]) == {"step"}
    assert client.post(f"{url}uncheck/", {"step": 2}).json()["done_count"] == 0
    assert not SopCheck.objects.exists()


def test_sop_without_one_and_for_readers(org, api, make_complaint):
    complaint = make_complaint("new")
    body = api(org.agent).get(f"/api/complaints/{complaint.pk}/sop/").json()
    assert (body["sop"], body["steps"]) == (None, [])


def test_reply_templates_list_and_render(org, api, make_complaint):
    complaint = make_complaint("in_progress")
    template = ReplyTemplate.objects.create(
        name="Apology", body="Dear {customer_name}, about {tracking_number}: {unknown}"
    )
    ReplyTemplate.objects.create(name="Old", body="x", is_active=False)
    client = api(org.agent)
    listed = client.get(f"/api/complaints/{complaint.pk}/reply-templates/").json()
    assert [t["name"] for t in listed] == ["Apology"]
    rendered = client.get(
        f"/api/complaints/{complaint.pk}/reply-templates/{template.pk}/render/"
    ).json()
    assert rendered["text"] == (
        f"Dear {complaint.customer.name}, about {complaint.tracking_number}: {{unknown}}"
    )
    inactive = ReplyTemplate.objects.get(name="Old")
    missing = client.get(f"/api/complaints/{complaint.pk}/reply-templates/{inactive.pk}/render/")
    assert missing.status_code == 404


def test_similar_resolved(org, api, make_complaint):
    done = make_complaint("resolved", title="Kettle broke", description="The kettle broke.")
    current = make_complaint("in_progress", title="Kettle broke", description="The kettle broke.")
    rows = api(org.agent).get(f"/api/complaints/{current.pk}/similar/").json()
    assert [r["complaint"]["id"] for r in rows] == [done.pk]
    assert rows[0]["complaint"]["resolution_summary"] == "Replaced the unit"
    assert 0 < rows[0]["score"] <= 1
    assert (
        api(org.agent).get(f"/api/complaints/{current.pk}/similar/", {"limit": 0}).status_code
        == 400
    )


@pytest.fixture
def team_b_complaint(org, make_complaint):
    from complaints.services.transitions import complaint_triage

    c = make_complaint("new")
    complaint_triage(
        complaint=c, actor=org.supervisor, category=org.category_b, priority=org.p3, team=org.team_b
    )
    return c
