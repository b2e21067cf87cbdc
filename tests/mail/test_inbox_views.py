"""The staff inbox: messages left for review or quarantined, and what staff do with them."""

import pytest
from django.urls import reverse

from complaints.models import Attachment, Complaint, ComplaintEvent, InboundMessage, MailThread
from complaints.services import mail
from tests.factories import CustomerFactory
from tests.mail.support import CUSTOMER_EMAIL, TRACKING, make_raw, receive, with_tracking_number

pytestmark = pytest.mark.django_db
Status = InboundMessage.Status
XSS = "<script>alert(1)</script>"


def url(name, message=None):
    return reverse(f"complaints:inbox-{name}", args=[message.pk] if message else [])


@pytest.fixture
def stranger_message(org, make_complaint, eml):
    """18_reply_tracking_stranger.eml, in review: it names Li Na's complaint."""
    customer = CustomerFactory(email=CUSTOMER_EMAIL)
    with_tracking_number(make_complaint("in_progress", customer=customer))
    message = receive(eml("18_reply_tracking_stranger.eml"))
    assert message.status == Status.REVIEW
    return message


@pytest.fixture
def review_message(org):
    """A message without a sender (review), whose subject and text try to inject HTML."""
    message = receive(
        make_raw(
            sender=None,
            subject=f"Help {XSS}",
            body=f"My order is late {XSS} <b>bold</b>\nSecond line",
        )
    )
    assert message.status == Status.REVIEW
    return message


def test_the_list_shows_review_and_quarantined_newest_first_escaped(client, org, review_message):
    quarantined = InboundMessage.objects.create(
        source="imap", dedupe_key="q1", raw=b"x", size=1, status=Status.QUARANTINED,
        subject="broken", note=f"Processing failed: {XSS}",
    )  # fmt: skip
    InboundMessage.objects.create(
        source="imap", dedupe_key="i1", raw=b"x", size=1, status=Status.IGNORED, subject="ooo"
    )
    client.force_login(org.agent)
    response = client.get(url("list"))
    assert response.status_code == 200
    body = response.content.decode()
    assert XSS not in body
    assert "Help &lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "Processing failed: &lt;script&gt;" in body
    assert "ooo" not in body  # ignored messages are not open work
    rows = [m.pk for m in response.context["page"]]
    assert rows == [quarantined.pk, review_message.pk]
    # Other statuses can be found by filter.
    assert "ooo" in client.get(url("list"), {"status": "ignored"}).content.decode()
    assert client.get(url("list"), {"status": "nonsense"}).status_code == 200


def test_the_list_query_count_does_not_grow(client, org, django_assert_max_num_queries):
    def add(n):
        for i in range(n):
            InboundMessage.objects.create(
                source="pipe", dedupe_key=f"k{n}-{i}", raw=b"x" * 1000, size=1000,
                status=Status.REVIEW, subject=f"s{i}",
            )  # fmt: skip

    client.force_login(org.supervisor)
    add(1)
    # The page itself is a count and one select; the rest is the shared navigation.
    with django_assert_max_num_queries(20) as few:
        client.get(url("list"))
    add(20)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url("list"))


def test_the_detail_shows_headers_and_text_escaped_and_never_as_html(client, org, review_message):
    client.force_login(org.agent)
    response = client.get(url("detail", review_message))
    assert response.status_code == 200
    body = response.content.decode()
    assert XSS not in body
    assert "<b>bold</b>" not in body
    assert "My order is late &lt;script&gt;alert(1)&lt;/script&gt; &lt;b&gt;bold&lt;/b&gt;" in body
    assert "Second line" in body
    assert "no usable sender address" in body  # the note says why it is here
    assert 'id="inbox-attach"' in body and 'id="inbox-create"' in body


def test_an_html_mail_is_shown_as_its_text(client, org, eml):
    html = eml("07_outlook_html_only.eml").replace(b"From: ", b"X-Old-From: ", 1)
    message = receive(html)
    assert message.status == Status.REVIEW
    client.force_login(org.agent)
    body = client.get(url("detail", message)).content.decode()
    assert "The sofa delivered on 18 November has a torn seam" in body
    assert "SCRIPT-MARKER" not in body and "MsoNormal" not in body


def test_an_unparseable_message_shows_its_raw_text(client, org, monkeypatch):
    message = InboundMessage.objects.create(
        source="pipe", dedupe_key="bad", raw=f"Subject: x\n\n{XSS}".encode(), size=10,
        status=Status.QUARANTINED,
    )  # fmt: skip

    def broken(raw):
        raise ValueError("cannot parse")

    monkeypatch.setattr(mail, "parse_message", broken)
    client.force_login(org.agent)
    body = client.get(url("detail", message)).content.decode()
    assert "ValueError: cannot parse" in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and XSS not in body


def test_the_raw_message_is_a_download(client, org, review_message):
    client.force_login(org.agent)
    response = client.get(url("raw", review_message))
    assert response.status_code == 200
    assert response["Content-Type"] == "message/rfc822"
    assert (
        response["Content-Disposition"] == f'attachment; filename="inbound-{review_message.pk}.eml"'
    )
    assert response.content == bytes(InboundMessage.objects.get(pk=review_message.pk).raw)


