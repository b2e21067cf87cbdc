"""What happens to an inbound message: created, appended, review, ignored or
quarantined, with every consequence."""

import pytest
from django.db import IntegrityError

from complaints.models import (
    Attachment,
    Channel,
    Complaint,
    ComplaintEvent,
    Customer,
    InboundMessage,
    MailThread,
)
from complaints.services import mail
from tests.factories import CustomerFactory
from tests.mail.conftest import CORPUS, corpus
from tests.mail.support import (
    CUSTOMER_EMAIL,
    OUR_QUESTION_ID,
    TRACKING,
    make_raw,
    receive,
    with_tracking_number,
)

pytestmark = pytest.mark.django_db
Status = InboundMessage.Status


@pytest.fixture
def customer_complaint(org, make_complaint):
    """Li Na's complaint, waiting for her answer, with the corpus' tracking number."""
    customer = CustomerFactory(email=CUSTOMER_EMAIL, name="李娜")
    return with_tracking_number(make_complaint("awaiting_customer", customer=customer))


# --- Storing --------------------------------------------------------------------------------------


def test_store_keeps_the_raw_bytes_and_the_summary_headers(eml):
    raw = eml("01_gb2312_subject_body.eml")
    message = mail.inbound_store(raw=raw, source="imap")
    assert bytes(message.raw) == raw
    assert message.size == len(raw)
    assert message.status == Status.RECEIVED
    assert message.dedupe_key == "5f3a1c2e.1b2c.18c0a1b2c3d.Coremail.zhangsan@example.cn"
    assert message.from_address == "zhangsan@example.cn"
    assert message.subject == "洗衣机漏水，要求退款"


def test_storing_the_same_message_twice_returns_the_first_row(eml):
    raw = eml("05_utf8_base64.eml")
    first = mail.inbound_store(raw=raw, source="imap")
    again, created = mail.inbound_get_or_store(raw=raw, source="pipe")
    assert again.pk == first.pk
    assert created is False
    assert InboundMessage.objects.count() == 1


def test_without_message_id_the_bytes_are_the_key():
    raw = make_raw(body="no id")
    raw = b"\n".join(line for line in raw.split(b"\n") if not line.startswith(b"Message-ID"))
    first = mail.inbound_store(raw=raw, source="pipe")
    assert first.dedupe_key.startswith("sha256:")
    assert mail.inbound_store(raw=raw, source="pipe").pk == first.pk
    assert mail.inbound_store(raw=raw + b"\nmore", source="pipe").pk != first.pk


def test_a_concurrent_duplicate_insert_returns_the_existing_row(monkeypatch, eml):
    raw = eml("06_quoted_printable.eml")
    first = mail.inbound_store(raw=raw, source="imap")
    real_find = mail.storing._find
    calls = []

    def find_nothing_first(key):
        # The other process inserted between our look-up and our insert.
        calls.append(key)
        return None if len(calls) == 1 else real_find(key)

    monkeypatch.setattr(mail.storing, "_find", find_nothing_first)
    again = mail.inbound_store(raw=raw, source="pipe")
    assert again.pk == first.pk
    assert len(calls) == 2
    assert InboundMessage.objects.count() == 1


def test_an_integrity_error_that_is_not_a_duplicate_propagates(monkeypatch, eml):
    def broken_create(**kwargs):
        raise IntegrityError("some other constraint")

    monkeypatch.setattr(InboundMessage.objects, "create", broken_create)
    with pytest.raises(IntegrityError):
        mail.inbound_store(raw=eml("06_quoted_printable.eml"), source="imap")


# --- New complaints -----------------------------------------------------------------------------


def test_a_new_chinese_mail_creates_a_complaint(org, eml):
    message = receive(eml("01_gb2312_subject_body.eml"))
    assert message.status == Status.CREATED
    complaint = message.complaint
    assert complaint.channel == Channel.EMAIL
    assert complaint.title == "洗衣机漏水，要求退款"
    assert "使用第三天就开始漏水" in complaint.description
    assert complaint.demand == "refund"
    assert complaint.language == "zh-hans"
    assert complaint.customer.email == "zhangsan@example.cn"
    assert complaint.customer.name == "张三"
    assert message.processed_at is not None
    # A later mail in the same thread (the customer answering their own mail) lands here.
    thread = MailThread.objects.get(message_id=message.message_id)
    assert (thread.complaint, thread.outgoing) == (complaint, False)
    assert complaint.events.filter(kind=ComplaintEvent.Kind.RECEIVED).count() == 1


