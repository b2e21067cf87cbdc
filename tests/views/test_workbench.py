"""The workbench screens: recording phone and in-store complaints, notifications,
workload, bulk actions and saved filters."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from complaints.models import Complaint, Customer, Notification, SavedFilter, StatusChange
from complaints.services import inapp
from complaints.services import transitions as t
from complaints.views.workbench import _TOKENS, BULK_ACTIONS, record
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

RECORD = reverse("complaints:staff-record")


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- Recording a phone or in-store complaint ----------------------------------------------


def _record_form(client) -> dict:
    """The fields of a freshly opened record form, filled in."""
    response = client.get(RECORD)
    assert response.status_code == 200
    return {
        "form_token": response.context["form"]["form_token"].value(),
        "channel": "phone",
        "customer_name": "王芳",
        "phone": "138 0013 8000",
        "email": "",
        "order_number": "SO-123",
        "title": "电水壶漏水 Kettle leaks",
        "description": "买了一周就漏水。",
        "demand": "replacement",
        "demand_detail": "换新",
    }


def test_record_phone_complaint_for_a_known_customer(client, org):
    known = CustomerFactory(name="王芳", phone="+8613800138000", email="")
    client.force_login(org.agent)
    data = _record_form(client)
    response = client.post(RECORD, data)

    complaint = Complaint.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("complaints:staff-detail", args=[complaint.pk])
    assert any(complaint.tracking_number in m for m in _messages(response))
    # The phone typed with spaces and without +86 found the stored customer.
    assert complaint.customer == known
    assert Customer.objects.count() == 1
    assert (complaint.channel, complaint.status, complaint.order_number) == (
        "phone",
        "new",
        "SO-123",
    )
    assert (complaint.demand, complaint.demand_detail) == ("replacement", "换新")
    change = StatusChange.objects.get(complaint=complaint)
    assert (change.transition, change.from_status, change.to_status, change.actor) == (
        "receive",
        "",
        "new",
        org.agent,
    )
    history = complaint.history.get()
    assert history.history_user == org.agent
    assert complaint.events.get().kind == "received"


def test_record_in_store_complaint_creates_the_customer(client, org):
    client.force_login(org.agent)
    data = _record_form(client) | {
        "channel": "in_store",
        "phone": "",
        "email": "Fang@Example.com",
    }
    response = client.post(RECORD, data)
    assert response.status_code == 302
    complaint = Complaint.objects.get()
    assert complaint.channel == "in_store"
    assert complaint.customer.email == "fang@example.com"


def test_record_refuses_other_channels(client, org):
    client.force_login(org.agent)
    data = _record_form(client) | {"channel": "web"}
    response = client.post(RECORD, data)
    assert response.status_code == 200
    assert "channel" in response.context["form"].errors
    assert not Complaint.objects.exists()


def test_record_without_phone_or_email_says_so_and_creates_nothing(client, org):
    client.force_login(org.agent)
    data = _record_form(client) | {"phone": "", "email": ""}
    response = client.post(RECORD, data)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Enter the customer&#x27;s phone number or email address (at least one)" in body
    assert not Complaint.objects.exists()
    assert not Customer.objects.exists()
    # The form keeps what was typed and its token, so it can be corrected and sent.
    assert response.context["form"]["form_token"].value() == data["form_token"]
    assert "电水壶漏水" in body


def test_reposted_form_token_redirects_to_the_complaint_already_created(client, org):
    client.force_login(org.agent)
    data = _record_form(client)
    first = client.post(RECORD, data)
    complaint = Complaint.objects.get()
    second = client.post(RECORD, data)
    assert Complaint.objects.count() == 1
    assert StatusChange.objects.count() == 1
    assert second.status_code == 302
    assert second.url == first.url == reverse("complaints:staff-detail", args=[complaint.pk])
    assert any(
        "already recorded" in m and complaint.tracking_number in m for m in _messages(second)
    )


def test_double_click_waiting_on_a_stale_session_finds_the_first_complaint(client, org):
    """The second request of a double click loaded the session before the first saved
    it: it must still find the token used, once it gets the lock."""
    client.force_login(org.agent)
    data = _record_form(client)
    stale = SessionStore(client.session.session_key)
    assert stale[_TOKENS][data["form_token"]] == 0  # loaded before the first post
    first = client.post(RECORD, data)
    assert first.status_code == 302

    request = RequestFactory().post(RECORD, data)
    request.user, request.session = org.agent, stale
    request._messages = FallbackStorage(request)
    response = record(request)
    assert Complaint.objects.count() == 1
    assert response.status_code == 302
    assert response.url == first.url


def test_each_opened_form_records_its_own_complaint(client, org):
    client.force_login(org.agent)
    first, second = _record_form(client), _record_form(client)
    assert first["form_token"] != second["form_token"]
    client.post(RECORD, first)
    client.post(RECORD, second)
    assert Complaint.objects.count() == 2


def test_unknown_form_token_records_nothing_and_offers_a_fresh_form(client, org):
    client.force_login(org.agent)
    data = _record_form(client) | {"form_token": "forged-or-expired"}
    response = client.post(RECORD, data)
    assert response.status_code == 200
    assert not Complaint.objects.exists()
    new_token = response.context["form"]["form_token"].value()
    assert new_token != "forged-or-expired"
    assert any("expired" in m for m in _messages(response))
    assert client.post(RECORD, data | {"form_token": new_token}).status_code == 302
    assert Complaint.objects.count() == 1


def test_lookup_shows_the_customers_open_complaints_the_user_may_see(client, org, make_complaint):
    customer = CustomerFactory(phone="+8613800138000")
    mine = make_complaint("triaged", customer=customer)  # team A
    closed = make_complaint("closed", customer=customer)
    other_team = make_complaint("new", customer=customer)
    t.complaint_triage(
        complaint=other_team, actor=org.supervisor, category=org.category_b, priority=org.p3
    )
    url = reverse("complaints:staff-record-lookup")

    client.force_login(org.agent)
    body = client.get(url, {"phone": "138-0013-8000"}).content.decode()
    assert mine.tracking_number in body
    assert closed.tracking_number not in body
    assert other_team.tracking_number not in body  # team B: not visible to this agent

    body = client.get(url, {"phone": "139 0000 0000"}).content.decode()
    assert 'data-match="none"' in body
    body = client.get(url, {"phone": "12"}).content.decode()
    assert "data-match" not in body


def test_record_pages_need_a_staff_role(client, org):
    assert client.get(RECORD).status_code == 302  # to the login page
    client.force_login(org.outsider)
    assert client.get(RECORD).status_code == 403
    assert client.get(reverse("complaints:staff-record-lookup")).status_code == 403


# --- Notifications --------------------------------------------------------------------------


@pytest.fixture
def notes(org, make_complaint):
    complaint = make_complaint("assigned")
    # Assigning it told the agent already: start from nothing unread.
    assert inapp.notifications_mark_read(user=org.agent) == 1
    older = inapp.notify(user=org.agent, kind="assigned", complaint=complaint, text="older <b>")
    newer = inapp.notify(user=org.agent, kind="mentioned", complaint=complaint, text="newer")
    foreign = inapp.notify(user=org.agent2, kind="assigned", complaint=complaint, text="theirs")
    return complaint, older, newer, foreign


def test_notifications_list_the_users_own_newest_first(client, org, notes):
    _complaint, older, _newer, _foreign = notes
    client.force_login(org.agent)
    response = client.get(reverse("complaints:staff-notifications"))
    body = response.content.decode()
    assert response.status_code == 200
    assert body.index("newer") < body.index("older &lt;b&gt;")
    assert "theirs" not in body
    assert body.count("list-group-item-action unread") == 2
    assert reverse("complaints:staff-notification-open", args=[older.pk]) in body


def test_opening_a_notification_marks_it_read_and_goes_to_the_complaint(client, org, notes):
    complaint, older, newer, _foreign = notes
    client.force_login(org.agent)
    response = client.get(reverse("complaints:staff-notification-open", args=[older.pk]))
    assert response.status_code == 302
    assert response.url == reverse("complaints:staff-detail", args=[complaint.pk])
    older.refresh_from_db()
    newer.refresh_from_db()
    assert older.read_at is not None
    assert newer.read_at is None
    body = client.get(reverse("complaints:staff-notifications")).content.decode()
    assert body.count("list-group-item-action unread") == 1


def test_another_users_notification_is_not_found(client, org, notes):
    _complaint, _older, _newer, foreign = notes
    client.force_login(org.agent)
    response = client.get(reverse("complaints:staff-notification-open", args=[foreign.pk]))
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.read_at is None


def test_mark_all_read_is_a_post_and_touches_only_the_users_own(client, org, notes):
    *_, foreign = notes
    client.force_login(org.agent)
    url = reverse("complaints:staff-notifications-read")
    assert client.get(url).status_code == 405
    response = client.post(url)
    assert response.status_code == 302
    assert any("2 notifications marked as read" in m for m in _messages(response))
    assert not Notification.objects.filter(user=org.agent, read_at__isnull=True).exists()
    foreign.refresh_from_db()
    assert foreign.read_at is None


# --- Workload --------------------------------------------------------------------------------


def _owned(org, make_complaint, assignee, priority, *, overdue=False, state="assigned"):
    """A complaint owned by `assignee`; overdue ones were received long ago."""
    received = timezone.now() - timedelta(days=10) if overdue else timezone.now()
    complaint = make_complaint("new", received_at=received)
    category = org.category if assignee != org.agent_b else org.category_b
    t.complaint_triage(
        complaint=complaint, actor=org.supervisor, category=category, priority=priority
    )
    t.complaint_assign(complaint=complaint, actor=org.supervisor, assignee=assignee)
    if state in ("in_progress", "awaiting_customer"):
        t.complaint_start(complaint=complaint, actor=assignee)
    if state == "awaiting_customer":
        t.complaint_await_customer(complaint=complaint, actor=assignee, question="Photo?")
    return complaint


def _rows(response) -> dict:
    codes = [p.code for p in response.context["priorities"]]
    rows = {}
    for team in response.context["teams"]:
        for m in team["members"]:
            rows[(team["team"].code, m["user"].username)] = {
                **dict(zip(codes, m["by_priority"], strict=True)),
                "total": m["total"],
                "overdue": m["overdue"],
                "away": m["is_away"],
            }
    return rows


def test_workload_counts_open_owned_complaints_by_priority(client, org, make_complaint):
    _owned(org, make_complaint, org.agent, org.p1, overdue=True)
    _owned(org, make_complaint, org.agent, org.p3, state="in_progress")
    _owned(org, make_complaint, org.agent, org.p3, state="awaiting_customer", overdue=True)
    make_complaint("resolved")  # owned by agent, but not open work
    make_complaint("triaged")  # nobody's yet
    _owned(org, make_complaint, org.agent2, org.p3)
    _owned(org, make_complaint, org.agent_b, org.p1)
    org.agent2.is_away = True
    org.agent2.save(update_fields=["is_away"])

    client.force_login(org.supervisor)
    response = client.get(reverse("complaints:staff-workload"))
    assert response.status_code == 200
    rows = _rows(response)
    zero = {"P1": 0, "P2": 0, "P3": 0, "P4": 0}
    assert rows[("front-a", "agent")] == zero | {
        "P1": 1,
        "P3": 2,
        "total": 3,
        "overdue": 2,
        "away": False,
    }
    assert rows[("front-a", "agent2")] == zero | {"P3": 1, "total": 1, "overdue": 0, "away": True}
    assert rows[("front-a", "supervisor")] == zero | {"total": 0, "overdue": 0, "away": False}
    assert rows[("front-b", "agent_b")] == zero | {"P1": 1, "total": 1, "overdue": 0, "away": False}
    # Departments are not front-line teams.
    assert not any(team == "tech" for team, _user in rows)
    team_a = next(r for r in response.context["teams"] if r["team"].code == "front-a")
    assert team_a["totals"]["total"] == 4
    assert team_a["totals"]["overdue"] == 2
    assert 'data-user="agent2" class="away"' in response.content.decode()


def test_workload_is_for_supervisors(client, org):
    url = reverse("complaints:staff-workload")
    client.force_login(org.agent)
    assert client.get(url).status_code == 403
    client.force_login(org.responder)
    assert client.get(url).status_code == 403
    client.force_login(org.admin)
    assert client.get(url).status_code == 200


def test_workload_query_count_does_not_grow_with_complaints(
    client, org, make_complaint, django_assert_max_num_queries, django_assert_num_queries
):
    _owned(org, make_complaint, org.agent, org.p1)
    client.force_login(org.supervisor)
    url = reverse("complaints:staff-workload")
    client.get(url)  # configuration read once (config_cache)
    with django_assert_max_num_queries(15) as few:
        client.get(url)
    few_count = len(few.captured_queries)  # the next request resets the log
    for priority in (org.p1, org.p3, org.p3):
        _owned(org, make_complaint, org.agent2, priority, overdue=True)
        _owned(org, make_complaint, org.agent_b, priority)
    client.get(url)  # configuration read once (config_cache)
    with django_assert_num_queries(few_count):
        response = client.get(url)
    assert _rows(response)[("front-a", "agent2")]["overdue"] == 3


# --- Bulk actions ----------------------------------------------------------------------------

BULK = reverse("complaints:staff-bulk")


def _options(body: str) -> list[str]:
    start = body.index('name="action"')
    select = body[start : body.index("</select>", start)]
    return [part.split('"', 1)[0] for part in select.split('<option value="')[1:] if part[0] != '"']


def test_queue_shows_the_bulk_actions_the_user_may_use(client, org):
    client.force_login(org.agent)
    agent_options = _options(client.get("/queue/team/").content.decode())
    assert agent_options == ["claim", "start", "release", "close", "reopen"]
    client.force_login(org.supervisor)
    body = client.get("/queue/team/").content.decode()
    assert _options(body) == list(BULK_ACTIONS)
    assert f'formaction="{BULK}"' in body
    assert reverse("complaints:staff-bulk-assignees") in body


def test_bulk_claim_from_the_queue_reports_each_complaint(client, org, make_complaint):
    ok = make_complaint("triaged", title="<i>ok</i>")
    other_team = make_complaint("new")
    t.complaint_triage(
        complaint=other_team, actor=org.supervisor, category=org.category_b, priority=org.p3
    )
    taken = make_complaint("assigned")
    taken_version = taken.version
    client.force_login(org.agent)
    response = client.post(
        BULK,
        {"ids": [ok.pk, other_team.pk, taken.pk], "action": "claim", "next": "/queue/team/"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "1 of 3 complaints changed." in body
    assert ok.tracking_number in body
    assert "&lt;i&gt;ok&lt;/i&gt;" in body
    assert other_team.tracking_number not in body
    assert f"#{other_team.pk}" in body
    assert "No such complaint, or you may not see it." in body
    assert "cannot be changed by “Assign”" in body
    assert 'href="/queue/team/"' in body
    ok.refresh_from_db()
    other_team.refresh_from_db()
    taken.refresh_from_db()
    assert (ok.status, ok.assignee) == ("assigned", org.agent)
    assert other_team.status == "triaged"
    assert taken.version == taken_version


def test_bulk_close_by_an_agent_shows_the_refusal_per_complaint(client, org, make_complaint):
    first, second = make_complaint("resolved"), make_complaint("resolved")
    client.force_login(org.agent)
    response = client.post(
        BULK, {"ids": [first.pk, second.pk], "action": "close", "reason": "Customer happy"}
    )
    body = response.content.decode()
    assert "0 of 2 complaints changed." in body
    assert body.count("Only the system (loop complete) and supervisors") == 2
    assert set(
        Complaint.objects.filter(pk__in=[first.pk, second.pk]).values_list("status", flat=True)
    ) == {"resolved"}


def test_bulk_request_with_201_ids_is_refused(client, org, make_complaint):
    complaint = make_complaint("triaged")
    client.force_login(org.agent)
    ids = [complaint.pk, *range(50_000, 50_200)]
    response = client.post(BULK, {"ids": ids, "action": "claim", "next": "/queue/team/"})
    assert response.status_code == 302
    assert response.url == "/queue/team/"
    assert any("at most 200" in m and "201" in m for m in _messages(response))
    complaint.refresh_from_db()
    assert complaint.status == "triaged"


def test_bulk_action_needing_a_reason_is_refused_without_one(client, org, make_complaint):
    complaint = make_complaint("assigned")
    client.force_login(org.agent)
    response = client.post(BULK, {"ids": [complaint.pk], "action": "release", "reason": "  "})
    assert response.status_code == 302
    assert any("needs this" in m for m in _messages(response))
    complaint.refresh_from_db()
    assert complaint.status == "assigned"
    response = client.post(
        BULK, {"ids": [complaint.pk], "action": "release", "reason": "Needs billing"}
    )
    assert response.status_code == 200
    complaint.refresh_from_db()
    assert (complaint.status, complaint.status_reason) == ("triaged", "Needs billing")


def test_supervisor_only_bulk_actions_are_refused_to_agents(client, org, make_complaint):
    complaint = make_complaint("triaged")
    client.force_login(org.agent)
    for data in (
        {"action": "reject", "reason": "Spam", "recourse": "12315"},
        {"action": "assign", "assignee": org.agent2.pk},
    ):
        response = client.post(BULK, {"ids": [complaint.pk], **data})
        assert response.status_code == 302
        assert any("not one of the available choices" in m for m in _messages(response))
    complaint.refresh_from_db()
    assert complaint.status == "triaged"
    assert client.get(reverse("complaints:staff-bulk-assignees")).status_code == 403


def test_supervisor_bulk_assigns_and_rejects(client, org, make_complaint):
    first, second, spam = (make_complaint("triaged") for _ in range(3))
    client.force_login(org.supervisor)
    options = client.get(reverse("complaints:staff-bulk-assignees")).content.decode()
    assert f'value="{org.agent2.pk}"' in options
    assert "Front line A" in options
    response = client.post(
        BULK, {"ids": [first.pk, second.pk], "action": "assign", "assignee": org.agent2.pk}
    )
    assert "2 of 2 complaints changed." in response.content.decode()
    response = client.post(
        BULK, {"ids": [spam.pk], "action": "reject", "reason": "Advertising", "recourse": "12315"}
    )
    assert "1 of 1 complaint changed." in response.content.decode()
    spam.refresh_from_db()
    assert (spam.status, spam.recourse) == ("rejected", "12315")
    assert set(
        Complaint.objects.filter(pk__in=[first.pk, second.pk]).values_list("assignee", flat=True)
    ) == {org.agent2.pk}


def test_bulk_needs_a_selection_a_post_and_a_local_next(client, org, make_complaint):
    complaint = make_complaint("triaged")
    client.force_login(org.agent)
    assert client.get(BULK).status_code == 405
    response = client.post(BULK, {"action": "claim", "next": "https://evil.example/"})
    assert response.status_code == 302
    assert response.url == reverse("complaints:staff-home")
    assert any("Select at least one complaint" in m for m in _messages(response))
    complaint.refresh_from_db()
    assert complaint.status == "triaged"


# --- Saved filters ------------------------------------------------------------------------------

SAVE = reverse("complaints:staff-saved-filter-create")


def test_save_filter_keeps_only_known_filter_keys(client, org):
    client.force_login(org.agent)
    response = client.post(
        SAVE,
        {
            "name": "  P1 new  ",
            "queue": "team",
            "query": "status=new&status=triaged&priority=1&page=3&size=25&evil=x&q=",
        },
    )
    saved = SavedFilter.objects.get()
    assert (saved.user, saved.name, saved.queue) == (org.agent, "P1 new", "team")
    assert saved.query == "status=new&status=triaged&priority=1"
    assert response.status_code == 302
    assert response.url == "/queue/team/?status=new&status=triaged&priority=1"
    # The queue lists it as a button.
    body = client.get("/queue/team/").content.decode()
    assert 'href="?status=new&amp;status=triaged&amp;priority=1">P1 new</a>' in body


def test_saved_filter_names_are_unique_per_user(client, org):
    SavedFilter.objects.create(user=org.agent2, name="Mine", queue="mine", query="")
    client.force_login(org.agent)
    assert client.post(SAVE, {"name": "Mine", "queue": "mine", "query": ""}).status_code == 302
    response = client.post(SAVE, {"name": "Mine", "queue": "team", "query": "status=new"})
    assert any("already have a saved filter called “Mine”" in m for m in _messages(response))
    assert SavedFilter.objects.filter(user=org.agent).count() == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "queue": "mine"}, "This field is required"),
        ({"name": "x" * 81, "queue": "mine"}, "at most 80 characters"),
        ({"name": "All", "queue": "all"}, "Unknown queue"),  # supervisors only
        ({"name": "Bad", "queue": "nope"}, "Unknown queue"),
    ],
)
def test_saved_filter_input_is_validated(client, org, data, message):
    client.force_login(org.agent)
    response = client.post(SAVE, data)
    assert response.status_code == 302
    assert any(message in m for m in _messages(response))
    assert not SavedFilter.objects.exists()


def test_at_most_50_saved_filters_per_user(client, org):
    for n in range(50):
        SavedFilter.objects.create(user=org.agent, name=f"f{n}", queue="mine", query="")
    client.force_login(org.agent)
    response = client.post(SAVE, {"name": "one more", "queue": "mine", "query": ""})
    assert any("50 saved filters" in m for m in _messages(response))
    assert SavedFilter.objects.filter(user=org.agent).count() == 50


def test_delete_saved_filter_only_ones_own(client, org):
    mine = SavedFilter.objects.create(user=org.agent, name="Mine", queue="team", query="")
    theirs = SavedFilter.objects.create(user=org.agent2, name="Theirs", queue="team", query="")
    client.force_login(org.agent)
    delete = "complaints:staff-saved-filter-delete"
    assert client.get(reverse(delete, args=[mine.pk])).status_code == 405
    assert client.post(reverse(delete, args=[theirs.pk])).status_code == 404
    assert SavedFilter.objects.filter(pk=theirs.pk).exists()
    response = client.post(reverse(delete, args=[mine.pk]))
    assert response.status_code == 302
    assert response.url == "/queue/team/"
    assert not SavedFilter.objects.filter(pk=mine.pk).exists()


def test_save_filter_fragment(org):
    SavedFilter.objects.create(user=org.agent, name="<b>hot</b>", queue="team", query="")
    request = RequestFactory().get("/queue/team/", {"status": "new", "page": "2"})
    request.user = org.agent
    html = render_to_string(
        "complaints/staff/_workbench_save_filter.html",
        {"current_queue": "team", "saved_filters": SavedFilter.objects.filter(user=org.agent)},
        request=request,
    )
    assert f'action="{SAVE}"' in html
    assert 'name="query" value="status=new&amp;page=2"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert "&lt;b&gt;hot&lt;/b&gt;" in html
    assert "<b>hot</b>" not in html