def test_attach_to_a_complaint_by_tracking_number(client, org, stranger_message):
    complaint = Complaint.objects.get(tracking_number=TRACKING)
    client.force_login(org.agent)
    response = client.post(
        url("attach", stranger_message), {"tracking_number": "ts 20261120 7k4q9"}
    )
    assert response.status_code == 302
    stranger_message.refresh_from_db()
    assert stranger_message.status == Status.APPENDED
    assert stranger_message.complaint == complaint
    assert stranger_message.reviewed_by == org.agent
    event = complaint.events.get(kind=ComplaintEvent.Kind.CUSTOMER_MESSAGE)
    assert event.body.startswith("Please send all the details")
    assert MailThread.objects.filter(message_id="stranger-1@evil.example", outgoing=False).exists()
    # Handled: a second attempt is refused and changes nothing.
    response = client.post(url("attach", stranger_message), {"tracking_number": TRACKING})
    assert response.status_code == 400
    assert complaint.events.filter(kind=ComplaintEvent.Kind.CUSTOMER_MESSAGE).count() == 1


@pytest.mark.parametrize("number", ["", "not a number", "TS-20261120-00000", "TS-20991231-7K4Q9"])
def test_attach_refuses_bad_or_unknown_tracking_numbers(client, org, stranger_message, number):
    client.force_login(org.agent)
    response = client.post(url("attach", stranger_message), {"tracking_number": number})
    assert response.status_code == 400
    stranger_message.refresh_from_db()
    assert stranger_message.status == Status.REVIEW


def test_attach_refuses_a_complaint_the_agent_may_not_see(client, org, stranger_message):
    client.force_login(org.agent_b)  # team B; the complaint is team A's
    response = client.post(url("attach", stranger_message), {"tracking_number": TRACKING})
    assert response.status_code == 400
    assert "No such complaint, or you may not see it." in response.content.decode()
    stranger_message.refresh_from_db()
    assert stranger_message.status == Status.REVIEW


def test_create_a_complaint_from_a_message(client, org, eml, media):
    message = receive(eml("10_attachment_only.eml").replace(b"From: ", b"X-From: ", 1))
    assert message.status == Status.REVIEW
    client.force_login(org.supervisor)
    response = client.post(
        url("create", message),
        {
            "email": "zhaomin@example.cn",
            "name": "赵敏",
            "title": "破损照片",
            "description": "客户发来破损照片（电话确认）。",
            "demand": "replacement",
        },
    )
    assert response.status_code == 302
    message.refresh_from_db()
    assert message.status == Status.CREATED
    assert message.reviewed_by == org.supervisor
    complaint = message.complaint
    assert complaint.channel == "email"
    assert complaint.customer.email == "zhaomin@example.cn"
    assert complaint.demand == "replacement"
    assert list(
        Attachment.objects.filter(complaint=complaint).values_list("original_name", flat=True)
    ) == ["照片.png"]
    assert "setup.exe" in message.note


def test_create_shows_field_errors(client, org, review_message):
    client.force_login(org.agent)
    response = client.post(
        url("create", review_message), {"email": "not-an-email", "description": "", "demand": "x"}
    )
    assert response.status_code == 400
    form = response.context["create_form"]
    assert set(form.errors) == {"email", "description", "demand"}
    response = client.post(
        url("create", review_message), {"description": "text", "demand": "other"}
    )
    assert response.status_code == 400  # no email and no phone: complaint_submit refuses
    assert response.context["create_form"].errors["phone"]
    review_message.refresh_from_db()
    assert review_message.status == Status.REVIEW
    assert Complaint.objects.count() == 0


def test_mark_reviewed(client, org, review_message):
    client.force_login(org.agent)
    response = client.post(url("reviewed", review_message), {"note": "Spam."})
    assert response.status_code == 302
    review_message.refresh_from_db()
    assert review_message.status == Status.REVIEWED
    assert review_message.reviewed_by == org.agent
    assert review_message.note.endswith("Spam.")
    assert client.post(url("reviewed", review_message), {}).status_code == 400


def test_actions_need_post(client, org, review_message):
    client.force_login(org.agent)
    for name in ("attach", "create", "reviewed"):
        assert client.get(url(name, review_message)).status_code == 405


@pytest.mark.parametrize("who", ["outsider", "responder"])
def test_non_staff_and_responders_are_refused(client, org, review_message, who):
    client.force_login(getattr(org, who))
    assert client.get(url("list")).status_code == 403
    assert client.get(url("detail", review_message)).status_code == 403
    assert client.get(url("raw", review_message)).status_code == 403
    assert client.post(url("reviewed", review_message)).status_code == 403
    assert (
        client.post(url("attach", review_message), {"tracking_number": TRACKING}).status_code == 403
    )
    assert (
        client.post(
            url("create", review_message),
            {"email": "a@b.cn", "description": "x", "demand": "other"},
        ).status_code
        == 403
    )
    review_message.refresh_from_db()
    assert review_message.status == Status.REVIEW
    assert Complaint.objects.count() == 0


def test_anonymous_users_are_sent_to_login(client, review_message):
    response = client.get(url("list"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert client.post(url("reviewed", review_message)).status_code == 302
    review_message.refresh_from_db()
    assert review_message.status == Status.REVIEW


def test_missing_message_is_404(client, org):
    client.force_login(org.agent)
    assert client.get(reverse("complaints:inbox-detail", args=[999999])).status_code == 404