def test_a_new_english_mail_guesses_language_and_demand(org, eml):
    complaint = receive(eml("05_utf8_base64.eml")).complaint
    assert complaint.language == "en"
    assert complaint.demand == "replacement"
    assert complaint.title == "Broken kettle 😡 – order #A1234"


def test_the_customers_follow_up_in_the_same_thread_is_appended(org):
    first = receive(make_raw(message_id="<first-mail@example.com>"))
    follow_up = receive(
        make_raw(
            subject="Re: Broken chair",
            body="Also the leg is bent.\n\nOn Mon, Kim wrote:\n> The chair broke",
            headers={"In-Reply-To": "<first-mail@example.com>"},
        )
    )
    assert follow_up.status == Status.APPENDED
    assert follow_up.complaint == first.complaint
    event = first.complaint.events.get(kind=ComplaintEvent.Kind.CUSTOMER_MESSAGE)
    assert event.body == "Also the leg is bent."
    assert Complaint.objects.count() == 1


def test_attachments_are_kept_and_a_refused_file_is_noted(org, eml):
    message = receive(eml("10_attachment_only.eml"))
    assert message.status == Status.CREATED
    complaint = message.complaint
    attachments = list(Attachment.objects.filter(complaint=complaint))
    assert [a.original_name for a in attachments] == ["照片.png"]
    assert attachments[0].is_internal is False
    assert attachments[0].event.kind == ComplaintEvent.Kind.RECEIVED
    assert "setup.exe" in message.note
    assert "照片.png" in complaint.description  # the placeholder text names the files
    assert bytes(message.raw).count(b"setup.exe") >= 1  # still in the raw message


def test_a_very_long_mail_is_shortened_and_noted(org):
    message = receive(make_raw(body="长" * 12000))
    assert message.status == Status.CREATED
    assert len(message.complaint.description) == 10000
    assert "shortened" in message.note


# --- Replies ----------------------------------------------------------------------------------


def test_a_reply_to_our_message_id_is_appended_with_its_attachment(customer_complaint, eml):
    MailThread.objects.create(message_id=OUR_QUESTION_ID, complaint=customer_complaint)
    message = receive(eml("16_reply_in_reply_to.eml"))
    assert message.status == Status.APPENDED
    assert message.complaint == customer_complaint
    event = customer_complaint.events.get(kind=ComplaintEvent.Kind.CUSTOMER_MESSAGE)
    assert event.body == "Hi,\n\nHere is the photo of the broken handle you asked for.\n\nLi Na"
    assert event.is_internal is False
    assert [a.original_name for a in event.attachments.all()] == ["IMG_2041.jpg"]
    customer_complaint.refresh_from_db()
    assert customer_complaint.status == "in_progress"  # the customer answered: resumed
    inbound = MailThread.objects.get(message_id=message.message_id)
    assert (inbound.complaint, inbound.outgoing) == (customer_complaint, False)
    assert Complaint.objects.count() == 1


def test_a_reply_naming_the_tracking_number_from_the_customer_is_appended(customer_complaint, eml):
    # The sender writes Li.Na@Example.cn: addresses compare case-insensitively.
    message = receive(eml("17_reply_tracking_subject.eml"))
    assert message.status == Status.APPENDED
    assert message.complaint == customer_complaint
    event = customer_complaint.events.get(kind=ComplaintEvent.Kind.CUSTOMER_MESSAGE)
    assert event.body == "收到，我明天上午在家，可以上门取件。"
    assert Complaint.objects.count() == 1


