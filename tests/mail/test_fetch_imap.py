"""mail_fetch against a real IMAP server (a throwaway Dovecot, see conftest.py)."""

import imaplib
import socket

import pytest
from django.core.management import CommandError, call_command

from complaints.models import Complaint, InboundMessage
from complaints.services import mail, mailfetch
from complaints.services.mailfetch import MailFetchError, mail_fetch
from tests.mail.support import make_raw

pytestmark = pytest.mark.django_db
Status = InboundMessage.Status


class Crash(BaseException):
    """The process dies (kill -9, power loss): nothing after it runs."""


def test_new_mails_create_complaints_and_leave_the_server(org, mailbox, eml):
    mailbox.append(eml("01_gb2312_subject_body.eml"))
    mailbox.append(eml("05_utf8_base64.eml"))
    summary = mail_fetch(**mailbox.settings())
    assert (summary.found, summary.stored, summary.duplicates, summary.failed) == (2, 2, 0, 0)
    assert summary.removed == 2
    assert summary.outcomes == {Status.CREATED: 2}
    assert sorted(Complaint.objects.values_list("title", flat=True)) == [
        "Broken kettle 😡 – order #A1234",
        "洗衣机漏水，要求退款",
    ]
    assert set(InboundMessage.objects.values_list("source", flat=True)) == {"imap"}
    assert mailbox.uids() == []  # stored, so removed from the server


def test_a_second_fetch_creates_nothing(org, mailbox, eml):
    mailbox.append(eml("03_gb18030.eml"))
    mail_fetch(**mailbox.settings())
    summary = mail_fetch(**mailbox.settings())
    assert (summary.found, summary.stored) == (0, 0)
    assert Complaint.objects.count() == 1
    # The same message delivered again (same Message-ID) is stored once, and removed.
    mailbox.append(eml("03_gb18030.eml"))
    summary = mail_fetch(**mailbox.settings())
    assert (summary.found, summary.stored, summary.duplicates) == (1, 0, 1)
    assert Complaint.objects.count() == 1
    assert InboundMessage.objects.count() == 1
    assert mailbox.uids() == []


def test_a_message_whose_processing_fails_is_quarantined_and_the_next_is_processed(
    org, mailbox, eml, monkeypatch
):
    mailbox.append(make_raw(subject="poison", body="this one breaks"))
    mailbox.append(eml("04_big5.eml"))
    real_act = mail.processing._act

    def act(message):
        if message.subject == "poison":
            raise ValueError("cannot handle this one")
        return real_act(message)

    monkeypatch.setattr(mail.processing, "_act", act)
    summary = mail_fetch(**mailbox.settings())
    assert summary.outcomes == {Status.QUARANTINED: 1, Status.CREATED: 1}
    poison = InboundMessage.objects.get(subject="poison")
    assert poison.status == Status.QUARANTINED
    assert "ValueError: cannot handle this one" in poison.note
    assert b"this one breaks" in bytes(poison.raw)
    assert Complaint.objects.get().title == "吹風機壞了，請換貨"
    assert mailbox.uids() == []  # both stored: the quarantined one is safe in our database


def test_a_crash_after_storing_and_before_flagging_creates_no_duplicate(
    org, mailbox, eml, monkeypatch
):
    mailbox.append(eml("02_gbk_labelled_gb2312.eml"))

    def crash(imap, uid):
        raise Crash

    monkeypatch.setattr(mailfetch, "_mark_done", crash)
    with pytest.raises(Crash):
        mail_fetch(**mailbox.settings())
    # Stored (committed) before the crash; still on the server, unmarked.
    assert InboundMessage.objects.get().status == Status.RECEIVED
    assert len(mailbox.uids("INBOX", "UNDELETED")) == 1
    monkeypatch.undo()

    summary = mail_fetch(**mailbox.settings())
    assert (summary.found, summary.stored, summary.duplicates) == (1, 0, 1)
    assert InboundMessage.objects.count() == 1
    assert Complaint.objects.count() == 1
    assert InboundMessage.objects.get().status == Status.CREATED
    assert mailbox.uids() == []


