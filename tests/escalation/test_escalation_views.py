"""The screens: Escalations (supervisors), the department queue and answer form, the
forms posted from the complaint detail page, the detail-page panels, the admin, the
management command and the tasks."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from complaints import roles
from complaints.models import CollaborationRequest, ComplaintEvent, Escalation, EscalationStep
from complaints.services import collaboration, escalation
from complaints.tasks_escalation import collaboration_sweep_task, escalations_climb_task
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LIST = reverse("complaints:escalation-list")
QUEUE = reverse("complaints:collab-queue")
Reason = Escalation.Reason


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _open(complaint, reason=Reason.VIP, **kwargs):
    return escalation.escalation_open(
        complaint=complaint, actor=roles.SYSTEM, reason=reason, **kwargs
    )


def _ask(org, complaint, question="Which batch is affected?"):
    return collaboration.collaboration_ask(
        complaint=complaint, actor=org.agent, department=org.department, question=question
    )


# --- Escalations screen ------------------------------------------------------------------------


def test_escalations_lists_open_ones_oldest_first(client, ladder, make_complaint):
    newer = _open(make_complaint("in_progress"), note="newer")
    older = _open(make_complaint("in_progress"), reason=Reason.REPEAT, note="older")
    Escalation.objects.filter(pk=older.pk).update(opened_at=timezone.now() - timedelta(days=1))
    settled = _open(make_complaint("in_progress"))
    escalation.escalation_settle(escalation=settled, actor=ladder.supervisor, settlement="ok")

    client.force_login(ladder.supervisor)
    response = client.get(LIST)

    assert response.status_code == 200
    rows = list(response.context["page"])
    assert [e.pk for e in rows] == [older.pk, newer.pk]
    html = response.content.decode()
    assert f'id="escalation-{older.pk}"' in html
    assert f'id="escalation-{settled.pk}"' not in html
    assert reverse("complaints:escalation-acknowledge", args=[older.pk]) in html
    assert reverse("complaints:escalation-settle", args=[older.pk]) in html
    assert reverse("complaints:staff-transition", args=[older.complaint_id, "reassign"]) in html


def test_escalations_filter_by_reason_and_level(client, ladder, make_complaint):
    vip = _open(make_complaint("in_progress"))
    repeat = _open(make_complaint("in_progress"), reason=Reason.REPEAT, level=2)
    client.force_login(ladder.admin)
    assert [e.pk for e in client.get(LIST, {"reason": "vip"}).context["page"]] == [vip.pk]
    assert [e.pk for e in client.get(LIST, {"level": "2"}).context["page"]] == [repeat.pk]
    assert len(client.get(LIST, {"level": "9", "reason": "x"}).context["page"]) == 2


@pytest.mark.parametrize("who", ["agent", "responder"])
def test_escalations_screen_is_for_supervisors(client, ladder, who):
    client.force_login(getattr(ladder, who))
    assert client.get(LIST).status_code == 403


def test_escalations_screen_needs_a_sign_in(client, ladder):
    response = client.get(LIST)
    assert response.status_code == 302
    assert "/accounts/login/" in response.url


def test_escalations_query_count_does_not_grow_with_rows(
    client, ladder, make_complaint, django_assert_max_num_queries
):
    _open(make_complaint("in_progress"))
    client.force_login(ladder.supervisor)
    client.get(LIST)
    with django_assert_max_num_queries(30) as few:
        assert client.get(LIST).status_code == 200
    for _ in range(4):
        e = _open(make_complaint("in_progress"))
        escalation.escalation_acknowledge(escalation=e, actor=ladder.supervisor)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(LIST)
    assert len(response.context["page"]) == 5


def test_acknowledge_from_the_screen(client, ladder, make_complaint):
    e = _open(make_complaint("in_progress"))
    client.force_login(ladder.supervisor)
    response = client.post(
        reverse("complaints:escalation-acknowledge", args=[e.pk]), {"next": LIST + "?level=1"}
    )
    assert response.status_code == 302
    assert response.url == LIST + "?level=1"
    e.refresh_from_db()
    assert e.acknowledged_by == ladder.supervisor


def test_next_may_not_leave_the_site(client, ladder, make_complaint):
    e = _open(make_complaint("in_progress"))
    client.force_login(ladder.supervisor)
    response = client.post(
        reverse("complaints:escalation-acknowledge", args=[e.pk]),
        {"next": "https://evil.example.com/"},
    )
    assert response.url == LIST


def test_agent_cannot_acknowledge_or_settle(client, ladder, make_complaint):
    e = _open(make_complaint("in_progress"))
    client.force_login(ladder.agent)
    for name, data in (
        ("escalation-acknowledge", {}),
        ("escalation-settle", {"settlement": "done"}),
        ("escalation-instruct", {"note": "do"}),
    ):
        assert client.post(reverse(f"complaints:{name}", args=[e.pk]), data).status_code == 403
    e.refresh_from_db()
    assert e.acknowledged_at is None
    assert e.is_open


def test_get_is_not_allowed_on_actions(client, ladder, make_complaint):
    e = _open(make_complaint("in_progress"))
    client.force_login(ladder.supervisor)
    assert client.get(reverse("complaints:escalation-acknowledge", args=[e.pk])).status_code == 405


def test_unknown_escalation_is_404(client, ladder):
    client.force_login(ladder.supervisor)
    url = reverse("complaints:escalation-settle", args=[999_999])
    assert client.post(url, {"settlement": "x"}).status_code == 404


def test_settle_from_the_screen(client, ladder, make_complaint):
    e = _open(make_complaint("in_progress"))
    client.force_login(ladder.supervisor)
    url = reverse("complaints:escalation-settle", args=[e.pk])

    response = client.post(url, {"settlement": "   "})
    assert response.status_code == 302
    assert _messages(response)
    e.refresh_from_db()
    assert e.is_open

    response = client.post(url, {"settlement": "Refund approved"})
    assert response.status_code == 302
    e.refresh_from_db()
    assert e.settlement == "Refund approved"
    e.complaint.refresh_from_db()
    assert e.complaint.escalation_level == 0
    assert any("settled" in m for m in _messages(response))


def test_instruct_from_the_screen(client, ladder, make_complaint):
    e = _open(make_complaint("in_progress"))
    client.force_login(ladder.supervisor)
    response = client.post(
        reverse("complaints:escalation-instruct", args=[e.pk]), {"note": "Call back <today>"}
    )
    assert response.status_code == 302
    note = e.complaint.events.get(kind=ComplaintEvent.Kind.NOTE_ADDED)
    assert note.body == "Call back <today>"


def test_raise_from_the_detail_page(client, ladder, make_complaint):
    complaint = make_complaint("in_progress")
    client.force_login(ladder.agent)
    url = reverse("complaints:escalation-raise", args=[complaint.pk])

    response = client.post(url, {"reason": "manual", "level": "1", "note": "Angry on the phone"})

    assert response.status_code == 302
    assert response.url == reverse("complaints:staff-detail", args=[complaint.pk])
    e = Escalation.objects.get(complaint=complaint)
    assert e.opened_by == ladder.agent
    assert e.note == "Angry on the phone"
    # Again: the open one is reported, no second one.
    response = client.post(url, {"reason": "manual", "level": "1", "note": "Again"})
    assert Escalation.objects.filter(complaint=complaint).count() == 1
    assert any("already open" in m for m in _messages(response))


def test_raise_refuses_bad_input_and_hidden_complaints(client, ladder, make_complaint):
    complaint = make_complaint("in_progress")
    client.force_login(ladder.agent)
    url = reverse("complaints:escalation-raise", args=[complaint.pk])
    for data in (
        {"reason": "sla_breach", "level": "1", "note": "x"},
        {"reason": "manual", "level": "7", "note": "x"},
        {"reason": "manual", "level": "1", "note": ""},
    ):
        response = client.post(url, data)
        assert response.status_code == 302
        assert _messages(response)
    assert not Escalation.objects.exists()
    client.force_login(ladder.agent_b)
    assert client.post(url, {"reason": "manual", "level": "1", "note": "x"}).status_code == 404


# --- Department queue and answers ------------------------------------------------------------


def test_department_queue_lists_the_request_for_tech_not_for_agent(client, ladder, make_complaint):
    request = _ask(ladder, make_complaint("in_progress"), question="Batch <b>42</b>?")
    answer_url = reverse("complaints:collab-answer", args=[request.pk])

    client.force_login(ladder.responder)
    response = client.get(QUEUE)
    assert response.status_code == 200
    assert [r.pk for r in response.context["open_requests"]] == [request.pk]
    html = response.content.decode()
    assert answer_url in html
    assert "Batch &lt;b&gt;42&lt;/b&gt;?" in html

    client.force_login(ladder.agent)
    response = client.get(QUEUE)
    assert response.status_code == 200
    assert response.context["open_requests"] == []
    assert answer_url not in response.content.decode()


def test_overdue_requests_are_highlighted(client, ladder, make_complaint):
    request = _ask(ladder, make_complaint("in_progress"))
    CollaborationRequest.objects.filter(pk=request.pk).update(
        due_at=timezone.now() - timedelta(hours=1)
    )
    client.force_login(ladder.responder)
    html = client.get(QUEUE).content.decode()
    assert f'id="request-{request.pk}" data-request="{request.pk}" class="overdue"' in html


def test_department_queue_query_count_does_not_grow(
    client, ladder, make_complaint, django_assert_max_num_queries
):
    _ask(ladder, make_complaint("in_progress"))
    client.force_login(ladder.responder)
    client.get(QUEUE)
    with django_assert_max_num_queries(30) as few:
        client.get(QUEUE)
    for _ in range(4):
        r = _ask(ladder, make_complaint("in_progress"))
    collaboration.collaboration_answer(request=r, actor=ladder.responder, answer="ok")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(QUEUE)
    assert len(response.context["open_requests"]) == 4
    assert len(response.context["answered"]) == 1


def test_tech_answers_through_the_request(client, ladder, make_complaint):
    complaint = make_complaint("in_progress")
    request = _ask(ladder, complaint)
    client.force_login(ladder.responder)

    page = client.get(reverse("complaints:collab-request", args=[request.pk]))
    assert page.status_code == 200
    # Responders may open the complaints their department was asked about.
    assert page.context["can_open_complaint"] is True

    response = client.post(
        reverse("complaints:collab-answer", args=[request.pk]),
        {"answer": "Batch 42 only.", "version": request.version, "next": QUEUE},
    )
    assert response.status_code == 302
    assert response.url == QUEUE
    request.refresh_from_db()
    assert request.status == CollaborationRequest.Status.ANSWERED
    assert complaint.events.filter(body__contains="Batch 42 only.").exists()


def test_answer_form_errors_and_conflicts(client, ladder, make_complaint):
    request = _ask(ladder, make_complaint("in_progress"))
    url = reverse("complaints:collab-answer", args=[request.pk])
    client.force_login(ladder.responder)

    response = client.post(url, {"answer": "", "version": request.version})
    assert response.status_code == 400

    response = client.post(url, {"answer": "late", "version": request.version + 5})
    assert response.status_code == 409
    assert "changed by someone else" in response.content.decode()

    collaboration.collaboration_answer(request=request, actor=ladder.tech_lead, answer="first")
    response = client.post(url, {"answer": "second", "version": request.version})
    assert response.status_code == 409
    request.refresh_from_db()
    assert request.answer == "first"


def test_non_members_cannot_reach_the_request(client, ladder, make_complaint):
    request = _ask(ladder, make_complaint("in_progress"))
    for user in (ladder.agent, ladder.agent_b):
        client.force_login(user)
        assert (
            client.get(reverse("complaints:collab-request", args=[request.pk])).status_code == 404
        )
        response = client.post(
            reverse("complaints:collab-answer", args=[request.pk]),
            {"answer": "me", "version": request.version},
        )
        assert response.status_code == 404
    request.refresh_from_db()
    assert request.status == CollaborationRequest.Status.OPEN


def test_ask_from_the_detail_page(client, ladder, make_complaint):
    complaint = make_complaint("in_progress")
    url = reverse("complaints:collab-ask", args=[complaint.pk])
    client.force_login(ladder.agent)

    assert client.get(url).status_code == 200
    response = client.post(url, {"department": ladder.department.pk, "question": ""})
    assert response.status_code == 400
    response = client.post(url, {"department": ladder.team_b.pk, "question": "x"})
    assert response.status_code == 400
    assert not CollaborationRequest.objects.exists()

    response = client.post(url, {"department": ladder.department.pk, "question": "Batch?"})
    assert response.status_code == 302
    assert response.url == reverse("complaints:staff-detail", args=[complaint.pk])
    assert CollaborationRequest.objects.get().question == "Batch?"

    client.force_login(ladder.agent_b)
    assert (
        client.post(url, {"department": ladder.department.pk, "question": "x"}).status_code == 404
    )


def test_withdraw_from_the_detail_page(client, ladder, make_complaint):
    request = _ask(ladder, make_complaint("in_progress"))
    url = reverse("complaints:collab-cancel", args=[request.pk])
    client.force_login(ladder.agent_b)
    assert client.post(url).status_code == 404
    client.force_login(ladder.agent2)
    assert client.post(url).status_code == 302
    request.refresh_from_db()
    assert request.status == CollaborationRequest.Status.CANCELLED


# --- Detail page panels -------------------------------------------------------------------


def _render_panels(user, complaint) -> str:
    request = RequestFactory().get(f"/complaints/{complaint.pk}/")
    request.user = user
    template = Template(
        '{% include "complaints/escalations/_panel.html" %}'
        '{% include "complaints/collaboration/_panel.html" %}'
    )
    return template.render(
        Context({"complaint": complaint, "user": user, "request": request, "csrf_token": "t"})
    )


def test_panels_for_a_supervisor(ladder, make_complaint):
    complaint = make_complaint("in_progress")
    e = _open(complaint, note="<i>VIP</i>")
    r = _ask(ladder, complaint, question="<script>x</script>")

    html = _render_panels(ladder.supervisor, complaint)

    assert reverse("complaints:escalation-acknowledge", args=[e.pk]) in html
    assert reverse("complaints:escalation-settle", args=[e.pk]) in html
    assert reverse("complaints:escalation-raise", args=[complaint.pk]) in html
    assert reverse("complaints:collab-ask", args=[complaint.pk]) in html
    assert reverse("complaints:collab-cancel", args=[r.pk]) in html
    assert "&lt;i&gt;VIP&lt;/i&gt;" in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html
    assert "<script>x" not in html
    assert "Technical" in html


def test_panels_for_an_agent(ladder, make_complaint):
    complaint = make_complaint("in_progress")
    e = _open(complaint)
    _ask(ladder, complaint)
    html = _render_panels(ladder.agent, complaint)
    assert reverse("complaints:escalation-acknowledge", args=[e.pk]) not in html
    assert reverse("complaints:escalation-settle", args=[e.pk]) not in html
    assert reverse("complaints:escalation-raise", args=[complaint.pk]) in html
    assert reverse("complaints:collab-ask", args=[complaint.pk]) in html


def test_nav_tag(ladder):
    template = Template(
        "{% load escalation_tags %}{% escalation_nav user as nav %}"
        "{{ nav.escalations }}/{{ nav.department }}"
    )
    render = lambda user: template.render(Context({"user": user}))  # noqa: E731
    assert render(ladder.supervisor) == "True/False"
    assert render(ladder.responder) == "False/True"
    assert render(ladder.tech_lead) == "True/True"
    assert render(ladder.agent) == "False/False"


# --- Command, tasks, admin -----------------------------------------------------------------


def test_command_runs_the_sweep_and_the_climb(ladder, make_complaint):
    request = _ask(ladder, make_complaint("in_progress"))
    CollaborationRequest.objects.filter(pk=request.pk).update(
        due_at=timezone.now() - timedelta(minutes=5)
    )
    e = _open(make_complaint("in_progress"))
    Escalation.objects.filter(pk=e.pk).update(climb_at=timezone.now() - timedelta(minutes=1))

    out = StringIO()
    call_command("collaboration_sweep", stdout=out)

    assert "1 request(s) marked overdue, 1 escalation(s) climbed" in out.getvalue()
    e.refresh_from_db()
    assert e.level == 2
    out = StringIO()
    call_command("collaboration_sweep", stdout=out)
    assert "0 request(s) marked overdue, 0 escalation(s) climbed" in out.getvalue()


def test_tasks(ladder, make_complaint):
    request = _ask(ladder, make_complaint("in_progress"))
    CollaborationRequest.objects.filter(pk=request.pk).update(
        due_at=timezone.now() - timedelta(minutes=5)
    )
    assert collaboration_sweep_task.delay().get() == 1
    e = Escalation.objects.get()
    Escalation.objects.filter(pk=e.pk).update(climb_at=timezone.now() - timedelta(minutes=1))
    assert escalations_climb_task.delay().get() == 1
    assert collaboration_sweep_task.name == "complaints.tasks_escalation.collaboration_sweep_task"
    assert escalations_climb_task.name == "complaints.tasks_escalation.escalations_climb_task"


def test_admin_pages(client, ladder, make_complaint):
    complaint = make_complaint("in_progress")
    e = _open(complaint)
    r = _ask(ladder, complaint)
    EscalationStep.objects.get(level=1)
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)
    for name, args in (
        ("escalation_changelist", []),
        ("escalation_change", [e.pk]),
        ("escalationstep_changelist", []),
        ("escalationstep_add", []),
        ("collaborationrequest_changelist", []),
        ("collaborationrequest_change", [r.pk]),
    ):
        response = client.get(reverse(f"admin:complaints_{name}", args=args))
        assert response.status_code == 200, name
    assert client.get(reverse("admin:complaints_escalation_add")).status_code == 403
    assert client.get(reverse("admin:complaints_collaborationrequest_add")).status_code == 403

    response = client.post(
        reverse("admin:complaints_escalation_changelist"),
        {"action": "acknowledge", "_selected_action": [e.pk]},
    )
    assert response.status_code == 302
    e.refresh_from_db()
    assert e.acknowledged_by == root
