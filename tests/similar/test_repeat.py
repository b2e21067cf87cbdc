"""A customer writing on a closed complaint: within the reopen window it reopens;
later, a new follow-up complaint is opened, linked as a repeat and acknowledged.
Also the status page's explicit "not solved — reopen" form, and mail replies."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse

from complaints import public_links
from complaints.models import (
    Channel,
    Complaint,
    ComplaintEvent,
    InboundMessage,
    MailThread,
    Notification,
    OutboxMessage,
)
from complaints.services import messages, survey
from complaints.services import transitions as t
from tests.factories import CustomerFactory, ProductFactory
from tests.mail.support import CUSTOMER_EMAIL, TRACKING, make_raw, receive, with_tracking_number

pytestmark = pytest.mark.django_db
Kind = ComplaintEvent.Kind
WINDOW = timedelta(days=30)


@pytest.fixture(autouse=True)
def fresh_cache(settings, tmp_path):
    # Rate limits count in the cache; uploads go to a temporary folder.
    settings.MEDIA_ROOT = tmp_path
    settings.COMPLAINT_REOPEN_WINDOW = WINDOW
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def beyond_window(settings):
    """From now on every closed complaint was closed longer ago than the window."""

    def expire():
        settings.COMPLAINT_REOPEN_WINDOW = timedelta(seconds=-1)

    return expire


@pytest.fixture
def closed(make_complaint, org):
    product = ProductFactory(name="Kettle K1")
    return make_complaint("closed", customer=CustomerFactory(email=CUSTOMER_EMAIL), product=product)


def status_url(complaint) -> str:
    return reverse("complaints:public-status", args=[complaint.tracking_number])


def message_url(complaint) -> str:
    return reverse("complaints:public-message", args=[complaint.tracking_number])


def open_status(client, complaint):
    response = client.get(public_links.status_path(complaint))
    assert response.status_code == 302
    return client.get(response.url)


# --- The service --------------------------------------------------------------------------------


def test_within_the_window_the_closed_complaint_is_reopened(closed):
    event = messages.complaint_record_customer_message(complaint=closed, body="Broke again.")
    closed.refresh_from_db()
    assert closed.status == "reopened"
    assert event.complaint == closed
    assert event.kind == Kind.CUSTOMER_MESSAGE
    assert not messages.follow_up_opened(event)
    assert Complaint.objects.count() == 1


def test_after_the_window_a_linked_follow_up_is_opened(closed, org, beyond_window):
    beyond_window()
    event = messages.complaint_record_customer_message(
        complaint=closed, body="The new kettle leaks too.", channel=Channel.EMAIL
    )

    assert messages.follow_up_opened(event)
    new = event.complaint
    assert new.pk != closed.pk
    assert event.kind == Kind.RECEIVED
    assert new.repeat_of == closed
    assert new.customer == closed.customer
    assert new.channel == Channel.EMAIL
    assert new.title.startswith(f"Follow-up to {closed.tracking_number}")
    assert new.description == "The new kettle leaks too."
    assert (new.category, new.product, new.demand) == (
        closed.category,
        closed.product,
        closed.demand,
    )
    assert new.status in ("new", "triaged")
    closed.refresh_from_db()
    assert closed.status == "closed"
    assert closed.reopen_count == 0
    # Both timelines link the two.
    link = {"id": new.pk, "tracking_number": new.tracking_number}
    message = closed.events.get(kind=Kind.CUSTOMER_MESSAGE)
    assert (message.body, message.is_internal, message.data) == (
        "The new kettle leaks too.",
        False,
        {"follow_up": link},
    )
    note = closed.events.get(kind=Kind.NOTE_ADDED, data__follow_up__id=new.pk)
    assert new.tracking_number in note.body
    back = new.events.get(kind=Kind.NOTE_ADDED, data__repeat_of__id=closed.pk)
    assert closed.tracking_number in back.body
    # The customer is acknowledged with the new tracking number.
    ack = OutboxMessage.objects.get(complaint=new)
    assert ack.to == CUSTOMER_EMAIL
    assert new.tracking_number in ack.subject
    assert new.tracking_number in ack.body
    # The agent who handled the old complaint hears of it.
    assert Notification.objects.filter(user=org.agent, complaint=new).exists()


def test_a_second_message_lands_on_the_follow_up(closed, beyond_window):
    beyond_window()
    first = messages.complaint_record_customer_message(complaint=closed, body="Broke again.")
    second = messages.complaint_record_customer_message(complaint=closed, body="Any news?")

    assert Complaint.objects.count() == 2
    new = first.complaint
    assert second.complaint == new
    assert (second.kind, second.body) == (Kind.CUSTOMER_MESSAGE, "Any news?")
    assert second.data == {"via": closed.tracking_number}
    assert not messages.follow_up_opened(second)
    assert OutboxMessage.objects.filter(complaint=new).count() == 1  # one acknowledgment


def test_a_message_on_a_merged_complaint_whose_target_is_long_closed(
    make_complaint, org, beyond_window
):
    customer = CustomerFactory()
    dup = make_complaint("triaged", customer=customer)
    target = make_complaint("in_progress", customer=customer)
    t.complaint_merge(complaint=dup, actor=org.supervisor, target=target)
    t.complaint_resolve(
        complaint=target,
        actor=org.agent,
        summary="Fixed",
        root_cause="product_defect",
        remedy="None",
    )
    survey.survey_submit(complaint=target, rating=5, solved=True)
    beyond_window()

    dup = Complaint.objects.get(pk=dup.pk)  # as a request loads it
    event = messages.complaint_record_customer_message(complaint=dup, body="Broken again")

    assert messages.follow_up_opened(event)
    assert event.complaint.repeat_of == target
    assert dup.events.get(kind=Kind.CUSTOMER_MESSAGE).data["follow_up"]["id"] == event.complaint.pk


# --- The status page ----------------------------------------------------------------------------


def test_status_page_after_the_window_opens_a_follow_up_and_links_it(client, closed, beyond_window):
    beyond_window()
    page = open_status(client, closed).content.decode()
    assert 'id="follow-up-hint"' in page
    assert 'id="reopen-form"' not in page  # too late to reopen this one

    response = client.post(message_url(closed), {"body": "It broke again."}, follow=True)

    new = Complaint.objects.get(repeat_of=closed)
    assert response.redirect_chain[-1][0] == status_url(new) + "#timeline"
    html = response.content.decode()
    assert new.tracking_number in html  # the page of the new complaint, in this session
    assert "was recorded as a new complaint" in html
    assert "It broke again." in html
    old_page = client.get(status_url(closed)).content.decode()
    assert f'href="{status_url(new)}"' in old_page


def test_status_page_within_the_window_reopens_the_same_complaint(client, closed):
    open_status(client, closed)
    response = client.post(message_url(closed), {"body": "It broke again."})
    assert response.url == status_url(closed) + "#timeline"
    closed.refresh_from_db()
    assert closed.status == "reopened"
    assert Complaint.objects.count() == 1


def test_the_explicit_reopen_form_reopens_a_resolved_complaint(client, make_complaint):
    complaint = make_complaint("resolved")
    page = open_status(client, complaint).content.decode()
    assert 'id="reopen-form"' in page
    assert "My problem is not solved" in page

    # The text is required.
    response = client.post(message_url(complaint), {"reopen": "1", "reopen-body": " "})
    assert response.status_code == 200
    assert response.context["reopen_form"].errors["body"] == ["The message is empty."]
    complaint.refresh_from_db()
    assert complaint.status == "resolved"

    response = client.post(
        message_url(complaint), {"reopen": "1", "reopen-body": "Still leaking."}, follow=True
    )
    complaint.refresh_from_db()
    assert complaint.status == "reopened"
    assert complaint.events.filter(kind=Kind.CUSTOMER_MESSAGE, body="Still leaking.").exists()
    html = response.content.decode()
    assert "Your complaint was reopened" in html
    assert 'id="reopen-form"' not in html  # nothing left to reopen


def test_the_explicit_reopen_form_is_offered_within_the_window_only(
    client, closed, make_complaint, beyond_window
):
    assert 'id="reopen-form"' in open_status(client, closed).content.decode()
    in_progress = make_complaint("in_progress")
    assert 'id="reopen-form"' not in open_status(client, in_progress).content.decode()
    beyond_window()
    response = client.post(message_url(closed), {"reopen": "1", "reopen-body": "Again"})
    assert response.status_code == 200
    assert "can no longer be reopened" in response.content.decode()
    assert Complaint.objects.filter(repeat_of=closed).count() == 0
    assert not closed.events.filter(kind=Kind.CUSTOMER_MESSAGE).exists()


# --- Mail replies -------------------------------------------------------------------------------


def test_a_mail_reply_after_the_window_opens_an_acknowledged_follow_up(closed, beyond_window):
    closed = with_tracking_number(closed)
    beyond_window()
    message = receive(
        make_raw(
            sender=f"Li Na <{CUSTOMER_EMAIL}>",
            subject=f"Re: [{TRACKING}] Your complaint",
            body="The kettle leaks again.",
            message_id="<late-reply@example.cn>",
        )
    )

    assert message.status == InboundMessage.Status.CREATED
    new = message.complaint
    assert new.repeat_of == closed
    assert new.channel == Channel.EMAIL
    assert new.description == "The kettle leaks again."
    assert new.tracking_number in message.note
    ack = OutboxMessage.objects.get(complaint=new)
    assert new.tracking_number in ack.body
    assert ack.to == CUSTOMER_EMAIL
    # Later mail in this thread belongs to the follow-up.
    assert MailThread.objects.get(message_id="late-reply@example.cn").complaint == new
    closed.refresh_from_db()
    assert closed.status == "closed"


def test_a_mail_reply_within_the_window_reopens(closed):
    closed = with_tracking_number(closed)
    message = receive(
        make_raw(sender=CUSTOMER_EMAIL, subject=f"Re: [{TRACKING}] Your complaint", body="Again.")
    )
    assert message.status == InboundMessage.Status.APPENDED
    assert message.complaint == closed
    closed.refresh_from_db()
    assert closed.status == "reopened"
    assert Complaint.objects.count() == 1
