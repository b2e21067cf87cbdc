"""The complaint detail page: header, customer card, timeline, actions, replies and
notes, attachments, reclassification, presence and optimistic concurrency."""

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from complaints import selectors
from complaints.models import (
    Attachment,
    Complaint,
    ComplaintEvent,
    Customer,
    Notification,
    StatusChange,
)
from complaints.services import attachments, messages
from complaints.services import transitions as t
from complaints.services.editing import complaint_update
from complaints.services.inapp import presence_touch
from tests.factories import CategoryFactory, CustomerFactory, ProductFactory
from tests.support import png, png_bytes

pytestmark = pytest.mark.django_db
Kind = ComplaintEvent.Kind


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def detail_url(complaint) -> str:
    return reverse("complaints:staff-detail", args=[complaint.pk])


def transition_url(complaint, name: str) -> str:
    return reverse("complaints:staff-transition", args=[complaint.pk, name])


def page_stamp(client, complaint) -> dict:
    """The version and last event the page shows in its forms, as a browser posts them."""
    body = client.get(detail_url(complaint)).content.decode()
    version = re.search(r'name="version" value="(\d+)"', body).group(1)
    seen = re.search(r'name="seen" value="(\d+)"', body).group(1)
    return {"version": version, "seen": seen}


def event_item(body: str, event) -> str:
    match = re.search(rf'<li class="[^"]*" id="event-{event.pk}".*?</li>', body, re.S)
    assert match, f"event {event.pk} not on the page"
    return match.group(0)


def refreshed(complaint) -> Complaint:
    return Complaint.objects.get(pk=complaint.pk)


# --- The page ----------------------------------------------------------------------------------


def test_detail_shows_header_customer_card_and_other_complaints(client, org, make_complaint):
    customer = CustomerFactory(
        name="Wang Fang", phone="+8613800000001", email="wang@example.com", tier=Customer.Tier.VIP
    )
    complaint = make_complaint(
        "assigned",
        customer=customer,
        order_number="ORD-778",
        demand_detail="Send a new kettle",
    )
    kettles = CategoryFactory(name="Kettles", code="kettles", parent=org.category)
    complaint_update(
        complaint=complaint, actor=org.supervisor, category=kettles, reason="More precise"
    )
    earlier = make_complaint("closed", customer=customer)
    elsewhere = make_complaint("new", customer=customer)  # team B: not visible to agent
    t.complaint_triage(
        complaint=elsewhere, actor=org.supervisor, category=org.category_b, priority=org.p3
    )
    client.force_login(org.agent)

    response = client.get(detail_url(complaint))

    assert response.status_code == 200
    body = response.content.decode()
    header = body[body.index('id="complaint-header"') : body.index('id="timeline"')]
    for text in (
        complaint.tracking_number,
        "Kettle stopped working",
        "Assigned",
        "P3",
        "Product quality / Kettles",
        "Web form",
        "Front line A",
        "agent",
        "Replacement",
        "Send a new kettle",
        "ORD-778",
        "Resolve by",
        "Escalation level",
    ):
        assert text in header, text
    card = body[
        body.index('id="customer-card"') : body.index(
            "</section>", body.index('id="customer-card"')
        )
    ]
    for text in ("Wang Fang", "+86 138****0001", "w***@example.com", "VIP", "Repeat complainer"):
        assert text in card, text
    assert earlier.tracking_number in card
    assert elsewhere.tracking_number not in card
    assert complaint.tracking_number not in card


def test_old_other_complaints_are_listed_without_the_repeat_badge(client, org, make_complaint):
    customer = CustomerFactory()
    old = make_complaint("new", customer=customer, received_at=timezone.now() - timedelta(days=200))
    complaint = make_complaint("new", customer=customer)
    client.force_login(org.agent)
    body = client.get(detail_url(complaint)).content.decode()
    assert old.tracking_number in body
    assert "Repeat complainer" not in body