def test_a_stranger_naming_the_tracking_number_goes_to_review(customer_complaint, eml):
    message = receive(eml("18_reply_tracking_stranger.eml"))
    assert message.status == Status.REVIEW
    assert message.complaint is None
    assert TRACKING in message.note and "someone@evil.example" in message.note
    assert not customer_complaint.events.filter(kind=ComplaintEvent.Kind.CUSTOMER_MESSAGE).exists()
    assert Complaint.objects.count() == 1
    assert not MailThread.objects.filter(outgoing=False).exists()


def test_an_unknown_tracking_number_goes_to_review(org, eml):
    message = receive(eml("17_reply_tracking_subject.eml"))
    assert message.status == Status.REVIEW
    assert TRACKING in message.note
    assert Complaint.objects.count() == 0


def test_a_reply_to_a_merged_complaint_lands_on_the_surviving_one(org, make_complaint):
    customer = CustomerFactory(email="kim.park@example.com")
    kept = make_complaint("in_progress", customer=customer)
    merged = make_complaint("new", customer=customer)
    from complaints.services.transitions import complaint_merge

    complaint_merge(complaint=merged, actor=org.supervisor, target=kept, reason="same")
    MailThread.objects.create(message_id="ack-merged@complaints.localhost", complaint=merged)
    message = receive(
        make_raw(body="Any news?", headers={"In-Reply-To": "<ack-merged@complaints.localhost>"})
    )
    assert message.status == Status.APPENDED
    assert message.complaint == kept
    assert kept.events.filter(kind=ComplaintEvent.Kind.CUSTOMER_MESSAGE).count() == 1


# --- Ignored: auto-replies, bounces, loops ---------------------------------------------------


@pytest.mark.parametrize("name", ["14_auto_reply.eml", "15_dsn_bounce.eml"])
def test_auto_replies_and_bounces_are_ignored(org, eml, name):
    message = receive(eml(name))
    assert message.status == Status.IGNORED
    assert message.note
    assert Complaint.objects.count() == 0
    assert Customer.objects.count() == 0


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "auto-generated"},
        {"Precedence": "bulk"},
        {"Precedence": "auto_reply"},
        {"X-Autoreply": "yes"},
        {"X-Autorespond": "Out of office"},
        {"Content-Type": "multipart/report; report-type=delivery-status; boundary=x"},
    ],
)
def test_automatic_mail_by_header_is_ignored(org, headers):
    raw = make_raw(headers={k: v for k, v in headers.items() if k != "Content-Type"})
    if "Content-Type" in headers:
        raw = raw.replace(
            b"Content-Type: text/plain", b"Content-Type: " + headers["Content-Type"].encode()
        )
    assert receive(raw).status == Status.IGNORED
    assert Complaint.objects.count() == 0


def test_auto_submitted_no_is_a_person(org):
    assert receive(make_raw(headers={"Auto-Submitted": "no"})).status == Status.CREATED


@pytest.mark.parametrize(
    "sender", ["MAILER-DAEMON@mx.example.com", "postmaster@example.com", "complaints@localhost"]
)
def test_bounces_and_our_own_address_are_ignored(org, sender, settings):
    settings.DEFAULT_FROM_EMAIL = "Complaints <complaints@localhost>"
    assert receive(make_raw(sender=sender)).status == Status.IGNORED


def test_our_own_message_coming_back_is_ignored(org, make_complaint):
    complaint = make_complaint("new")
    MailThread.objects.create(message_id="ours-1@mail.shop.example.com", complaint=complaint)
    message = receive(make_raw(message_id="<ours-1@mail.shop.example.com>"))
    assert message.status == Status.IGNORED
    assert "loop" in message.note
    assert not complaint.events.filter(kind=ComplaintEvent.Kind.CUSTOMER_MESSAGE).exists()


def test_an_auto_reply_subject_without_headers_goes_to_review_not_to_a_complaint(org):
    message = receive(make_raw(subject="Automatic reply: Broken chair"))
    assert message.status == Status.REVIEW
    assert Complaint.objects.count() == 0


# --- Review ---------------------------------------------------------------------------------


def test_no_sender_goes_to_review(org, eml):
    message = receive(eml("19_no_sender.eml"))
    assert message.status == Status.REVIEW
    assert "sender" in message.note


