"""Retention of raw mail and attachment files (services/housekeeping.py)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from complaints.models import Attachment, InboundMessage
from complaints.services import attachments
from complaints.services.housekeeping import housekeeping_purge
from tests.mail.support import make_raw, receive
from tests.support import png

LATER = timedelta(days=31)


def test_nothing_is_purged_by_default(org, make_complaint, settings):
    receive(make_raw())
    result = housekeeping_purge(now=timezone.now() + timedelta(days=3650))
    assert "raw_mails" not in result and "attachment_files" not in result
    assert bytes(InboundMessage.objects.get().raw) != b""


def test_raw_mail_is_emptied_after_the_retention_but_not_mail_still_waiting(org, settings):
    settings.RAW_MAIL_RETENTION_DAYS = 30
    done = receive(make_raw(subject="Done"))
    waiting = InboundMessage.objects.create(
        source="pipe", dedupe_key="w", raw=b"From: x", size=7, status="review"
    )
    fresh = receive(make_raw(subject="Fresh"))
    InboundMessage.objects.filter(pk=fresh.pk).update(received_at=timezone.now() + LATER)
    result = housekeeping_purge(now=timezone.now() + LATER)
    assert result["raw_mails"] == 1
    done.refresh_from_db()
    assert bytes(done.raw) == b"" and done.status == "created" and done.message_id
    assert bytes(InboundMessage.objects.get(pk=waiting.pk).raw) == b"From: x"
    assert bytes(InboundMessage.objects.get(pk=fresh.pk).raw) != b""
    assert housekeeping_purge(now=timezone.now() + LATER)["raw_mails"] == 0


def test_attachment_files_of_finished_complaints_go_after_the_retention(
    org, make_complaint, settings, media, django_capture_on_commit_callbacks
):
    settings.ATTACHMENT_RETENTION_DAYS = 30
    open_one = make_complaint("in_progress")
    closed = make_complaint("in_progress")
    kept = attachments.attachment_add(complaint=open_one, actor=org.agent, upload=png())
    gone = attachments.attachment_add(complaint=closed, actor=org.agent, upload=png("b.png"))
    from complaints.services import survey
    from complaints.services import transitions as t

    t.complaint_resolve(
        complaint=closed, actor=org.agent, summary="Done", root_cause="product_defect", remedy="x"
    )
    survey.survey_submit(complaint=closed, rating=5, solved=True)
    stored = gone.file.name
    with django_capture_on_commit_callbacks(execute=True):
        result = housekeeping_purge(now=timezone.now() + LATER)
    assert result["attachment_files"] == 1
    gone.refresh_from_db()
    assert gone.file.name == "" and gone.original_name == "b.png" and gone.size > 0
    assert not (media / stored).exists()
    assert Attachment.objects.get(pk=kept.pk).file.name
    assert (media / kept.file.name).exists()