def test_timeline_tells_internal_notes_from_customer_visible_events(client, org, make_complaint):
    complaint = make_complaint("in_progress")
    note = messages.complaint_add_note(complaint=complaint, actor=org.agent2, body="Call him back")
    reply = messages.complaint_reply(complaint=complaint, actor=org.agent, body="We are on it")
    client.force_login(org.agent)

    body = client.get(detail_url(complaint)).content.decode()

    note_item = event_item(body, note)
    assert re.search(r'class="[^"]*\binternal\b', note_item)
    assert "Internal" in note_item and "Call him back" in note_item and "agent2" in note_item
    reply_item = event_item(body, reply)
    assert re.search(r'class="[^"]*\bcustomer\b', reply_item)
    assert "Visible to the customer" in reply_item and "Internal" not in reply_item
    received = complaint.events.get(kind=Kind.RECEIVED)
    assert "from-customer" in event_item(body, received)
    start = complaint.events.filter(kind=Kind.STATUS_CHANGED).last()
    assert "Assigned" in event_item(body, start) and "In progress" in event_item(body, start)
    # Oldest first.
    assert body.index(f'id="event-{received.pk}"') < body.index(f'id="event-{note.pk}"')
    assert body.index(f'id="event-{note.pk}"') < body.index(f'id="event-{reply.pk}"')


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("agent", {"await_customer", "reassign", "release", "resolve", "merge"}),
        ("supervisor", {"reassign", "release", "resolve", "merge"}),
        ("agent2", {"merge"}),
    ],
)
def test_action_buttons_are_the_users_transitions(client, org, make_complaint, who, expected):
    complaint = make_complaint("in_progress")
    user = getattr(org, who)
    client.force_login(user)
    body = client.get(detail_url(complaint)).content.decode()
    shown = set(re.findall(r'data-action="(\w+)"', body))
    available = selectors.complaint_available_transitions(complaint=complaint, user=user)
    assert shown == {rule.name for rule in available} == expected


def test_agent_gets_a_claim_button_on_a_triaged_complaint(client, org, make_complaint):
    complaint = make_complaint("triaged")
    client.force_login(org.agent)
    body = client.get(detail_url(complaint)).content.decode()
    button = re.search(r'<button[^>]*data-action="assign"[^>]*>([^<]*)</button>', body)
    assert button and button.group(1) == "Claim"
    client.force_login(org.supervisor)
    body = client.get(detail_url(complaint)).content.decode()
    assert re.search(r'<a [^>]*data-action="assign"', body)  # opens the assign form


