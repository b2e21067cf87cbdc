"""The public side: the complaint form, tracking, signed status links and the status
page (no account)."""

import re
import secrets
import threading
import time
from unittest import mock

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from complaints import public_links
from complaints.models import (
    Attachment,
    Complaint,
    ComplaintEvent,
    Customer,
    IdempotencyKey,
    StatusChange,
)
from complaints.services import attachments, messages
from complaints.services import transitions as t
from complaints.views import public
from tests.factories import CustomerFactory, ProductFactory
from tests.support import png, png_bytes

pytestmark = pytest.mark.django_db
Kind = ComplaintEvent.Kind

SUBMIT = reverse("complaints:public-submit")
TRACK = reverse("complaints:public-track")
NEUTRAL = "We could not find a complaint with these details"


@pytest.fixture(autouse=True)
def fresh_cache():
    # Rate limits count in the cache: every test starts with none used.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def form_data(**overrides) -> dict:
    data = {
        "name": "Li Lei",
        "phone": "138 0013 8000",
        "email": "Li.Lei@Example.com",
        "order_number": "A-1001",
        "description": "The kettle broke after three days.\nIt no longer heats.",
        "demand": "replacement",
        "demand_detail": "The same model, please.",
        "website": "",
        "form_token": secrets.token_urlsafe(24),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def nothing_created() -> bool:
    return not (
        Complaint.objects.exists()
        or Customer.objects.exists()
        or Attachment.objects.exists()
        or IdempotencyKey.objects.exists()
        or ComplaintEvent.objects.exists()
    )


def open_status(client, complaint):
    """Gain access the way a customer does, through the signed link."""
    response = client.get(public_links.status_path(complaint))
    assert response.status_code == 302
    assert response.url == status_url(complaint)
    return client.get(response.url)


def status_url(complaint) -> str:
    return reverse("complaints:public-status", args=[complaint.tracking_number])


def message_url(complaint) -> str:
    return reverse("complaints:public-message", args=[complaint.tracking_number])


def download_url(complaint, attachment) -> str:
    return reverse("complaints:public-attachment", args=[complaint.tracking_number, attachment.pk])


def without_tokens(html: str) -> str:
    """A page without what differs on every render (CSRF tokens) or echoes input."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)
    return re.sub(r'value="[^"]*"', "", html)


# --- The complaint form -------------------------------------------------------------------------


def test_form_page_is_public_with_its_own_frame(client):
    ProductFactory(name="Kettle K1")
    ProductFactory(name="Retired model", is_active=False)
    response = client.get(SUBMIT)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="form_token"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert reverse("set_language") in html
    assert "nav-queues" not in html  # no staff navigation
    assert "Kettle K1" in html
    assert "Retired model" not in html
    assert 'class="hp-field"' in html


def test_submit_creates_one_web_complaint_with_customer_language_and_attachment(client):
    product = ProductFactory(name="Kettle K1")
    data = form_data(product=str(product.pk), attachments=[png("kettle.png")])
    response = client.post(SUBMIT, data, HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")

    complaint = Complaint.objects.get()
    assert response.status_code == 302
    assert response.url.startswith("/submit/received/")
    assert complaint.channel == "web"
    assert complaint.language == "zh-hans"
    assert complaint.product == product
    assert complaint.demand == "replacement"
    assert complaint.demand_detail == "The same model, please."
    assert complaint.order_number == "A-1001"
    assert complaint.title == "The kettle broke after three days."
    customer = complaint.customer
    assert (customer.name, customer.phone, customer.email) == (
        "Li Lei",
        "+8613800138000",
        "li.lei@example.com",
    )
    attachment = Attachment.objects.get()
    assert attachment.complaint == complaint
    assert attachment.original_name == "kettle.png"
    assert attachment.content_type == "image/png"
    assert attachment.is_internal is False
    assert attachment.event.kind == Kind.RECEIVED
    assert attachment.event.is_internal is False
    key = IdempotencyKey.objects.get()
    assert (key.scope, key.key, key.complaint) == ("web-form", data["form_token"], complaint)
    assert client.session[public.SESSION_KEY] == [complaint.pk]

    page = client.get(response.url)
    assert page.status_code == 200
    html = page.content.decode()
    assert complaint.tracking_number in html
    assert "/track/" + complaint.tracking_number + ":" in html  # the signed link
    # The session may follow the complaint at once.
    assert client.get(status_url(complaint)).status_code == 200


def test_an_existing_customer_is_found_by_phone(client):
    customer = CustomerFactory(phone="+8613800138000", email="")
    client.post(SUBMIT, form_data(email=""))
    assert Complaint.objects.get().customer == customer
    assert Customer.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"phone": "", "email": ""}, "phone", "Give a phone number or an email address"),
        ({"email": "not-an-email"}, "email", "Enter a valid email address."),
        ({"phone": "12"}, "phone", "This does not look like a phone number."),
        ({"description": "   "}, "description", "Describe what happened."),
        ({"demand": "world-peace"}, "demand", "Choose what you would like us to do."),
        ({"demand": ""}, "demand", "Choose what you would like us to do."),
        ({"name": ""}, "name", "This field is required."),
    ],
)
def test_invalid_fields_are_reported_and_nothing_is_created(client, overrides, field, message):
    response = client.post(SUBMIT, form_data(**overrides))
    assert response.status_code == 200
    form = response.context["form"]
    assert any(message in error for error in form.errors[field]), form.errors
    assert message in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()
    assert nothing_created()


def test_a_png_that_is_text_is_refused_and_nothing_is_created(client):
    fake = SimpleUploadedFile("photo.png", b"just some text", content_type="image/png")
    response = client.post(SUBMIT, form_data(attachments=[png("good.png"), fake]))
    assert response.status_code == 200
    errors = response.context["form"].errors["attachments"]
    assert errors == [
        "The file “photo.png” is not an allowed type (.csv, .docx, .gif, .jpeg, .jpg, .m4a, "
        ".mp3, .mp4, .pdf, .png, .txt, .wav, .webp, .xlsx), or its content does not match its name."
    ]
    assert nothing_created()


def test_a_file_above_the_size_limit_is_refused_and_nothing_is_created(client, settings, media):
    settings.ATTACHMENT_MAX_BYTES = 1024 * 1024
    big = SimpleUploadedFile("big.pdf", b"%PDF-1.4\n" + b"x" * (1024 * 1024), "application/pdf")
    response = client.post(SUBMIT, form_data(attachments=[big]))
    assert response.status_code == 200
    assert response.context["form"].errors["attachments"] == [
        "The file “big.pdf” is too large (at most 1 MB)."
    ]
    assert nothing_created()
    assert not any(media.rglob("*"))  # no file left behind


def test_too_many_files_are_refused(client):
    files = [png(f"p{i}.png") for i in range(public.MAX_FILES + 1)]
    response = client.post(SUBMIT, form_data(attachments=files))
    assert "Attach at most 5 files." in response.context["form"].errors["attachments"]
    assert nothing_created()


def test_user_text_is_escaped(client):
    response = client.post(
        SUBMIT, form_data(description="<script>alert('x')</script> broke"), follow=True
    )
    complaint = Complaint.objects.get()
    html = client.get(status_url(complaint)).content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; broke" in html
    assert response.status_code == 200


# --- Idempotency, honeypot, rate limits ------------------------------------------------------


def test_the_same_token_twice_creates_one_complaint_and_the_same_confirmation(client):
    data = form_data()
    first = client.post(SUBMIT, data, follow=True)
    second = client.post(SUBMIT, data, follow=True)
    complaint = Complaint.objects.get()
    assert IdempotencyKey.objects.count() == 1
    for response in (first, second):
        assert response.status_code == 200
        assert response.context["complaint"] == complaint
        assert complaint.tracking_number in response.content.decode()


def test_a_changed_repost_with_the_same_token_says_it_was_already_sent(client):
    data = form_data()
    client.post(SUBMIT, data)
    response = client.post(SUBMIT, {**data, "description": "Edited after going back"}, follow=True)
    complaint = Complaint.objects.get()
    assert complaint.description.startswith("The kettle broke")
    assert response.context["complaint"] == complaint
    assert "This form had already been sent" in response.content.decode()


def test_a_repost_from_another_session_shows_the_same_complaint(client):
    data = form_data()
    client.post(SUBMIT, data)
    other = Client()
    response = other.post(SUBMIT, data, follow=True)
    assert Complaint.objects.count() == 1
    assert response.context["complaint"] == Complaint.objects.get()


def test_a_reused_token_with_other_content_from_another_session_reveals_nothing(client):
    data = form_data()
    client.post(SUBMIT, data)
    complaint = Complaint.objects.get()
    other = Client()
    response = other.post(SUBMIT, {**data, "description": "Someone else's problem"})
    assert response.status_code == 200
    html = response.content.decode()
    assert complaint.tracking_number not in html
    assert "This form was already used." in html
    new_token = response.context["form"]["form_token"].value()
    assert new_token != data["form_token"]
    assert public.SESSION_KEY not in other.session
    # Sent again with the fresh token, it is a complaint of its own.
    other.post(SUBMIT, {**data, "description": "Someone else's problem", "form_token": new_token})
    assert Complaint.objects.count() == 2


def test_a_corrected_form_may_reuse_its_token(client):
    data = form_data(description="")
    client.post(SUBMIT, data)
    assert nothing_created()
    response = client.post(SUBMIT, {**data, "description": "It broke."})
    assert response.status_code == 302
    assert Complaint.objects.count() == 1


def test_a_missing_token_creates_nothing_and_issues_a_fresh_one(client):
    response = client.post(SUBMIT, form_data(form_token=""))
    assert response.status_code == 200
    assert "This form has expired" in response.content.decode()
    assert public._TOKEN_RE.fullmatch(response.context["form"]["form_token"].value())
    assert response.context["form"]["name"].value() == "Li Lei"  # nothing typed is lost
    assert nothing_created()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL concurrency")
def test_two_simultaneous_posts_with_one_token_create_one_complaint():
    data = form_data()
    barrier = threading.Barrier(2)
    results = [None, None]

    def post(i):
        try:
            client = Client()
            barrier.wait()
            results[i] = client.post(SUBMIT, data, follow=True)
        except Exception as exc:  # noqa: BLE001 - the outcome is what we compare
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post, args=(i,)) for i in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    complaint = Complaint.objects.get()
    assert IdempotencyKey.objects.get().complaint == complaint
    for response in results:
        assert not isinstance(response, Exception), response
        assert response.status_code == 200
        assert response.context["complaint"].pk == complaint.pk


def test_a_filled_honeypot_creates_nothing(client):
    response = client.post(SUBMIT, form_data(website="http://spam.example"))
    assert response.status_code == 400
    assert nothing_created()


def test_submissions_are_rate_limited_per_client(client):
    limit, window = public.SUBMIT_LIMIT
    for _ in range(limit):
        assert client.post(SUBMIT, form_data()).status_code == 302
    response = client.post(SUBMIT, form_data())
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= window + 1
    assert "Too many requests" in response.content.decode()
    assert Complaint.objects.count() == limit
    # Another address is not affected.
    assert client.post(SUBMIT, form_data(), REMOTE_ADDR="10.0.0.9").status_code == 302


def test_form_views_are_rate_limited(client):
    limit, _window = public.VIEW_LIMIT
    for _ in range(limit):
        assert client.get(SUBMIT).status_code == 200
    response = client.get(SUBMIT)
    assert response.status_code == 429
    assert response.has_header("Retry-After")


def test_the_429_page_is_translated(client):
    limit, _window = public.VIEW_LIMIT
    for _ in range(limit):
        client.get(TRACK)
    response = client.get(TRACK, HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert response.status_code == 429
    assert '<html lang="zh-hans">' in response.content.decode()


# --- The acknowledgment email and the signed link ------------------------------------------


def test_the_acknowledgment_email_has_the_number_and_a_working_signed_link(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(SUBMIT, form_data())
    complaint = Complaint.objects.get()
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["li.lei@example.com"]
    assert complaint.tracking_number in mail.subject
    assert complaint.tracking_number in mail.body
    link = re.search(r"http://127\.0\.0\.1:8000(/track/\S+/)", mail.body)
    assert link, mail.body

    stranger = Client()  # another browser: only the link gives access
    response = stranger.get(link.group(1), follow=True)
    assert response.status_code == 200
    assert response.context["complaint"] == complaint
    assert response.redirect_chain[-1][0] == status_url(complaint)
    assert "The kettle broke after three days." in response.content.decode()


def test_the_acknowledgment_link_uses_site_url(settings, make_complaint, mailoutbox):
    settings.SITE_URL = "https://help.example.com/"
    complaint = make_complaint()
    from complaints.services import notifications

    notifications.complaint_send_acknowledgment(complaint=complaint)
    # Queued in the outbox with the caller's transaction (delivered after commit).
    from complaints.models import OutboxMessage

    body = OutboxMessage.objects.filter(complaint=complaint, channel="email").last().body
    assert "https://help.example.com/track/" + complaint.tracking_number + ":" in body


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        lambda token: token.replace(":", "x", 1),
        lambda token: "garbage",
    ],
)
def test_a_tampered_link_gives_the_neutral_answer(client, make_complaint, tamper):
    complaint = make_complaint()
    response = client.get(
        reverse("complaints:public-track-link", args=[tamper(public_links.status_token(complaint))])
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert NEUTRAL in html
    assert 'id="status-label"' not in html
    assert "The kettle broke" not in html
    assert public.SESSION_KEY not in client.session


def test_a_link_signed_for_another_complaint_does_not_open_this_one(client, make_complaint):
    a, b = make_complaint(), make_complaint()
    token = public_links.status_token(a)
    forged = b.tracking_number + token[len(a.tracking_number) :]
    response = client.get(reverse("complaints:public-track-link", args=[forged]))
    assert NEUTRAL in response.content.decode()
    assert public.SESSION_KEY not in client.session


def test_an_expired_link_gives_the_neutral_answer(client, make_complaint, settings):
    settings.COMPLAINT_STATUS_LINK_DAYS = 2
    complaint = make_complaint()
    now = time.time()
    with mock.patch("django.core.signing.time.time", return_value=now - 3 * 86400):
        old = public_links.status_token(complaint)
    with mock.patch("django.core.signing.time.time", return_value=now - 1 * 86400):
        recent = public_links.status_token(complaint)
    response = client.get(reverse("complaints:public-track-link", args=[old]))
    assert NEUTRAL in response.content.decode()
    assert public.SESSION_KEY not in client.session
    assert client.get(reverse("complaints:public-track-link", args=[recent])).status_code == 302
    # The confirmation page's link expires the same way.
    response = client.get(reverse("complaints:public-submitted", args=[old]))
    assert NEUTRAL in response.content.decode()


# --- Tracking ---------------------------------------------------------------------------------


def test_track_with_the_number_and_the_phone_in_another_format(client, make_complaint):
    complaint = make_complaint(customer=CustomerFactory(phone="+8613812345678"))
    response = client.post(
        TRACK,
        {"number": complaint.tracking_number.lower().replace("-", " "), "contact": "138-1234-5678"},
    )
    assert response.status_code == 302
    assert response.url == status_url(complaint)
    page = client.get(response.url)
    assert page.status_code == 200
    assert complaint.tracking_number in page.content.decode()


def test_track_with_the_email_in_another_case(client, make_complaint):
    complaint = make_complaint(customer=CustomerFactory(email="wang@example.com"))
    response = client.post(
        TRACK, {"number": complaint.tracking_number, "contact": " WANG@Example.COM "}
    )
    assert response.status_code == 302


def test_wrong_contact_and_unknown_number_give_the_identical_neutral_response(
    client, make_complaint
):
    complaint = make_complaint(customer=CustomerFactory(phone="+8613812345678", email="a@b.cn"))
    unknown = complaint.tracking_number[:-1] + (
        "X" if complaint.tracking_number[-1] != "X" else "Y"
    )
    answers = [
        client.post(TRACK, {"number": complaint.tracking_number, "contact": "13800000000"}),
        client.post(TRACK, {"number": complaint.tracking_number, "contact": "other@b.cn"}),
        client.post(TRACK, {"number": unknown, "contact": "13812345678"}),
        client.post(TRACK, {"number": "no such thing", "contact": "13812345678"}),
    ]
    assert {r.status_code for r in answers} == {200}
    pages = {without_tokens(r.content.decode()) for r in answers}
    assert len(pages) == 1
    assert NEUTRAL in pages.pop()
    assert public.SESSION_KEY not in client.session


def test_tracking_is_rate_limited(client, make_complaint):
    complaint = make_complaint()
    limit, _window = public.TRACK_LIMIT
    for _ in range(limit):
        client.post(TRACK, {"number": complaint.tracking_number, "contact": "x@y.cn"})
    # Even the right answer is refused now.
    response = client.post(
        TRACK, {"number": complaint.tracking_number, "contact": complaint.customer.email}
    )
    assert response.status_code == 429
    assert response.has_header("Retry-After")


def test_the_status_page_without_access_sends_to_the_tracking_form(client, make_complaint):
    complaint = make_complaint()
    response = client.get(status_url(complaint))
    assert response.status_code == 302
    assert response.url == TRACK + "?number=" + complaint.tracking_number


# --- The status page --------------------------------------------------------------------------


def test_the_status_page_shows_only_the_public_timeline(client, org, make_complaint):
    agent = org.agent
    agent.username, agent.first_name, agent.last_name = "wang.secret", "Lina", "Zhangsecret"
    agent.email = "lina.internal@example.com"
    agent.save()
    complaint = make_complaint("in_progress")
    messages.complaint_add_note(complaint=complaint, actor=agent, body="INTERNAL NOTE 42")
    messages.complaint_reply(complaint=complaint, actor=agent, body="We are sending a new kettle.")
    internal_file = attachments.attachment_add(
        complaint=complaint, actor=agent, upload=png("internal.png"), internal=True
    )
    public_file = attachments.attachment_add(
        complaint=complaint, actor=agent, upload=png("label.png"), internal=False
    )

    response = open_status(client, complaint)
    html = response.content.decode()
    assert response.status_code == 200
    assert complaint.tracking_number in html
    assert "Being handled" in html
    assert "Lina replied" in html
    assert "We are sending a new kettle." in html
    assert "The kettle broke after three days." in html
    assert "label.png" in html
    for secret in (
        "INTERNAL NOTE 42",
        "Zhangsecret",
        "wang.secret",
        "lina.internal@example.com",
        "internal.png",
        org.team.name,
        org.category.name,
        "Photo please",
    ):
        assert secret not in html, secret
    assert download_url(complaint, internal_file) not in html
    assert download_url(complaint, public_file) in html
    assert response["Cache-Control"].startswith("max-age=0")
    assert "no-store" in response["Cache-Control"]


def test_the_status_page_query_count_does_not_grow_with_the_timeline(
    client, org, make_complaint, django_assert_num_queries
):
    complaint = make_complaint("in_progress")
    for i in range(5):
        messages.complaint_reply(complaint=complaint, actor=org.agent, body=f"Reply {i}")
        attachments.attachment_add(
            complaint=complaint, actor=org.agent, upload=png(f"p{i}.png"), internal=False
        )
    open_status(client, complaint)
    # The session, the complaint, the events, their public attachments.
    with django_assert_num_queries(4):
        assert client.get(status_url(complaint)).status_code == 200


def test_a_reply_without_a_first_name_is_from_customer_service(client, org, make_complaint):
    complaint = make_complaint("in_progress")
    messages.complaint_reply(complaint=complaint, actor=org.agent, body="Hello")
    html = open_status(client, complaint).content.decode()
    assert "Customer service replied" in html
    assert ">agent<" not in html


def test_awaiting_customer_shows_the_question_and_a_message_resumes_it(client, make_complaint):
    complaint = make_complaint("awaiting_customer")
    html = open_status(client, complaint).content.decode()
    assert "Waiting for your answer" in html
    assert "Photo please?" in html

    response = client.post(
        message_url(complaint), {"body": "Here is the photo.", "attachments": [png("k.png")]}
    )
    assert response.status_code == 302
    assert response.url == status_url(complaint) + "#timeline"
    complaint.refresh_from_db()
    assert complaint.status == "in_progress"
    event = complaint.events.get(kind=Kind.CUSTOMER_MESSAGE)
    assert (event.body, event.is_internal, event.actor) == ("Here is the photo.", False, None)
    attachment = Attachment.objects.get(event=event)
    assert attachment.is_internal is False
    assert StatusChange.objects.filter(complaint=complaint, transition="resume").exists()
    page = client.get(response.url).content.decode()
    assert "Your message was sent." in page
    assert "Here is the photo." in page
    assert "k.png" in page


def test_an_empty_message_is_refused(client, make_complaint):
    complaint = make_complaint("in_progress")
    open_status(client, complaint)
    response = client.post(message_url(complaint), {"body": "  "})
    assert response.status_code == 200
    assert response.context["form"].errors["body"] == ["The message is empty."]
    assert not complaint.events.filter(kind=Kind.CUSTOMER_MESSAGE).exists()


def test_a_message_with_a_refused_file_records_nothing(client, make_complaint):
    complaint = make_complaint("in_progress")
    open_status(client, complaint)
    fake = SimpleUploadedFile("x.pdf", b"not a pdf", "application/pdf")
    response = client.post(message_url(complaint), {"body": "See file", "attachments": [fake]})
    assert response.status_code == 200
    assert "attachments" in response.context["form"].errors
    assert not complaint.events.filter(kind=Kind.CUSTOMER_MESSAGE).exists()
    assert not Attachment.objects.exists()


def test_a_closed_complaint_shows_its_state_and_still_takes_messages(client, make_complaint):
    complaint = make_complaint("closed")
    html = open_status(client, complaint).content.decode()
    assert "Closed" in html
    assert "Replaced the unit" in html  # the resolution, as mailed to the customer
    assert "Customer satisfied" not in html  # the closing reason is internal
    response = client.post(message_url(complaint), {"body": "It broke again."})
    assert response.status_code == 302
    assert complaint.events.filter(kind=Kind.CUSTOMER_MESSAGE, body="It broke again.").exists()


def test_a_rejected_complaint_shows_the_reason_and_recourse(client, make_complaint):
    complaint = make_complaint("rejected")
    html = open_status(client, complaint).content.decode()
    assert "Not accepted" in html
    assert "Not a complaint" in html
    assert "12315" in html
    # Files can no longer be added to it; a message is still taken.
    assert 'name="attachments"' not in html
    response = client.post(message_url(complaint), {"body": "Why?", "attachments": [png()]})
    assert response.status_code == 200
    assert response.context["form"].errors["attachments"] == [
        "Files can no longer be added to this complaint."
    ]
    assert client.post(message_url(complaint), {"body": "Why?"}).status_code == 302


def test_a_merged_complaint_shows_the_complaint_it_was_merged_into(client, org, make_complaint):
    customer = CustomerFactory()
    complaint = make_complaint("triaged", customer=customer)
    target = make_complaint("in_progress", customer=customer)
    t.complaint_merge(complaint=complaint, actor=org.supervisor, target=target)
    html = open_status(client, complaint).content.decode()
    assert "Merged" in html
    assert target.tracking_number in html
    response = client.post(
        message_url(complaint), {"body": "Any news?", "attachments": [png("m.png")]}
    )
    assert response.status_code == 302
    event = target.events.get(kind=Kind.CUSTOMER_MESSAGE)
    assert event.data == {"via": complaint.tracking_number}
    assert Attachment.objects.get().event == event


# --- Access between complaints ----------------------------------------------------------------


def test_the_session_of_one_complaint_gives_no_access_to_another(client, org, make_complaint):
    mine = make_complaint("in_progress")
    theirs = make_complaint("in_progress")
    their_file = attachments.attachment_add(
        complaint=theirs, actor=org.agent, upload=png("theirs.png"), internal=False
    )
    my_internal = attachments.attachment_add(
        complaint=mine, actor=org.agent, upload=png("internal.png"), internal=True
    )
    my_file = attachments.attachment_add(
        complaint=mine, actor=org.agent, upload=png("mine.png"), internal=False
    )
    open_status(client, mine)

    assert client.post(message_url(theirs), {"body": "Hi"}).status_code == 404
    assert not theirs.events.filter(kind=Kind.CUSTOMER_MESSAGE).exists()
    assert client.get(download_url(theirs, their_file)).status_code == 404
    assert client.get(download_url(mine, their_file)).status_code == 404
    assert client.get(download_url(mine, my_internal)).status_code == 404
    assert client.get(status_url(theirs)).status_code == 302  # to the tracking form

    response = client.get(download_url(mine, my_file))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="mine.png"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == png_bytes()


def test_without_a_session_nothing_is_reachable(client, org, make_complaint):
    complaint = make_complaint("in_progress")
    file = attachments.attachment_add(
        complaint=complaint, actor=org.agent, upload=png(), internal=False
    )
    assert client.post(message_url(complaint), {"body": "Hi"}).status_code == 404
    assert client.get(download_url(complaint, file)).status_code == 404


def test_forms_need_the_csrf_token(make_complaint):
    complaint = make_complaint()
    client = Client(enforce_csrf_checks=True)
    assert client.post(SUBMIT, form_data()).status_code == 403
    assert (
        client.post(TRACK, {"number": complaint.tracking_number, "contact": "x"}).status_code == 403
    )
    assert not Complaint.objects.exclude(pk=complaint.pk).exists()


def test_the_language_switcher_names_each_language_in_itself(client):
    html = client.get(SUBMIT, HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert '<html lang="zh-hans">' in html
    assert ">English<" in html
    assert ">简体中文<" in html
    response = client.post(reverse("set_language"), {"language": "en", "next": SUBMIT})
    assert response.status_code == 302
    assert response.url == SUBMIT
    assert '<html lang="en">' in client.get(SUBMIT, HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
