"""The screens: the Call-backs queue, recording a call from it and from the complaint
detail page's panel, the navigation count, and the admin."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from complaints import roles
from complaints.models import (
    CallbackAttempt,
    CallbackResult,
    CallbackTask,
    Channel,
    Demand,
    LoopOutcome,
)
from complaints.services import callbacks, intake
from complaints.services import transitions as t
from complaints.services.privacy import mask_phone
from tests.factories import CustomerFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

QUEUE = reverse("complaints:callbacks")


def record_url(task) -> str:
    return reverse("complaints:callback-record", args=[task.pk])


def detail_url(complaint) -> str:
    return reverse("complaints:staff-detail", args=[complaint.pk])


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _post(client, task, result=CallbackResult.REACHED_SATISFIED, **extra):
    data = {"result": result, "note": "", "next": QUEUE, **extra}
    return client.post(record_url(task), data)


def _resolved_in_team_b(org):
    """A complaint of team B, resolved by agent_b."""
    complaint = intake.complaint_create(
        actor=None,
        channel=Channel.PHONE,
        customer=CustomerFactory(),
        title="Invoice twice",
        description="Charged twice",
        demand=Demand.REFUND,
    )
    t.complaint_triage(
        complaint=complaint, actor=org.agent_b, category=org.category_b, priority=org.p3
    )
    t.complaint_assign(complaint=complaint, actor=org.supervisor, assignee=org.agent_b)
    t.complaint_start(complaint=complaint, actor=org.agent_b)
    t.complaint_resolve(
        complaint=complaint,
        actor=org.agent_b,
        summary="Refunded",
        root_cause="billing",
        remedy="Refund",
    )
    return callbacks.callback_open(complaint=complaint)


# --- The queue ---------------------------------------------------------------------------------


def test_queue_lists_the_due_callbacks_of_the_agents_team(client, org, due_callback):
    task = due_callback()
    other = _resolved_in_team_b(org)
    client.force_login(org.agent2)

    response = client.get(QUEUE)

    assert response.status_code == 200
    assert [r.pk for r in response.context["page"]] == [task.pk]
    html = response.content.decode()
    complaint = task.complaint
    assert f'id="callback-{task.pk}"' in html
    assert f'id="callback-{other.pk}"' not in html
    assert detail_url(complaint) in html
    assert complaint.title in html
    assert complaint.customer.name in html
    # Agents see the phone masked; calling is a logged reveal (tests/privacy).
    assert 'data-action="reveal-phone"' in html
    assert mask_phone(complaint.customer.phone) in html
    assert complaint.customer.phone not in html
    assert "0 / 3" in html
    assert record_url(task) in html
    for value in CallbackResult.values:
        assert f'value="{value}"' in html


def test_agent_of_team_b_and_supervisor_see_their_own(client, org, due_callback):
    task = due_callback()
    other = _resolved_in_team_b(org)
    client.force_login(org.agent_b)
    assert [r.pk for r in client.get(QUEUE).context["page"]] == [other.pk]
    client.force_login(org.supervisor)
    assert {r.pk for r in client.get(QUEUE).context["page"]} == {task.pk, other.pk}


def test_responder_is_refused_and_anonymous_goes_to_login(client, org, due_callback):
    task = due_callback()
    client.force_login(org.responder)
    assert client.get(QUEUE).status_code == 403
    assert _post(client, task).status_code == 403
    client.logout()
    response = client.get(QUEUE)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert "/accounts/login/" in _post(client, task)["Location"]
    task.refresh_from_db()
    assert task.status == "open"


def test_tabs_split_due_later_mine_and_finished(client, org, due_callback):
    due = due_callback()
    later = due_callback()
    callbacks.callback_record(task=later, actor=org.agent2, result=CallbackResult.NOT_REACHED)
    done = due_callback()
    callbacks.callback_record(task=done, actor=org.agent, result=CallbackResult.REACHED_SATISFIED)
    client.force_login(org.agent2)

    def tab(name):
        response = client.get(QUEUE, {"tab": name})
        assert response.status_code == 200
        return [r.pk for r in response.context["page"]], response

    assert tab("due")[0] == [due.pk]
    assert tab("later")[0] == [later.pk]
    assert tab("mine")[0] == [later.pk]  # agent2 made the last call
    finished, response = tab("finished")
    assert finished == [done.pk]
    assert "Customer satisfied" in response.content.decode()
    assert record_url(done) not in response.content.decode()
    assert tab("nonsense")[0] == [due.pk]
    counts = {slug: n for slug, _label, n in response.context["tabs"]}
    assert counts == {"due": 1, "later": 1, "mine": 1, "finished": 1}


def test_queue_query_count_does_not_grow_with_rows(
    client, org, due_callback, django_assert_max_num_queries
):
    due_callback()
    client.force_login(org.agent)
    client.get(QUEUE)  # warm caches (content types, sessions)
    with django_assert_max_num_queries(30) as few:
        assert client.get(QUEUE).status_code == 200
    for _ in range(6):
        due_callback(customer=CustomerFactory())
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(QUEUE)
    assert len(response.context["page"]) == 7


def test_queue_is_paginated(client, org, due_callback, monkeypatch):
    from complaints.views import callbacks as views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    tasks = [due_callback() for _ in range(3)]
    client.force_login(org.agent)
    first = client.get(QUEUE)
    second = client.get(QUEUE, {"page": 2})
    assert len(first.context["page"]) == 2
    assert [r.pk for r in second.context["page"]] == [tasks[2].pk]
    assert "page=2" in first.content.decode()


# --- Recording ------------------------------------------------------------------------------------


def test_record_satisfied_from_the_queue_closes_and_goes_back(client, org, due_callback):
    task = due_callback()
    client.force_login(org.agent)

    response = _post(client, task, note="Happy now", next=QUEUE + "?tab=due")

    assert response.status_code == 302
    assert response["Location"] == QUEUE + "?tab=due"
    assert any("is closed: the customer is satisfied" in m for m in _messages(response))
    task.refresh_from_db()
    assert task.outcome == "satisfied"
    task.complaint.refresh_from_db()
    assert task.complaint.loop_outcome == LoopOutcome.CALLBACK
    assert CallbackAttempt.objects.get().note == "Happy now"


def test_record_not_reached_reports_the_next_attempt(client, org, due_callback):
    task = due_callback()
    client.force_login(org.agent)
    response = _post(client, task, result=CallbackResult.NOT_REACHED, attempts="0")
    [message] = _messages(response)
    assert message.startswith("Attempt 1 of 3 recorded for " + task.complaint.tracking_number)
    task.refresh_from_db()
    assert (task.status, task.attempts) == ("open", 1)


def test_record_unsatisfied_says_reopened(client, org, due_callback):
    task = due_callback()
    client.force_login(org.agent)
    response = _post(client, task, result=CallbackResult.REACHED_UNSATISFIED, note="Broken")
    assert any("reopened for a second handling" in m for m in _messages(response))
    task.complaint.refresh_from_db()
    assert task.complaint.status == "reopened"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"result": ""}, "Choose how the call went."),
        ({"result": "maybe"}, "Choose how the call went."),
        ({"result": "not_reached", "note": "x" * 2001}, "at most 2000 characters"),
        ({"result": "not_reached", "attempts": "-1"}, "greater than or equal to 0"),
    ],
)
def test_bad_input_gives_a_clear_message_and_changes_nothing(
    client, org, due_callback, data, expected
):
    task = due_callback()
    client.force_login(org.agent)
    response = client.post(record_url(task), {"next": QUEUE, **data})
    assert response.status_code == 302
    assert any(expected in m for m in _messages(response)), _messages(response)
    task.refresh_from_db()
    assert (task.status, task.attempts) == ("open", 0)
    assert not CallbackAttempt.objects.exists()


def test_double_submit_answers_with_the_refusal_not_an_error(client, org, due_callback):
    task = due_callback()
    client.force_login(org.agent)
    assert _post(client, task).status_code == 302

    again = _post(client, task, result=CallbackResult.REACHED_UNSATISFIED)

    assert again.status_code == 302
    assert _messages(again)[-1] == ("This call-back is finished already; the page was out of date.")
    task.complaint.refresh_from_db()
    assert task.complaint.status == "closed"
    assert CallbackAttempt.objects.count() == 1


def test_stale_not_reached_is_not_counted_twice(client, org, due_callback):
    task = due_callback()
    client.force_login(org.agent)
    _post(client, task, result=CallbackResult.NOT_REACHED, attempts="0")
    again = _post(client, task, result=CallbackResult.NOT_REACHED, attempts="0")
    assert _messages(again)[-1] == ("Someone recorded a call meanwhile; the page was out of date.")
    task.refresh_from_db()
    assert task.attempts == 1


def test_agent_of_another_team_gets_404_and_unknown_is_404(client, org, due_callback):
    task = due_callback()
    client.force_login(org.agent_b)
    assert _post(client, task).status_code == 404
    client.force_login(org.agent)
    assert client.post(reverse("complaints:callback-record", args=[999999])).status_code == 404
    task.refresh_from_db()
    assert task.status == "open"


def test_record_needs_post_and_next_stays_on_this_site(client, org, due_callback):
    task = due_callback()
    client.force_login(org.agent)
    assert client.get(record_url(task)).status_code == 405
    response = _post(client, task, next="https://evil.example/")
    assert response["Location"] == QUEUE


# --- The detail page's panel ----------------------------------------------------------------------


def test_panel_is_hidden_without_a_callback(client, org, make_complaint):
    complaint = make_complaint("resolved")
    client.force_login(org.agent)
    html = client.get(detail_url(complaint)).content.decode()
    assert 'id="callback-panel"' not in html


def test_panel_shows_the_attempts_and_records_from_the_detail_page(client, org, due_callback):
    task = due_callback()
    callbacks.callback_record(
        task=task, actor=org.agent, result=CallbackResult.NOT_REACHED, note="Busy tone"
    )
    client.force_login(org.agent2)
    url = detail_url(task.complaint)

    html = client.get(url).content.decode()
    assert 'id="callback-panel"' in html
    assert "Busy tone" in html and "Not reached" in html
    assert 'id="callback-attempts">1 / 3' in html
    assert record_url(task) in html

    response = _post(client, task, next=url, attempts="1")
    assert response["Location"] == url
    html = client.get(url).content.decode()
    assert 'data-status="done"' in html
    assert "Customer satisfied" in html
    assert record_url(task) not in html  # finished: no form any more


def test_panel_offers_no_form_to_a_responder(client, org, due_callback):
    responder = UserFactory(username="front-responder", role=roles.RESPONDER)
    MembershipFactory(team=org.team, user=responder)
    task = due_callback()
    client.force_login(responder)
    html = client.get(detail_url(task.complaint)).content.decode()
    assert 'id="callback-panel"' in html
    assert record_url(task) not in html


# --- Navigation count ----------------------------------------------------------------------------


def test_due_count_tag_counts_only_due_visible_callbacks(org, due_callback):
    due_callback()
    later = due_callback()
    callbacks.callback_record(task=later, actor=org.agent, result=CallbackResult.NOT_REACHED)
    template = Template(
        "{% load callback_tags %}{% callbacks_due_count user %}|{{ user|may_call_back }}"
    )

    def render(user):
        return template.render(Context({"user": user}))

    assert render(org.agent) == "1|True"
    assert render(org.supervisor) == "1|True"
    assert render(org.agent_b) == "0|True"
    assert render(org.responder) == "0|False"
    assert callbacks.callbacks_due_count(org.agent, timezone.now() + timedelta(hours=5)) == 2


# --- Admin ---------------------------------------------------------------------------------------


def test_admin_lists_and_shows_callbacks_read_only(client, org, due_callback):
    task = due_callback()
    callbacks.callback_record(
        task=task, actor=org.agent, result=CallbackResult.NOT_REACHED, note="Voicemail"
    )
    client.force_login(org.admin)
    listing = client.get(reverse("admin:complaints_callbacktask_changelist"), {"status": "open"})
    assert listing.status_code == 200
    assert task.complaint.tracking_number in listing.content.decode()
    filtered = client.get(
        reverse("admin:complaints_callbacktask_changelist"), {"outcome": "satisfied"}
    )
    assert task.complaint.tracking_number not in filtered.content.decode()
    change = client.get(reverse("admin:complaints_callbacktask_change", args=[task.pk]))
    assert change.status_code == 200
    assert "Voicemail" in change.content.decode()
    assert client.get(reverse("admin:complaints_callbacktask_add")).status_code == 403
    assert CallbackTask.objects.count() == 1
