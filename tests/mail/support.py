"""Building messages and a customer's complaint for the mail tests."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

from complaints.models import Complaint
from complaints.services import mail

# The tracking number the reply messages of the corpus quote.
TRACKING = "TS-20261120-7K4Q9"
CUSTOMER_EMAIL = "li.na@example.cn"
# Message-IDs of mail "we sent" that 16_reply_in_reply_to.eml answers.
OUR_ACK_ID = "176360490012.4711.3141592653@complaints.localhost"
OUR_QUESTION_ID = "176361000099.4712.2718281828@complaints.localhost"


def make_raw(
    *,
    sender: str | None = "Kim Park <kim.park@example.com>",
    subject: str = "Broken chair",
    body: str = "The chair broke on the second day.",
    headers: dict[str, str] | None = None,
    message_id: str | None = None,
) -> bytes:
    msg = EmailMessage()
    if sender:
        msg["From"] = sender
    msg["To"] = "complaints@shop.example.com"
    msg["Subject"] = subject
    msg["Message-ID"] = message_id or make_msgid(domain="example.com")
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    return msg.as_bytes()


def receive(raw: bytes, source: str = "pipe"):
    """Store and process, as the pipe and the fetch do."""
    return mail.inbound_process(message=mail.inbound_store(raw=raw, source=source))


def with_tracking_number(complaint: Complaint, number: str = TRACKING) -> Complaint:
    """The corpus quotes a fixed tracking number; real ones are random."""
    Complaint.objects.filter(pk=complaint.pk).update(tracking_number=number)
    complaint.refresh_from_db()
    return complaint
