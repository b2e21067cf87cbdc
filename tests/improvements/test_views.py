"""The screens: the list, the detail page, the create form (from a complaint and from
the queue's bulk bar), the complaint detail panel's link form, the status forms,
the overdue count tag and the admin."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.template import Context, Template
from django.urls import reverse

from complaints.models import ImprovementAction, OutboxMessage
from complaints.services import improvements, transitions

pytestmark = pytest.mark.django_db

LIST = reverse("complaints:improvement-list")
CREATE = reverse("complaints:improvement-create")
FROM_SELECTION = reverse("complaints:improvement-from-selection")
Status = ImprovementAction.Status


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _detail(action) -> str:
    return reverse("complaints:improvement-detail", args=[action.pk])


def _status_url(action) -> str:
    return reverse("complaints:improvement-status", args=[action.pk])


def _make_overdue(action) -> None:
    ImprovementAction.objects.filter(pk=action.pk).update(
        due_date=improvements.today() - timedelta(days=1)
    )


# --- List ---------------------------------------------------------------------------------


def test_the_list_needs_a_staff_sign_in(client, org):
    response = client.get(LIST)
    assert response.status_code == 302
    assert "/accounts/login/" in response.url
    client.force_login(org.outsider)
    assert client.get(LIST).status_code == 403


def test_the_list_shows_what_the_user_may_see_with_overdue_rows_highlighted(
    client, org, make_complaint, create_action
):
    late = create_action(make_complaint("triaged"), title="Late one", owner_team=org.team)
    _make_overdue(late)
    on_time = create_action(title="On time", owner_team=org.team_b)

    client.force_login(org.supervisor)
    response = client.get(LIST)
    assert [a.pk for a in response.context["page"]] == [late.pk, on_time.pk]
    html = response.content.decode()
    assert (
        f'id="improvement-{late.pk}" data-improvement="{late.pk}" data-status="open" class="overdue"'
        in html
    )
    assert (
        f'id="improvement-{on_time.pk}" data-improvement="{on_time.pk}" data-status="open">' in html
    )

    client.force_login(org.agent)  # team A: sees its own team's action only
    assert [a.pk for a in client.get(LIST).context["page"]] == [late.pk]


def test_the_list_filters_by_status_owner_team_and_overdue(org, client, create_action):
    late = create_action(title="Late", owner_team=org.team)
    _make_overdue(late)
    started = create_action(title="Started", owner_team=org.team_b)
    improvements.improvement_set_status(
        action=started, actor=org.supervisor, status=Status.IN_PROGRESS
    )
    client.force_login(org.supervisor)

    def listed(**query):
        return [a.title for a in client.get(LIST, query).context["page"]]

    assert listed(status="in_progress") == ["Started"]
    assert listed(team=str(org.team.pk)) == ["Late"]
    assert listed(overdue="1") == ["Late"]
    assert listed(status="nonsense", team="abc") == ["Late", "Started"]


def test_the_list_query_count_does_not_grow(
    client, org, make_complaint, create_action, django_assert_max_num_queries
):
    create_action(make_complaint("triaged"))
    client.force_login(org.agent2)  # an agent: the visibility subquery is in play
    client.get(LIST)
    with django_assert_max_num_queries(20) as few:
        assert client.get(LIST).status_code == 200
    for n in range(5):
        create_action(
            make_complaint("triaged"),
            make_complaint("new"),
            title=f"Action {n}",
            owner_team=org.team,
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(LIST)
    assert len(response.context["page"]) == 6


# --- Detail -------------------------------------------------------------------------------


def test_the_detail_page_shows_problem_outcome_complaints_and_history(
    client, org, make_complaint, create_action
):
    seen = make_complaint("in_progress")
    hidden = make_complaint("new")
    transitions.complaint_triage(
        complaint=hidden, actor=org.supervisor, category=org.category_b, priority=org.p3
    )
    assert hidden.team == org.team_b
    action = create_action(seen, owner_team=org.team)
    improvements.improvement_link(action=action, complaint=hidden, actor=org.agent_b)
    improvements.improvement_set_status(action=action, actor=org.agent, status=Status.IN_PROGRESS)
    improvements.improvement_set_status(
        action=action, actor=org.agent, status=Status.DONE, outcome="New supplier."
    )

    client.force_login(org.agent2)
    response = client.get(_detail(action))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Batch 42 thermostats fail after three days." in html
    assert "New supplier." in html
    assert [c.pk for c in response.context["complaints"]] == [seen.pk]
    assert seen.tracking_number in html
    assert hidden.tracking_number not in html
    assert "and 1 complaint you may not see" in html
    assert [c["to_status"] for c in response.context["changes"]] == ["open", "in_progress", "done"]
    assert response.context["allowed"] == []  # verification is a supervisor's


def test_a_supervisor_gets_the_verify_and_send_back_forms(client, org, create_action):
    action = create_action(owner_team=org.team)
    improvements.improvement_set_status(action=action, actor=org.agent, status=Status.IN_PROGRESS)
    improvements.improvement_set_status(
        action=action, actor=org.agent, status=Status.DONE, outcome="Done."
    )
    client.force_login(org.supervisor)
    html = client.get(_detail(action)).content.decode()
    assert 'data-action="verified"' in html
    assert 'data-action="reopen"' in html
    assert 'data-action="done"' not in html


def test_an_action_the_user_may_not_see_is_404(client, org, make_complaint, create_action):
    action = create_action(make_complaint("triaged"), owner_team=org.team)
    client.force_login(org.agent_b)
    assert client.get(_detail(action)).status_code == 404
    assert client.get(reverse("complaints:improvement-detail", args=[99999])).status_code == 404
    assert client.post(_status_url(action), {"status": "in_progress"}).status_code == 404
    action.refresh_from_db()
    assert action.status == Status.OPEN


def test_the_detail_query_count_does_not_grow(
    client, org, make_complaint, create_action, django_assert_max_num_queries
):
    action = create_action(make_complaint("triaged"))
    client.force_login(org.supervisor)
    client.get(_detail(action))
    with django_assert_max_num_queries(25) as few:
        assert client.get(_detail(action)).status_code == 200
    for _ in range(4):
        improvements.improvement_link(
            action=action, complaint=make_complaint("triaged"), actor=org.agent
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(_detail(action))
    assert len(response.context["complaints"]) == 5


# --- Create -------------------------------------------------------------------------------


def test_the_form_is_prefilled_with_the_complaints(client, org, make_complaint):
    first, second = make_complaint("triaged"), make_complaint("in_progress")
    client.force_login(org.agent)
    response = client.get(CREATE, {"complaint": [first.pk, second.pk]})
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<input type="hidden" name="complaint" value="{first.pk}">' in html
    assert f'<input type="hidden" name="complaint" value="{second.pk}">' in html
    assert first.tracking_number in html
    one = client.get(CREATE, {"complaint": first.pk}).context["form"]
    assert one.initial["title"] == first.title


@pytest.mark.parametrize("value", ["hidden", "abc", "99999"])
def test_the_form_refuses_complaints_the_user_may_not_see(client, org, make_complaint, value):
    hidden = make_complaint("triaged")  # team A's
    client.force_login(org.agent_b)
    ids = {"hidden": hidden.pk}.get(value, value)
    assert client.get(CREATE, {"complaint": ids}).status_code == 404


def test_a_responder_may_not_create(client, org):
    client.force_login(org.responder)
    assert client.get(CREATE).status_code == 403


def test_posting_the_form_creates_the_action(client, org, make_complaint):
    first, second = make_complaint("triaged"), make_complaint("in_progress")
    due = improvements.today() + timedelta(days=7)
    client.force_login(org.agent)
    response = client.post(
        CREATE,
        {
            "complaint": [first.pk, second.pk],
            "title": "Fix the lids",
            "problem": "Lids crack in the cold.",
            "owner_team": org.department.pk,
            "due_date": due.isoformat(),
            "notify_customers": "on",
            "customer_message": "Dear {customer_name}, we fixed it.",
        },
    )
    action = ImprovementAction.objects.get()
    assert response.status_code == 302
    assert response.url == _detail(action)
    assert action.created_by == org.agent
    assert action.due_date == due
    assert action.notify_customers
    assert set(action.complaints.all()) == {first, second}
    assert "Improvement action “Fix the lids” created." in _messages(response)


def test_posting_a_past_due_date_shows_the_message(client, org):
    client.force_login(org.supervisor)
    response = client.post(
        CREATE,
        {
            "title": "Fix it",
            "problem": "Broken.",
            "owner_team": org.team.pk,
            "due_date": (improvements.today() - timedelta(days=1)).isoformat(),
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["due_date"] == ["The due date cannot be in the past."]
    assert "The due date cannot be in the past." in response.content.decode()
    assert not ImprovementAction.objects.exists()


def test_the_bulk_bar_sends_the_selection_to_the_form(client, org, make_complaint):
    first, second = make_complaint("triaged"), make_complaint("triaged")
    client.force_login(org.agent)
    body = client.get("/queue/team/").content.decode()
    assert f'formaction="{FROM_SELECTION}"' in body

    response = client.post(FROM_SELECTION, {"ids": [first.pk, second.pk], "action": ""})
    assert response.status_code == 302
    assert response.url == f"{CREATE}?complaint={first.pk}&complaint={second.pk}"

    empty = client.post(FROM_SELECTION, {"next": "/queue/team/"})
    assert empty.url == "/queue/team/"
    assert "Select at least one complaint." in _messages(empty)
    assert client.get(FROM_SELECTION).status_code == 405


def test_the_bulk_bar_offers_no_improvement_button_to_responders(client, org):
    client.force_login(org.responder)
    response = client.get("/queue/team/")
    if response.status_code == 200:
        assert FROM_SELECTION not in response.content.decode()
    assert client.post(FROM_SELECTION, {"ids": [1]}).status_code == 403


# --- The complaint detail panel: link and unlink -----------------------------------------


def test_the_panel_lists_the_actions_and_the_link_form(client, org, make_complaint, create_action):
    complaint = make_complaint("in_progress")
    linked = create_action(complaint, title="Linked one")
    other = create_action(title="Open other")
    done = create_action(title="Finished")
    improvements.improvement_set_status(action=done, actor=org.supervisor, status="in_progress")
    improvements.improvement_set_status(
        action=done, actor=org.supervisor, status="done", outcome="x"
    )
    client.force_login(org.agent)
    html = client.get(reverse("complaints:staff-detail", args=[complaint.pk])).content.decode()
    start = html.index('id="improvement-panel"')
    panel = html[start : html.index("</section>", start)]
    assert f'data-improvement="{linked.pk}"' in panel
    assert f'<option value="{other.pk}">' in panel
    assert f'<option value="{linked.pk}">' not in panel
    assert f'<option value="{done.pk}">' not in panel
    assert f"{CREATE}?complaint={complaint.pk}" in panel


def test_link_from_the_panel_and_twice_is_a_no_op(client, org, make_complaint, create_action):
    complaint = make_complaint("in_progress")
    action = create_action()
    url = reverse("complaints:improvement-link", args=[complaint.pk])
    client.force_login(org.agent)

    response = client.post(url, {"action": action.pk})
    assert response.status_code == 302
    assert response.url == reverse("complaints:staff-detail", args=[complaint.pk])
    assert f"{complaint.tracking_number} linked to “{action.title}”." in _messages(response)
    again = client.post(url, {"action": action.pk})
    assert "already linked" in _messages(again)[-1]
    assert list(action.complaints.all()) == [complaint]
    assert complaint.events.filter(kind="improvement").count() == 1


def test_link_a_complaint_the_agent_may_not_see_is_404(client, org, make_complaint, create_action):
    complaint = make_complaint("triaged")  # team A's
    action = create_action()
    client.force_login(org.agent_b)
    url = reverse("complaints:improvement-link", args=[complaint.pk])
    assert client.post(url, {"action": action.pk}).status_code == 404
    assert not action.complaints.exists()


def test_link_to_a_done_action_is_refused_with_a_message(
    client, org, make_complaint, create_action
):
    complaint = make_complaint("in_progress")
    action = create_action(make_complaint("triaged"), owner_team=org.team)
    improvements.improvement_set_status(action=action, actor=org.agent, status="in_progress")
    improvements.improvement_set_status(
        action=action, actor=org.agent, status="done", outcome="Done."
    )
    client.force_login(org.agent)
    response = client.post(
        reverse("complaints:improvement-link", args=[complaint.pk]), {"action": action.pk}
    )
    assert response.status_code == 302
    assert "open or in-progress" in _messages(response)[0]
    assert not action.complaints.filter(pk=complaint.pk).exists()


def test_link_to_a_done_action_the_agent_cannot_see_is_404(
    client, org, make_complaint, create_action
):
    complaint = make_complaint("in_progress")
    action = create_action(owner_team=org.team_b)
    improvements.improvement_set_status(action=action, actor=org.supervisor, status="in_progress")
    improvements.improvement_set_status(
        action=action, actor=org.supervisor, status="done", outcome="Done."
    )
    client.force_login(org.agent)
    url = reverse("complaints:improvement-link", args=[complaint.pk])
    assert client.post(url, {"action": action.pk}).status_code == 404
    assert client.post(url, {"action": "x"}).status_code == 404


def test_unlink_from_the_detail_page(client, org, make_complaint, create_action):
    complaint = make_complaint("in_progress")
    action = create_action(complaint)
    client.force_login(org.agent)
    response = client.post(
        reverse("complaints:improvement-unlink", args=[action.pk, complaint.pk]),
        {"next": _detail(action)},
    )
    assert response.url == _detail(action)
    assert not action.complaints.exists()


# --- Status forms -------------------------------------------------------------------------


def test_status_forms_done_needs_an_outcome_then_verify(client, org, make_complaint, create_action):
    action = create_action(
        make_complaint("in_progress"), owner_team=org.team, notify_customers=True
    )
    client.force_login(org.agent)
    client.post(_status_url(action), {"status": "in_progress"})
    refused = client.post(_status_url(action), {"status": "done", "outcome": " "})
    assert "Describe what was done before marking it done." in _messages(refused)
    action.refresh_from_db()
    assert action.status == Status.IN_PROGRESS

    OutboxMessage.objects.all().delete()
    done = client.post(_status_url(action), {"status": "done", "outcome": "Fixed the lids."})
    assert done.url == _detail(action)
    action.refresh_from_db()
    assert action.status == Status.DONE
    assert OutboxMessage.objects.count() == 1

    not_yours = client.post(_status_url(action), {"status": "verified"})
    assert "Only a supervisor may verify" in _messages(not_yours)[-1]
    client.force_login(org.supervisor)
    ok = client.post(_status_url(action), {"status": "verified"})
    assert "is now: Verified." in _messages(ok)[-1]
    action.refresh_from_db()
    assert action.verified_by == org.supervisor
    bad = client.post(_status_url(action), {"status": "nonsense"})
    assert "Choose a valid status" in _messages(bad)[-1]


# --- Tag and admin ------------------------------------------------------------------------


def test_the_overdue_count_tag(org, create_action):
    late = create_action(owner_team=org.team)
    _make_overdue(late)
    create_action(owner_team=org.team_b)
    template = Template("{% load improvement_tags %}{% improvements_overdue_count user %}")
    assert template.render(Context({"user": org.supervisor})) == "1"
    assert template.render(Context({"user": org.agent_b})) == "0"
    assert template.render(Context({"user": org.outsider})) == "0"


def test_the_admin_is_read_only_with_the_linked_complaints(
    client, org, make_complaint, create_action
):
    complaint = make_complaint("in_progress")
    action = create_action(complaint)
    client.force_login(org.admin)
    changelist = client.get(reverse("admin:complaints_improvementaction_changelist"))
    assert changelist.status_code == 200
    assert action.title in changelist.content.decode()
    change = client.get(reverse("admin:complaints_improvementaction_change", args=[action.pk]))
    assert change.status_code == 200
    assert complaint.tracking_number in change.content.decode()
    assert client.get(reverse("admin:complaints_improvementaction_add")).status_code == 403
    history = client.get(reverse("admin:complaints_improvementaction_history", args=[action.pk]))
    assert history.status_code == 200
