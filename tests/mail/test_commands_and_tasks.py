"""manage.py mail_receive (a mail server's pipe), mail_fetch's configuration, and the
Celery tasks."""

import io
import sys

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError

from complaints import tasks_mail
from complaints.models import Complaint, InboundMessage
from complaints.services import mail
from tests.mail.support import make_raw

pytestmark = pytest.mark.django_db
Status = InboundMessage.Status


def test_mail_receive_stores_and_processes_bytes_from_stdin(org, eml, capsys):
    raw = eml("02_gbk_labelled_gb2312.eml")
    call_command("mail_receive", stdin=io.BytesIO(raw))
    message = InboundMessage.objects.get()
    assert message.source == InboundMessage.Source.PIPE
    assert bytes(message.raw) == raw
    assert message.status == Status.CREATED
    assert Complaint.objects.get().customer.name == "王喆"
    assert "stored" in capsys.readouterr().out


def test_mail_receive_reads_the_binary_stdin_by_default(org, eml, monkeypatch):
    raw = eml("04_big5.eml")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw), encoding="ascii"))
    call_command("mail_receive")
    assert Complaint.objects.get().title == "吹風機壞了，請換貨"


def test_mail_receive_twice_stores_once(org, eml):
    raw = eml("03_gb18030.eml")
    call_command("mail_receive", stdin=io.BytesIO(raw))
    call_command("mail_receive", stdin=io.BytesIO(raw))  # the MTA retried
    assert InboundMessage.objects.count() == 1
    assert Complaint.objects.count() == 1


def test_mail_receive_succeeds_when_processing_fails(org, monkeypatch):
    def explode(message):
        raise RuntimeError("bug")

    monkeypatch.setattr(mail.processing, "_act", explode)
    call_command("mail_receive", stdin=io.BytesIO(make_raw()))  # exit status 0
    assert InboundMessage.objects.get().status == Status.QUARANTINED


def test_mail_receive_garbage_is_stored_not_refused(org):
    call_command("mail_receive", stdin=io.BytesIO(b"\x00\xff garbage \xfe without headers"))
    message = InboundMessage.objects.get()
    assert message.status in (Status.REVIEW, Status.QUARANTINED)


def test_mail_receive_fails_with_tempfail_when_it_cannot_store(org, monkeypatch):
    def down(**kwargs):
        raise DatabaseError("database is down")

    monkeypatch.setattr(mail, "inbound_get_or_store", down)
    with pytest.raises(CommandError) as excinfo:
        call_command("mail_receive", stdin=io.BytesIO(make_raw()))
    assert excinfo.value.returncode == 75  # EX_TEMPFAIL: the mail server retries
    assert "database is down" in str(excinfo.value)


def test_mail_receive_refuses_empty_input(org):
    with pytest.raises(CommandError) as excinfo:
        call_command("mail_receive", stdin=io.BytesIO(b"  \n"))
    assert excinfo.value.returncode == 65
    assert InboundMessage.objects.count() == 0


def test_mail_fetch_without_a_server_says_so(settings):
    settings.MAIL_IMAP_HOST = ""
    with pytest.raises(CommandError, match="MAIL_IMAP_HOST"):
        call_command("mail_fetch")


def test_mail_fetch_options_override_settings(settings, monkeypatch):
    settings.MAIL_IMAP_HOST = "imap.example.com"
    settings.MAIL_IMAP_USER = "complaints"
    settings.MAIL_IMAP_PASSWORD = "from-settings"
    seen = {}

    def fake_fetch(**kwargs):
        seen.update(kwargs)
        from complaints.services.mailfetch import FetchSummary

        return FetchSummary()

    monkeypatch.setattr("complaints.management.commands.mail_fetch.mail_fetch", fake_fetch)
    call_command("mail_fetch", port=1143, security="starttls", folder="Complaints", limit=5)
    assert seen == {
        "host": "imap.example.com",
        "port": 1143,
        "user": "complaints",
        "password": "from-settings",
        "security": "starttls",
        "folder": "Complaints",
        "timeout": 60,
        "limit": 5,
    }


def test_inbound_process_task(org, eml):
    message = mail.inbound_store(raw=eml("05_utf8_base64.eml"), source="pipe")
    assert tasks_mail.inbound_process_task.delay(message.pk).get() == Status.CREATED
    assert tasks_mail.inbound_process_task.delay(999999).get() is None


def test_mail_fetch_task_without_configuration_is_skipped(settings):
    settings.MAIL_IMAP_HOST = ""
    assert tasks_mail.mail_fetch_task.delay().get() == {"skipped": "MAIL_IMAP_HOST is not set"}


def test_mail_fetch_task_reports_an_unreachable_server(settings):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.MAIL_IMAP_HOST = "127.0.0.1"
    settings.MAIL_IMAP_PORT = port
    settings.MAIL_IMAP_SECURITY = "none"
    result = tasks_mail.mail_fetch_task.delay().get()
    assert "Cannot reach the mail server" in result["error"]


def test_mail_fetch_task_fetches(org, mailbox, settings, eml):
    mailbox.append(eml("01_gb2312_subject_body.eml"))
    for name, value in mailbox.settings().items():
        setattr(settings, f"MAIL_IMAP_{name.upper()}", value)
    result = tasks_mail.mail_fetch_task.delay().get()
    assert result["stored"] == 1
    assert result["outcomes"] == {Status.CREATED: 1}


def _run_pipe(raw: bytes, database_url: str):
    import os
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url,
    }
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, str(root / "manage.py"), "mail_receive"],
        input=raw,
        capture_output=True,
        cwd=root,
        env=env,
        timeout=120,
    )


def test_the_pipe_exits_75_when_it_cannot_store_so_the_mail_server_retries(tmp_path, eml):
    result = _run_pipe(
        eml("01_gb2312_subject_body.eml"), f"sqlite:///{tmp_path}/no/such/db.sqlite3"
    )
    assert result.returncode == 75, result.stderr
    assert b"try again later" in result.stderr


def test_the_pipe_exits_65_on_empty_input(tmp_path):
    result = _run_pipe(b"", f"sqlite:///{tmp_path}/db.sqlite3")
    assert result.returncode == 65, result.stderr
