"""The access matrix of the handling endpoints (remedies, call-backs, improvement
actions, SOP, reply templates, similar, survey responses): agent of team A vs team B,
department responder (asked or not), supervisor, an account without a role,
anonymous. Missing and forbidden look the same (404)."""

from datetime import timedelta

import pytest

from complaints.models import CallbackAttempt, Remedy, SopCheck
from complaints.services import callbacks, collaboration, guidance, improvements, remedies

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(org, make_complaint):
    working = make_complaint("in_progress")
    resolved = make_complaint("resolved")
    guidance.sop_save_version(
        category=org.category, actor=org.admin, title="SOP", steps=["One", "Two"]
    )
    remedy = remedies.remedy_propose(
        complaint=working, actor=org.agent, kind="refund", amount="500", description=""
    )
    task = callbacks.callback_open(complaint=resolved)
    action = improvements.improvement_create(
        actor=org.supervisor,
        title="Fix it",
        problem="It breaks",
        owner_team=org.team,
        due_date=improvements.today() + timedelta(days=5),
        complaints=[working],
    )
    return {
        "w": working.pk,
        "res": resolved.pk,
        "r": remedy.pk,
        "cb": task.pk,
        "i": action.pk,
        "working": working,
    }


READS = [
    "/api/complaints/{w}/remedies/",
    "/api/remedies/{r}/",
    "/api/callbacks/{cb}/",
    "/api/improvements/{i}/",
    "/api/complaints/{w}/sop/",
    "/api/complaints/{w}/reply-templates/",
    "/api/complaints/{w}/similar/",
    "/api/complaints/{res}/survey-responses/",
]


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("agent", 200),
        ("supervisor", 200),
        ("agent_b", 404),
        ("responder", 404),
        ("outsider", 403),
        (None, 401),
    ],
)
def test_reads(org, api, world, who, expected):
    client = api(getattr(org, who) if who else None)
    got = {url: client.get(url.format(**world)).status_code for url in READS}
    assert got == dict.fromkeys(READS, expected)


def test_a_department_asked_may_read_but_not_act(org, api, world):
    collaboration.collaboration_ask(
        complaint=world["working"], actor=org.agent, department=org.department, question="?"
    )
    client = api(org.responder)
    assert client.get("/api/complaints/{w}/remedies/".format(**world)).status_code == 200
    assert client.get("/api/improvements/{i}/".format(**world)).status_code == 200
    assert client.get("/api/complaints/{w}/sop/".format(**world)).status_code == 200
    propose = client.post(
        "/api/complaints/{w}/remedies/".format(**world), {"kind": "apology", "amount": "0"}
    )
    assert propose.status_code == 403
    # A department asked works on the complaint: its checklist and replies (as on the
    # screens), but calling back and approving are not theirs.
    ticked = client.post("/api/complaints/{w}/sop/check/".format(**world), {"step": 1})
    assert ticked.json()["steps"][0]["by"]["username"] == "tech"
    assert client.get("/api/complaints/{w}/reply-templates/".format(**world)).status_code == 200
    assert client.get("/api/callbacks/").status_code == 403
    assert client.get("/api/approvals/").status_code == 403
    assert Remedy.objects.count() == 1


def test_writes_of_another_team_are_404_and_change_nothing(org, api, world):
    client = api(org.agent_b)
    posts = [
        ("/api/complaints/{w}/remedies/", {"kind": "apology", "amount": "0"}),
        ("/api/remedies/{r}/cancel/", {"reason": "x"}),
        ("/api/remedies/{r}/deliver/", {}),
        ("/api/callbacks/{cb}/attempts/", {"result": "reached_satisfied"}),
        ("/api/improvements/{i}/status/", {"status": "in_progress"}),
        ("/api/improvements/{i}/complaints/", {"complaint": world["w"]}),
        ("/api/complaints/{w}/sop/check/", {"step": 1}),
    ]
    for url, body in posts:
        response = client.post(url.format(**world), body, format="json")
        assert response.status_code == 404, url
        assert response.json()["code"] == "not_found"
    assert client.delete("/api/improvements/{i}/complaints/{w}/".format(**world)).status_code == 404
    assert Remedy.objects.get().status == "pending"
    assert not CallbackAttempt.objects.exists()
    assert not SopCheck.objects.exists()
    # Nor do the lists show them.
    assert client.get("/api/callbacks/", {"tab": "due"}).json()["results"] == []
    assert client.get("/api/improvements/").json()["results"] == []


def test_missing_objects_are_404_like_forbidden_ones(org, api, world):
    client = api(org.supervisor)
    for url in (
        "/api/remedies/999999/",
        "/api/callbacks/999999/",
        "/api/improvements/999999/",
        "/api/complaints/999999/sop/",
        "/api/complaints/{w}/reply-templates/999999/render/",
    ):
        assert client.get(url.format(**world)).status_code == 404, url


def test_supervisor_decides_what_agents_may_not(org, api, world):
    url = "/api/remedies/{r}/decide/".format(**world)
    assert api(org.agent2).post(url, {"decision": "approve"}).status_code == 403
    assert api(org.supervisor).post(url, {"decision": "approve"}).status_code == 200
