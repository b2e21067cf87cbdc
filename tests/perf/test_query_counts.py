"""Query counts of the two busiest screens (issue 9): constant whatever the page size
and the number of timeline events, and within the issue's budgets (12 for the queue,
15 for the detail page), for an agent and for a supervisor, with every panel of the
detail page showing something."""

import datetime

import pytest
from django.utils import timezone

QUEUE_BUDGET = 12
DETAIL_BUDGET = 15


@pytest.fixture(autouse=True)
def _production_sessions(settings):
    """Sessions kept as production keeps them (config/settings/production.py): read
    from the shared cache, written through to the database."""
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"


def _team_queue(client, size: int):
    return client.get(f"/queue/team/?status=in_progress&size={size}")


@pytest.fixture
def busy_team(org, make_complaint):
    """30 in-progress complaints in the agent's team: more than a page of 25."""
    return [make_complaint("in_progress") for _ in range(30)]


def test_team_queue_queries_do_not_grow_with_the_page_size(
    client, org, busy_team, django_assert_max_num_queries
):
    client.force_login(org.agent)
    _team_queue(client, 25)  # per-session rows (presence, preferences) created once
    with django_assert_max_num_queries(40) as small:
        response = _team_queue(client, 25)
    assert response.content.decode().count("data-tracking=") == 25
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = _team_queue(client, 50)
    assert response.content.decode().count("data-tracking=") == 30


def test_team_queue_within_the_issue_budget(client, org, busy_team, django_assert_max_num_queries):
    client.force_login(org.agent)
    _team_queue(client, 50)
    with django_assert_max_num_queries(QUEUE_BUDGET):
        _team_queue(client, 50)


def test_detail_within_the_issue_budget(client, org, make_complaint, django_assert_max_num_queries):
    complaint = make_complaint("in_progress")
    client.force_login(org.agent)
    url = f"/complaints/{complaint.pk}/"
    client.get(url)
    with django_assert_max_num_queries(DETAIL_BUDGET):
        assert client.get(url).status_code == 200


@pytest.fixture
def busy_complaint(org, make_complaint, settings, tmp_path):
    """A complaint with something in every panel: events with attachments, a remedy,
    an escalation, a department request, an improvement action, a duplicate flag, a
    same-customer complaint, and another viewer."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from complaints.models import DuplicateFlag, Presence
    from complaints.services import attachments, collaboration, escalation, improvements, remedies
    from complaints.services import messages as staff_messages

    settings.MEDIA_ROOT = tmp_path
    complaint = make_complaint("in_progress")
    other = make_complaint("in_progress", customer=complaint.customer)
    for n in range(3):
        attachments.attachment_add(
            complaint=complaint, actor=org.agent, upload=SimpleUploadedFile(f"p{n}.txt", b"x")
        )
        staff_messages.complaint_add_note(complaint=complaint, actor=org.agent, body=f"note {n}")
    remedies.remedy_propose(complaint=complaint, actor=org.agent, kind="apology", amount="0")
    escalation.escalation_open(complaint=complaint, actor=org.agent, reason="manual", note="help")
    collaboration.collaboration_ask(
        complaint=complaint, actor=org.agent, department=org.department, question="Why?"
    )
    improvements.improvement_create(
        actor=org.supervisor,
        title="Stronger kettles",
        problem="They break",
        owner_team=org.team,
        due_date=datetime.date.today() + datetime.timedelta(days=7),
        complaints=[complaint],
    )
    DuplicateFlag.objects.get_or_create(
        complaint=complaint, other=other, defaults={"reason": "similar_text"}
    )
    Presence.objects.create(complaint=complaint, user=org.agent2, seen_at=timezone.now())
    complaint.refresh_from_db()
    return complaint


@pytest.mark.parametrize("who", ["agent", "supervisor"])
def test_detail_with_every_panel_filled_within_the_budget(
    client, org, busy_complaint, who, django_assert_max_num_queries
):
    client.force_login(getattr(org, who))
    url = f"/complaints/{busy_complaint.pk}/"
    first = client.get(url)
    assert first.status_code == 200
    page = first.content.decode()
    for marker in ('id="improvement-actions"', "Stronger kettles", "p2.txt", "note 2"):
        assert marker in page
    with django_assert_max_num_queries(DETAIL_BUDGET):
        assert client.get(url).status_code == 200


def test_supervisor_queue_within_the_budget(client, org, busy_team, django_assert_max_num_queries):
    client.force_login(org.supervisor)
    _team_queue(client, 50)
    with django_assert_max_num_queries(QUEUE_BUDGET):
        assert _team_queue(client, 50).status_code == 200
