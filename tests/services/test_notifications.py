import pytest

from complaints.models import MailThread
from complaints.services import messages

pytestmark = pytest.mark.django_db


def test_outgoing_mail_is_threaded_and_marked_automatic(
    make_complaint, org, mailoutbox, django_capture_on_commit_callbacks, settings
):
    settings.COMPLAINT_REPLY_TO = "support@example.com"
    with django_capture_on_commit_callbacks(execute=True):
        complaint = make_complaint("in_progress")
        messages.complaint_reply(complaint=complaint, actor=org.agent, body="Hello")
    ack, reply = mailoutbox[0], mailoutbox[-1]
    assert ack.extra_headers["Auto-Submitted"] == "auto-generated"
    assert "Auto-Submitted" not in reply.extra_headers  # a person wrote it
    assert reply.reply_to == ["support@example.com"]
    for message in (ack, reply):
        message_id = message.extra_headers["Message-ID"].strip("<>")
        assert MailThread.objects.get(message_id=message_id).complaint == complaint