def test_the_server_is_marked_only_after_the_message_is_stored(org, mailbox, eml, monkeypatch):
    mailbox.append(eml("06_quoted_printable.eml"))
    seen = []
    real_mark = mailfetch._mark_done

    def mark(imap, uid):
        # At this moment the row must exist already.
        seen.append(
            InboundMessage.objects.filter(subject="Charged twice for order B-7731").exists()
        )
        return real_mark(imap, uid)

    monkeypatch.setattr(mailfetch, "_mark_done", mark)
    mail_fetch(**mailbox.settings())
    assert seen == [True]


def test_a_failed_mark_is_logged_the_message_processed_and_removed_next_time(
    org, mailbox, eml, monkeypatch
):
    mailbox.append(eml("01_gb2312_subject_body.eml"))

    def refuse(imap, uid):
        raise imaplib.IMAP4.error("STORE refused")

    monkeypatch.setattr(mailfetch, "_mark_done", refuse)
    summary = mail_fetch(**mailbox.settings())
    assert summary.outcomes == {Status.CREATED: 1}
    assert summary.removed == 0
    assert "STORE refused" in summary.errors
    assert len(mailbox.uids()) == 1
    monkeypatch.undo()
    summary = mail_fetch(**mailbox.settings())
    assert summary.duplicates == 1
    assert Complaint.objects.count() == 1
    assert mailbox.uids() == []


def test_a_message_that_cannot_be_stored_stays_on_the_server(org, mailbox, eml, monkeypatch):
    mailbox.append(make_raw(subject="unstorable"))
    mailbox.append(eml("05_utf8_base64.eml"))
    real_store = mail.inbound_get_or_store

    def store(*, raw, source):
        if b"unstorable" in raw:
            raise RuntimeError("database is locked")
        return real_store(raw=raw, source=source)

    monkeypatch.setattr(mail, "inbound_get_or_store", store)
    summary = mail_fetch(**mailbox.settings())
    assert (summary.found, summary.stored, summary.failed) == (2, 1, 1)
    assert Complaint.objects.count() == 1
    assert len(mailbox.uids()) == 1  # left for the next run
    monkeypatch.undo()
    mail_fetch(**mailbox.settings())
    assert Complaint.objects.count() == 2
    assert mailbox.uids() == []


def test_limit_takes_the_oldest_first(org, mailbox):
    for n in range(3):
        mailbox.append(make_raw(subject=f"limit {n}"))
    summary = mail_fetch(**mailbox.settings(), limit=2)
    assert summary.found == 2
    assert sorted(InboundMessage.objects.values_list("subject", flat=True)) == [
        "limit 0",
        "limit 1",
    ]
    assert len(mailbox.uids()) == 1


def test_wrong_password_is_a_clear_error(org, mailbox):
    with pytest.raises(MailFetchError, match="refused the login of complaints"):
        mail_fetch(**mailbox.settings(password="wrong"))
    with pytest.raises(CommandError, match="refused the login"):
        call_command("mail_fetch", **mailbox.settings(password="wrong"))


def test_unknown_folder_is_a_clear_error(org, mailbox):
    with pytest.raises(MailFetchError, match="no folder Nope"):
        mail_fetch(**mailbox.settings(folder="Nope"))


def test_the_command_fetches_once_and_reports(org, mailbox, eml, capsys):
    mailbox.append(eml("07_outlook_html_only.eml"))
    call_command("mail_fetch", **mailbox.settings())
    out = capsys.readouterr().out
    assert "found 1, stored 1" in out
    assert "created 1" in out
    assert Complaint.objects.get().title == "Torn seam on delivered sofa"


def test_an_unreachable_server_is_a_clear_error(org):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    with pytest.raises(MailFetchError, match=f"Cannot reach the mail server 127.0.0.1:{port}"):
        mail_fetch(host="127.0.0.1", port=port, user="u", password="p", security="none", timeout=5)
    with pytest.raises(CommandError, match="Cannot reach"):
        call_command(
            "mail_fetch", host="127.0.0.1", port=port, user="u", password="p", security="none"
        )