def test_no_text_and_no_attachments_goes_to_review(org):
    message = receive(make_raw(body="\n\n"))
    assert message.status == Status.REVIEW
    assert Complaint.objects.count() == 0


def test_a_reply_with_only_quoted_text_goes_to_review(customer_complaint):
    MailThread.objects.create(message_id="q-1@complaints.localhost", complaint=customer_complaint)
    message = receive(
        make_raw(
            sender=CUSTOMER_EMAIL,
            body="> We need your answer",
            headers={"In-Reply-To": "<q-1@complaints.localhost>"},
        )
    )
    assert message.status == Status.REVIEW


# --- Failures ---------------------------------------------------------------------------------


def test_an_error_while_processing_quarantines_and_rolls_back(org, eml, monkeypatch):
    def explode(**kwargs):
        raise RuntimeError("storage is full")

    monkeypatch.setattr(mail.outcomes, "attachment_add", explode)
    raw = eml("10_attachment_only.eml")
    message = receive(raw)  # does not raise
    assert message.status == Status.QUARANTINED
    assert "RuntimeError: storage is full" in message.note
    assert bytes(InboundMessage.objects.get(pk=message.pk).raw) == raw
    # The complaint created before the failure was rolled back with it.
    assert Complaint.objects.count() == 0
    assert Customer.objects.count() == 0


def test_processing_twice_does_nothing_the_second_time(org, eml):
    message = receive(eml("01_gb2312_subject_body.eml"))
    again = mail.inbound_process(message=message)
    assert again.status == Status.CREATED
    assert Complaint.objects.count() == 1


def test_pending_messages_are_processed_by_the_sweep(org, eml):
    stored = mail.inbound_store(raw=eml("04_big5.eml"), source="imap")
    assert mail.inbound_process_pending() == 1
    stored.refresh_from_db()
    assert stored.status == Status.CREATED
    assert mail.inbound_process_pending() == 0


# --- The whole corpus: nothing dropped ----------------------------------------------------------


def test_every_corpus_message_ends_in_a_terminal_status_and_the_counts_add_up(
    customer_complaint, make_complaint
):
    MailThread.objects.create(message_id=OUR_QUESTION_ID, complaint=customer_complaint)
    paths = sorted(CORPUS.glob("*.eml"))
    assert len(paths) >= 19
    for path in paths:
        receive(corpus(path.name))
    rows = InboundMessage.objects.all()
    assert rows.count() == len(paths)
    counts = {status: rows.filter(status=status).count() for status in Status.values}
    assert counts[Status.RECEIVED] == 0
    assert sum(counts[s] for s in mail.TERMINAL) == len(paths)
    assert counts[Status.QUARANTINED] == 0  # nothing in the corpus breaks the parser
    assert counts[Status.IGNORED] == 2  # the auto-reply and the bounce
    assert counts[Status.APPENDED] == 2  # In-Reply-To, and the tracking number from Li Na
    assert counts[Status.REVIEW] == 2  # the stranger, and no sender
    assert counts[Status.CREATED] == len(paths) - 6
    # One complaint per created message, plus the one the replies landed on.
    assert Complaint.objects.count() == counts[Status.CREATED] + 1
    assert all(r.complaint_id for r in rows.filter(status__in=[Status.CREATED, Status.APPENDED]))


def test_a_reply_to_our_real_acknowledgment_lands_on_its_complaint(
    org, eml, django_capture_on_commit_callbacks
):
    # The contract with complaints.services.notifications: what we send is threaded.
    with django_capture_on_commit_callbacks(execute=True):
        created = receive(eml("05_utf8_base64.eml"))
    ours = MailThread.objects.filter(complaint=created.complaint, outgoing=True)
    assert ours.count() >= 1, "the acknowledgment records its Message-ID"
    reply = receive(
        make_raw(
            sender="Emma Wilson <emma.wilson@example.co.uk>",
            subject="Re: We have received your complaint",
            body="Thank you. The serial number is KT-2290.",
            headers={"In-Reply-To": f"<{ours.first().message_id}>"},
        )
    )
    assert reply.status == Status.APPENDED
    assert reply.complaint == created.complaint
