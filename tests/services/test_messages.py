import pytest

from complaints.errors import ActionForbidden, InvalidInput
from complaints.models import ComplaintEvent, Notification
from complaints.services import messages
from complaints.services import transitions as t

pytestmark = pytest.mark.django_db
Kind = ComplaintEvent.Kind


def test_customer_answer_resumes_a_waiting_complaint(make_complaint, org):
    complaint = make_complaint("awaiting_customer")
    messages.complaint_record_customer_message(complaint=complaint, body="Here is the photo")
    complaint.refresh_from_db()
    assert complaint.status == "in_progress"
    change = complaint.status_changes.last()
    assert (change.transition, change.actor) == ("resume", None)
    assert Notification.objects.filter(user=org.agent, kind="customer_message").exists()


def test_customer_writing_after_resolution_reopens_without_owner(make_complaint):
    complaint = make_complaint("resolved")
    messages.complaint_record_customer_message(complaint=complaint, body="Still broken!")
    complaint.refresh_from_db()
    assert complaint.status == "reopened"
    assert complaint.assignee is None
    assert complaint.reopen_count == 1


def test_message_on_a_merged_complaint_lands_on_its_target(make_complaint, org):
    target = make_complaint("in_progress")
    dup = make_complaint("new", customer=target.customer)
    t.complaint_merge(complaint=dup, actor=org.agent, target=target)
    messages.complaint_record_customer_message(complaint=dup, body="Any news?")
    forwarded = target.events.get(kind=Kind.CUSTOMER_MESSAGE)
    assert forwarded.body == "Any news?"
    assert forwarded.data == {"via": dup.tracking_number}
    assert dup.events.filter(kind=Kind.CUSTOMER_MESSAGE).count() == 1


def test_note_mentions_notify_only_people_who_may_see_it(make_complaint, org):
    complaint = make_complaint("in_progress")  # team A
    messages.complaint_add_note(
        complaint=complaint, actor=org.agent, body="@agent2 and @agent_b please look; mail me@x.com"
    )
    assert Notification.objects.filter(user=org.agent2, kind="mentioned").count() == 1
    assert not Notification.objects.filter(user=org.agent_b).exists()
    assert not Notification.objects.filter(user=org.agent, kind="mentioned").exists()


def test_empty_or_huge_messages_are_refused(make_complaint, org):
    complaint = make_complaint("in_progress")
    with pytest.raises(InvalidInput):
        messages.complaint_reply(complaint=complaint, actor=org.agent, body="   ")
    with pytest.raises(InvalidInput):
        messages.complaint_add_note(complaint=complaint, actor=org.agent, body="x" * 20001)


def test_no_writing_on_a_rejected_complaint(make_complaint, org):
    complaint = make_complaint("rejected")
    with pytest.raises(ActionForbidden):
        messages.complaint_add_note(complaint=complaint, actor=org.supervisor, body="late note")


def test_first_reply_sets_first_response_once(
    make_complaint, org, mailoutbox, django_capture_on_commit_callbacks
):
    complaint = make_complaint("in_progress")
    with django_capture_on_commit_callbacks(execute=True):
        messages.complaint_reply(complaint=complaint, actor=org.agent, body="We are on it")
    first = complaint.first_response_at
    assert first is not None
    messages.complaint_reply(complaint=complaint, actor=org.agent, body="Update")
    complaint.refresh_from_db()
    assert complaint.first_response_at == first
    assert [m.body.strip() for m in mailoutbox if "Reply" in m.subject] == ["We are on it"]