def test_transition_form_asks_exactly_the_rules_inputs(client, org, make_complaint):
    complaint = make_complaint("in_progress")
    client.force_login(org.agent)
    response = client.get(transition_url(complaint, "resolve"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    names = set(re.findall(r'<(?:input|select|textarea)[^>]*name="(\w+)"', body))
    assert names == {"csrfmiddlewaretoken", "version", "seen", "summary", "root_cause", "remedy"}
    assert 'hx-post="' in body and "<html" not in body
    # Without htmx: a whole page with the same form.
    page = client.get(transition_url(complaint, "resolve")).content.decode()
    assert "<html" in page and 'name="root_cause"' in page


def test_transition_form_for_a_transition_not_offered_says_so(client, org, make_complaint):
    complaint = make_complaint("in_progress")
    client.force_login(org.agent2)
    response = client.get(transition_url(complaint, "resolve"), HTTP_HX_REQUEST="true")
    assert response.status_code == 409
    assert "not possible" in response.content.decode()
    assert client.get(transition_url(complaint, "fly")).status_code == 404


# --- Transitions -------------------------------------------------------------------------------


def test_start(client, org, make_complaint):
    complaint = make_complaint("assigned")
    client.force_login(org.agent)
    response = client.post(transition_url(complaint, "start"), page_stamp(client, complaint))
    assert response.status_code == 302
    assert response.url == detail_url(complaint)
    assert refreshed(complaint).status == "in_progress"
    change = StatusChange.objects.filter(complaint=complaint).last()
    assert (change.transition, change.actor) == ("start", org.agent)
    followed = client.get(response.url).content.decode()
    assert "“Start handling” done" in followed


def test_await_customer_with_a_question(
    client, org, make_complaint, mailoutbox, django_capture_on_commit_callbacks
):
    complaint = make_complaint("in_progress")
    client.force_login(org.agent)
    data = {**page_stamp(client, complaint), "question": "Which model is it?"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(transition_url(complaint, "await_customer"), data)
    assert response.status_code == 302
    complaint = refreshed(complaint)
    assert complaint.status == "awaiting_customer"
    assert complaint.status_reason == "Which model is it?"
    event = complaint.events.last()
    assert (event.kind, event.body, event.is_internal) == (
        Kind.REPLY_SENT,
        "Which model is it?",
        False,
    )
    assert len(mailoutbox) == 1 and "Which model is it?" in mailoutbox[0].body


def test_resolve_with_summary_root_cause_and_remedy(client, org, make_complaint):
    complaint = make_complaint("in_progress")
    client.force_login(org.agent)
    data = {
        **page_stamp(client, complaint),
        "summary": "Heating element replaced",
        "root_cause": "product_defect",
        "remedy": "Free repair",
    }
    response = client.post(transition_url(complaint, "resolve"), data)
    assert response.status_code == 302
    complaint = refreshed(complaint)
    assert complaint.status == "resolved"
    assert (complaint.resolution_summary, complaint.root_cause, complaint.remedy_decision) == (
        "Heating element replaced",
        "product_defect",
        "Free repair",
    )
    body = client.get(detail_url(complaint)).content.decode()
    assert "Product defect" in body  # the root cause, readable in the timeline and header


def test_reassign_with_reason_by_the_supervisor(client, org, make_complaint):
    complaint = make_complaint("in_progress")
    client.force_login(org.supervisor)
    data = {**page_stamp(client, complaint), "assignee": org.agent2.pk, "reason": "Agent is ill"}
    response = client.post(transition_url(complaint, "reassign"), data)
    assert response.status_code == 302
    complaint = refreshed(complaint)
    assert (complaint.status, complaint.assignee) == ("assigned", org.agent2)
    change = StatusChange.objects.filter(complaint=complaint).last()
    assert (change.transition, change.reason) == ("reassign", "Agent is ill")
    assert Notification.objects.filter(user=org.agent2, kind="assigned").exists()
    body = client.get(detail_url(complaint)).content.decode()
    item = event_item(body, complaint.events.get(kind=Kind.REASSIGNED))
    assert "agent →" in item and "agent2" in item and "Agent is ill" in item


def test_reassign_offers_only_active_members_of_the_team(client, org, make_complaint):
    complaint = make_complaint("in_progress")
    client.force_login(org.supervisor)
    body = client.get(transition_url(complaint, "reassign"), HTTP_HX_REQUEST="true")
    options = set(re.findall(r'<option value="(\d+)"', body.content.decode()))
    assert options == {
        str(org.agent2.pk),
        str(org.supervisor.pk),
    }  # not agent (current), not agent_b


def test_reject_by_the_supervisor(client, org, make_complaint):
    complaint = make_complaint("triaged")
    client.force_login(org.supervisor)
    data = {**page_stamp(client, complaint), "reason": "Not a complaint", "recourse": "12315"}
    response = client.post(transition_url(complaint, "reject"), data)
    assert response.status_code == 302
    complaint = refreshed(complaint)
    assert (complaint.status, complaint.recourse) == ("rejected", "12315")


def test_merge_by_tracking_number(client, org, make_complaint):
    customer = CustomerFactory()
    duplicate = make_complaint("triaged", customer=customer)
    target = make_complaint("in_progress", customer=customer)
    client.force_login(org.agent)
    stamp = page_stamp(client, duplicate)

    unknown = client.post(transition_url(duplicate, "merge"), {**stamp, "target": "TS-NOPE"})
    assert unknown.status_code == 400
    assert "No other complaint you may see" in unknown.content.decode()

    data = {**stamp, "target": target.tracking_number.lower(), "reason": "Same kettle"}
    response = client.post(transition_url(duplicate, "merge"), data)
    assert response.status_code == 302
    duplicate = refreshed(duplicate)
    assert (duplicate.status, duplicate.merged_into) == ("merged", target)
    assert target.events.filter(kind=Kind.MERGED).exists()


def test_agent_claims_a_triaged_complaint(client, org, make_complaint):
    complaint = make_complaint("triaged")
    client.force_login(org.agent)
    data = {**page_stamp(client, complaint), "assignee": org.agent.pk}
    response = client.post(transition_url(complaint, "assign"), data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response["HX-Redirect"] == detail_url(complaint)
    complaint = refreshed(complaint)
    assert (complaint.status, complaint.assignee) == ("assigned", org.agent)


def test_agent_cannot_claim_for_someone_else(client, org, make_complaint):
    complaint = make_complaint("triaged")
    client.force_login(org.agent)
    data = {**page_stamp(client, complaint), "assignee": org.agent2.pk}
    response = client.post(transition_url(complaint, "assign"), data)
    assert response.status_code == 400
    assert refreshed(complaint).status == "triaged"


def test_failed_condition_returns_the_form_with_the_reason(client, org, make_complaint):
    complaint = make_complaint("in_progress")
    client.force_login(org.agent)
    changes = StatusChange.objects.count()
    data = {**page_stamp(client, complaint), "summary": "Fixed", "remedy": "Repair"}
    response = client.post(transition_url(complaint, "resolve"), data, HTTP_HX_REQUEST="true")
    assert response.status_code == 409
    assert response["HX-Retarget"] == "#action-modal-content"
    body = response.content.decode()
    assert "is not possible yet" in body
    assert '<li class="reason">a resolution summary and a root cause are recorded</li>' in body
    assert 'name="summary"' in body and "Fixed" in body  # the form again, as typed
    complaint = refreshed(complaint)
    assert (complaint.status, complaint.resolution_summary) == ("in_progress", "")
    assert StatusChange.objects.count() == changes


def test_forbidden_transition_returns_403(client, org, make_complaint):
    complaint = make_complaint("assigned")  # to agent
    client.force_login(org.agent2)
    response = client.post(transition_url(complaint, "start"), page_stamp(client, complaint))
    assert response.status_code == 403
    assert "Only the assignee" in response.content.decode()
    assert refreshed(complaint).status == "assigned"


# --- Optimistic concurrency ------------------------------------------------------------------------


def test_stale_version_shows_the_changes_and_saves_nothing(client, org, make_complaint):
    complaint = make_complaint("in_progress")
    client.force_login(org.agent)
    stamp = page_stamp(client, complaint)
    # Meanwhile, the supervisor raises the priority.
    complaint_update(
        complaint=refreshed(complaint), actor=org.supervisor, priority=org.p1, reason="VIP asked"
    )
    data = {**stamp, "summary": "Fixed", "root_cause": "service", "remedy": "Apology"}

    response = client.post(transition_url(complaint, "resolve"), data)

    assert response.status_code == 409
    body = response.content.decode()
    assert "changed by someone else" in body
    assert "VIP asked" in body and "In progress" in body  # what changed, and the status now
    current = refreshed(complaint)
    assert (current.status, current.resolution_summary) == ("in_progress", "")
    # The form comes back with the current version: confirming again now works.
    assert f'name="version" value="{current.version}"' in body
    again = client.post(
        transition_url(complaint, "resolve"),
        {**data, "version": current.version, "seen": current.events.last().pk},
    )
    assert again.status_code == 302
    assert refreshed(complaint).status == "resolved"


def test_conflict_from_the_service_is_shown_the_same_way(client, org, make_complaint, monkeypatch):
    from complaints.errors import ComplaintConflict
    from complaints.views import detail

    def lost_race(**kwargs):
        raise ComplaintConflict()

    complaint = make_complaint("in_progress")
    client.force_login(org.agent)
    monkeypatch.setattr(detail, "complaint_transition", lost_race)
    data = {**page_stamp(client, complaint), "question": "Photo?"}
    response = client.post(transition_url(complaint, "await_customer"), data)
    assert response.status_code == 409
    assert "changed by someone else" in response.content.decode()


def test_reply_after_someone_else_replied_is_not_sent(
    client, org, make_complaint, mailoutbox, django_capture_on_commit_callbacks
):
    complaint = make_complaint("in_progress")
    messages.complaint_reply(complaint=complaint, actor=org.agent, body="First answer")
    client.force_login(org.agent)
    stamp = page_stamp(client, complaint)
    # A colleague's reply does not change the version (first response is already set).
    messages.complaint_reply(complaint=refreshed(complaint), actor=org.agent2, body="I answered")
    replies = complaint.events.filter(kind=Kind.REPLY_SENT).count()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("complaints:staff-reply", args=[complaint.pk]),
            {**stamp, "body": "My answer"},
        )

    assert response.status_code == 409
    body = response.content.decode()
    assert "reply was NOT sent" in body and "I answered" in body
    assert "My answer" in body  # the text typed is kept
    assert complaint.events.filter(kind=Kind.REPLY_SENT).count() == replies
    assert mailoutbox == []


def test_stale_note_is_not_saved_and_keeps_the_text(client, org, make_complaint):
    complaint = make_complaint("in_progress")
    client.force_login(org.agent)
    stamp = page_stamp(client, complaint)
    t.complaint_release(complaint=refreshed(complaint), actor=org.supervisor, reason="Holiday")
    data = {**stamp, "body": "Checked the batch", "files": [png()]}
    response = client.post(reverse("complaints:staff-note", args=[complaint.pk]), data)
    assert response.status_code == 409
    body = response.content.decode()
    assert "nothing was saved" in body and "Holiday" in body and "Triaged" in body
    assert "Checked the batch" in body and "Choose the files again." in body
    assert not complaint.events.filter(kind=Kind.NOTE_ADDED).exists()
    assert not Attachment.objects.exists()


# --- Replies, notes and attachments --------------------------------------------------------------


def test_reply_emails_the_customer_once_and_stamps_first_response(
    client, org, make_complaint, mailoutbox, django_capture_on_commit_callbacks
):
    complaint = make_complaint("in_progress")
    assert complaint.first_response_at is None
    client.force_login(org.agent)
    data = {**page_stamp(client, complaint), "body": "We will replace it.", "files": [png()]}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("complaints:staff-reply", args=[complaint.pk]), data)
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [complaint.customer.email]
    assert "We will replace it." in mailoutbox[0].body
    assert refreshed(complaint).first_response_at is not None
    event = complaint.events.get(kind=Kind.REPLY_SENT)
    assert event.is_internal is False
    attachment = Attachment.objects.get()
    assert (attachment.event, attachment.is_internal) == (event, False)


def test_reply_with_a_refused_file_sends_nothing(
    client, org, make_complaint, mailoutbox, django_capture_on_commit_callbacks, media
):
    complaint = make_complaint("in_progress")
    client.force_login(org.agent)
    fake = SimpleUploadedFile("evil.png", b"<html>not a png</html>", content_type="image/png")
    data = {**page_stamp(client, complaint), "body": "Here you go", "files": [png(), fake]}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("complaints:staff-reply", args=[complaint.pk]), data)
    assert response.status_code == 400
    assert "evil.png" in response.content.decode()
    assert mailoutbox == []
    assert not complaint.events.filter(kind=Kind.REPLY_SENT).exists()
    assert refreshed(complaint).first_response_at is None
    assert not Attachment.objects.exists()
    assert not [p for p in media.rglob("*") if p.is_file()]  # the good file was removed too


def test_note_mentioning_a_colleague_notifies_them(
    client, org, make_complaint, mailoutbox, django_capture_on_commit_callbacks
):
    complaint = make_complaint("in_progress")
    client.force_login(org.agent)
    data = {**page_stamp(client, complaint), "body": "@agent2 can you check the batch?"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("complaints:staff-note", args=[complaint.pk]), data)
    assert response.status_code == 302
    note = complaint.events.get(kind=Kind.NOTE_ADDED)
    assert note.is_internal and note.actor == org.agent
    mention = Notification.objects.get(user=org.agent2)
    assert (mention.kind, mention.complaint) == ("mentioned", complaint)
    assert mailoutbox == []


def test_empty_message_is_refused(client, org, make_complaint):
    complaint = make_complaint("in_progress")
    client.force_login(org.agent)
    data = {**page_stamp(client, complaint), "body": "   "}
    response = client.post(reverse("complaints:staff-note", args=[complaint.pk]), data)
    assert response.status_code == 400
    assert not complaint.events.filter(kind=Kind.NOTE_ADDED).exists()


def test_upload_a_png_and_download_it(client, org, make_complaint):
    complaint = make_complaint("in_progress")
    client.force_login(org.agent)
    data = {**page_stamp(client, complaint), "files": [png("照片.png")]}
    response = client.post(reverse("complaints:staff-attachment-upload", args=[complaint.pk]), data)
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    assert (attachment.content_type, attachment.is_internal) == ("image/png", True)
    assert attachment.event.kind == Kind.ATTACHMENT_ADDED

    url = reverse("complaints:staff-attachment-download", args=[attachment.pk])
    assert url in client.get(detail_url(complaint)).content.decode()
    download = client.get(url)
    assert download.status_code == 200
    disposition = download["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=utf-8''%E7%85%A7%E7%89%87.png" in disposition
    assert download["Content-Type"] == "image/png"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert b"".join(download.streaming_content) == png_bytes()


def test_text_disguised_as_png_is_refused(client, org, make_complaint):
    complaint = make_complaint("in_progress")
    client.force_login(org.agent)
    fake = SimpleUploadedFile("photo.png", b"just some text", content_type="image/png")
    data = {**page_stamp(client, complaint), "files": [fake]}
    response = client.post(reverse("complaints:staff-attachment-upload", args=[complaint.pk]), data)
    assert response.status_code == 400
    assert "is not an allowed type" in response.content.decode()
    assert not Attachment.objects.exists()
    assert not complaint.events.filter(kind=Kind.ATTACHMENT_ADDED).exists()


def test_other_team_gets_404_everywhere(client, org, make_complaint):
    complaint = make_complaint("in_progress")  # team A
    attachment = attachments.attachment_add(complaint=complaint, actor=org.agent, upload=png())
    version = complaint.version
    client.force_login(org.agent_b)
    stamp = {"version": version, "seen": complaint.events.last().pk}
    assert client.get(detail_url(complaint)).status_code == 404
    assert client.get(transition_url(complaint, "resolve")).status_code == 404
    download = reverse("complaints:staff-attachment-download", args=[attachment.pk])
    assert client.get(download).status_code == 404
    missing = reverse("complaints:staff-attachment-download", args=[attachment.pk + 1000])
    assert client.get(missing).status_code == 404
    posts = {
        transition_url(complaint, "merge"): {"target": "x"},
        transition_url(complaint, "resolve"): {"summary": "x"},
        reverse("complaints:staff-reply", args=[complaint.pk]): {"body": "x"},
        reverse("complaints:staff-note", args=[complaint.pk]): {"body": "x"},
        reverse("complaints:staff-attachment-upload", args=[complaint.pk]): {"files": [png()]},
        reverse("complaints:staff-reclassify", args=[complaint.pk]): {"reason": "x"},
        reverse("complaints:staff-presence", args=[complaint.pk]): {},
    }
    events = complaint.events.count()
    for url, data in posts.items():
        assert client.post(url, {**stamp, **data}).status_code == 404, url
    assert complaint.events.count() == events
    assert refreshed(complaint).version == version


def test_writes_are_post_only(client, org, make_complaint):
    complaint = make_complaint("in_progress")
    client.force_login(org.agent)
    for name in ("staff-reply", "staff-note", "staff-reclassify", "staff-presence"):
        assert client.get(reverse(f"complaints:{name}", args=[complaint.pk])).status_code == 405


# --- Reclassify and presence -----------------------------------------------------------------------


def test_reclassify_records_a_field_change_with_the_reason(client, org, make_complaint):
    complaint = make_complaint("in_progress")
    product = ProductFactory(name="Kettle K2")
    client.force_login(org.agent)
    stamp = page_stamp(client, complaint)
    url = reverse("complaints:staff-reclassify", args=[complaint.pk])

    no_reason = {**stamp, "category": org.category.pk, "priority": org.p1.pk}
    assert client.post(url, no_reason).status_code == 400
    assert refreshed(complaint).priority == org.p3

    data = {**no_reason, "product": product.pk, "reason": "Burn risk"}
    response = client.post(url, data)
    assert response.status_code == 302
    complaint = refreshed(complaint)
    assert (complaint.priority, complaint.product) == (org.p1, product)
    event = complaint.events.get(kind=Kind.FIELD_CHANGED)
    assert event.body == "Burn risk"
    assert event.data["changes"]["priority_id"]["to"]["id"] == org.p1.pk
    item = event_item(client.get(detail_url(complaint)).content.decode(), event)
    assert "Burn risk" in item and "Kettle K2" in item and "P1" in item and "P3" in item


def test_presence_shows_who_else_has_the_page_open(client, org, make_complaint):
    complaint = make_complaint("in_progress")
    client.force_login(org.agent2)
    client.get(detail_url(complaint))
    client.force_login(org.agent)
    body = client.get(detail_url(complaint)).content.decode()
    assert re.search(r'Also viewing:\s*<span class="badge text-bg-info viewer">agent2</span>', body)
    assert 'hx-trigger="every 20s"' in body

    url = reverse("complaints:staff-presence", args=[complaint.pk])
    fragment = client.post(url, {"version": complaint.version}).content.decode()
    assert "agent2" in fragment and "changed this complaint" not in fragment
    complaint_update(complaint=refreshed(complaint), actor=org.agent2, priority=org.p1)
    fragment = client.post(url, {"version": complaint.version}).content.decode()
    assert "changed this complaint since you opened it" in fragment


def test_presence_forgets_users_who_left(client, org, make_complaint):
    complaint = make_complaint("in_progress")
    presence_touch(complaint=complaint, user=org.agent2)
    complaint.presences.update(seen_at=timezone.now() - timedelta(minutes=5))
    client.force_login(org.agent)
    assert "Also viewing" not in client.get(detail_url(complaint)).content.decode()


# --- Queries and escaping -----------------------------------------------------------------------------


def test_detail_query_count_does_not_grow_with_the_timeline(
    client, org, make_complaint, django_assert_max_num_queries
):
    complaint = make_complaint("new")
    messages.complaint_add_note(complaint=complaint, actor=org.agent, body="First look")
    client.force_login(org.supervisor)
    client.get(detail_url(complaint))  # presence row created once
    with django_assert_max_num_queries(60) as few:
        response = client.get(detail_url(complaint))
    assert response.content.decode().count("data-kind=") == 2

    for i in range(6):
        note = messages.complaint_add_note(complaint=complaint, actor=org.agent2, body=f"n{i}")
        attachments.attachment_add(
            complaint=complaint, actor=org.agent2, upload=png(f"{i}.png"), event=note
        )
        messages.complaint_reply(complaint=complaint, actor=org.agent, body=f"r{i}")
        complaint_update(
            complaint=complaint,
            actor=org.supervisor,
            priority=org.p1 if i % 2 == 0 else org.p3,
            reason=f"c{i}",
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(detail_url(complaint))
    assert response.content.decode().count("data-kind=") == 20


def test_user_text_is_escaped_everywhere(client, org, make_complaint):
    evil = "<script>alert(1)</script>"
    customer = CustomerFactory(name=evil)
    complaint = make_complaint(
        "in_progress", customer=customer, title=evil, description=evil, demand_detail=evil
    )
    messages.complaint_add_note(complaint=complaint, actor=org.agent, body=evil)
    attachments.attachment_add(complaint=complaint, actor=org.agent, upload=png(f"{evil}.png"))
    client.force_login(org.agent)
    body = client.get(detail_url(complaint)).content.decode()
    assert "<script>alert" not in body
    assert body.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 5
