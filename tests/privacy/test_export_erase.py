"""The customer data export (ZIP) and erasure, by service, command and admin action."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from complaints.models import (
    AccessLog,
    Attachment,
    Complaint,
    ComplaintEvent,
    Customer,
    CustomerExternalId,
    InboundMessage,
    OutboxMessage,
    StatusChange,
    SurveyResponse,
)
from complaints.services import attachments, audit, messages, privacy, survey
from complaints.services import transitions as t
from complaints.services.privacy import ERASED
from tests.mail.support import make_raw, receive
from tests.support import png

NAME = "张伟"
EMAIL = "zhang.wei@example.com"
PHONE = "+8613800138000"
ORDER = "JD-20260301-778"


@pytest.fixture
def story(org, django_capture_on_commit_callbacks):
    """A mailed complaint handled to the end: notes, a reply, a file, a survey."""
    raw = make_raw(
        sender=f"{NAME} <{EMAIL}>",
        subject=f"水壶漏水 订单 {ORDER}",
        body=f"我是{NAME}，电话 138 0013 8000，订单 {ORDER}。水壶漏水。",
    )
    with django_capture_on_commit_callbacks(execute=True):
        message = receive(raw)
    complaint = message.complaint
    customer = complaint.customer
    Customer.objects.filter(pk=customer.pk).update(phone=PHONE)
    CustomerExternalId.objects.create(customer=customer, system="wechat", value="wx-zw-1001")
    Complaint.objects.filter(pk=complaint.pk).update(order_number=ORDER)
    complaint.refresh_from_db()
    t.complaint_triage(complaint=complaint, actor=org.agent, category=org.category, priority=org.p3)
    t.complaint_assign(complaint=complaint, actor=org.supervisor, assignee=org.agent)
    t.complaint_start(complaint=complaint, actor=org.agent)
    messages.complaint_add_note(
        complaint=complaint, actor=org.agent, body=f"Called {NAME} on 138-0013-8000, polite."
    )
    with django_capture_on_commit_callbacks(execute=True):
        messages.complaint_reply(
            complaint=complaint, actor=org.agent, body=f"Dear {NAME}, a new kettle is on its way."
        )
    attachments.attachment_add(complaint=complaint, actor=org.agent, upload=png("receipt.png"))
    t.complaint_await_customer(
        complaint=complaint, actor=org.agent, question=f"{NAME}, is {ORDER} your order?"
    )
    t.complaint_resume(complaint=complaint, actor=org.agent)
    t.complaint_resolve(
        complaint=complaint,
        actor=org.agent,
        summary=f"Replaced the kettle of {NAME}",
        root_cause="product_defect",
        remedy="Replacement shipped",
    )
    survey.survey_submit(complaint=complaint, rating=4, solved=True, comment=f"谢谢 {EMAIL}")
    complaint.refresh_from_db()
    assert complaint.status == "closed"
    return complaint


def _export(complaint, actor) -> zipfile.ZipFile:
    out = io.BytesIO()
    privacy.customer_export(customer=complaint.customer, actor=actor, out=out)
    return zipfile.ZipFile(io.BytesIO(out.getvalue()))


def test_export_holds_everything_about_the_person(org, story):
    zf = _export(story, org.admin)
    names = set(zf.namelist())
    assert {"customer.json", "outbox.json", "manifest.json"} <= names
    customer = json.loads(zf.read("customer.json"))[0]
    assert (customer["name"], customer["phone"], customer["email"]) == (NAME, PHONE, EMAIL)
    assert customer["external_ids"][0]["value"] == "wx-zw-1001"
    data = json.loads(zf.read(f"complaints/{story.tracking_number}.json"))
    assert data["order_number"] == ORDER
    kinds = {e["kind"] for e in data["timeline"]}
    assert {"received", "note_added", "reply_sent"} <= kinds
    assert any(not e["is_internal"] for e in data["timeline"])
    assert any(e["is_internal"] for e in data["timeline"])
    assert [s["transition"] for s in data["status_changes"]][:2] == ["receive", "triage"]
    assert data["survey_responses"][0]["comment"] == f"谢谢 {EMAIL}"
    attachment = data["attachments"][0]
    assert attachment["original_name"] == "receipt.png"
    file_names = [n for n in names if n.startswith("attachments/")]
    assert len(file_names) == 1 and zf.read(file_names[0]).startswith(b"\x89PNG")
    mails = [n for n in names if n.endswith(".eml")]
    assert len(mails) == 1 and EMAIL.encode() in zf.read(mails[0])
    outbox = json.loads(zf.read("outbox.json"))
    assert outbox and all(m["to"] == EMAIL for m in outbox)
    assert any(NAME in m["body"] for m in outbox)
    manifest = json.loads(zf.read("manifest.json"))
    assert manifest["complaints"] == 1 and manifest["attachments"] == 1


def test_export_is_logged_and_on_the_timeline(org, story):
    _export(story, org.admin)
    log = AccessLog.objects.get(event=AccessLog.Event.CUSTOMER_EXPORTED)
    assert (log.user, log.target) == (org.admin, f"customer:{story.customer_id}")
    assert log.detail["complaints"] == 1
    event = story.events.filter(data__privacy="exported").get()
    assert event.is_internal and event.actor == org.admin


def test_export_includes_records_merged_into_the_customer(org, story, make_complaint):
    from tests.factories import CustomerFactory

    old = CustomerFactory(name=NAME, phone="", email="zw-old@example.com")
    earlier = make_complaint("new", customer=old)
    Customer.objects.filter(pk=old.pk).update(merged_into=story.customer)
    zf = _export(story, org.admin)
    assert len(json.loads(zf.read("customer.json"))) == 2
    assert f"complaints/{earlier.tracking_number}.json" in zf.namelist()


def _texts_of(complaint) -> str:
    """Every stored text tied to the complaint, to search for the person."""
    parts = [
        str(list(Complaint.objects.filter(pk=complaint.pk).values())),
        str(list(Complaint.history.filter(id=complaint.pk).values())),
        str(list(ComplaintEvent.objects.filter(complaint=complaint).values("body", "data"))),
        str(list(StatusChange.objects.filter(complaint=complaint).values("reason"))),
        str(list(SurveyResponse.objects.filter(complaint=complaint).values("comment"))),
        str(list(OutboxMessage.objects.values("to", "subject", "body", "headers"))),
        str(list(Attachment.objects.values("original_name", "file"))),
        str(list(Customer.objects.values())),
        str(list(Customer.history.values())),
        str(list(CustomerExternalId.history.values("value"))),
    ]
    parts += [
        bytes(m.raw).decode("utf-8", "replace") + m.from_address + m.subject
        for m in InboundMessage.objects.all()
    ]
    return "\n".join(parts)


def test_erasure_anonymises_everywhere_and_keeps_the_statistics(
    org, story, media, django_capture_on_commit_callbacks
):
    stored = Attachment.objects.get().file.name
    assert (media / stored).exists()
    before = {
        "status": story.status,
        "category": story.category_id,
        "received_at": story.received_at,
        "closed_at": story.closed_at,
        "root_cause": story.root_cause,
        "channel": story.channel,
    }
    with django_capture_on_commit_callbacks(execute=True):
        result = privacy.customer_erase(customer=story.customer, actor=org.admin)
    assert not result.already_erased
    text = _texts_of(story)
    for secret in (NAME, EMAIL, "13800138000", "138 0013 8000", "138-0013-8000", ORDER, "wx-zw"):
        assert secret not in text, secret
    story.refresh_from_db()
    assert {k: getattr(story, k if k != "category" else "category_id") for k in before} == before
    assert (story.title, story.description, story.order_number) == (ERASED, ERASED, "")
    assert story.resolution_summary == f"Replaced the kettle of {ERASED}"
    assert SurveyResponse.objects.get().rating == 4
    assert SurveyResponse.objects.get().comment == ERASED
    note = story.events.get(kind="note_added", actor=org.agent)
    assert note.body == f"Called {ERASED} on {ERASED}, polite."
    attachment = Attachment.objects.get()
    assert (attachment.original_name, attachment.file.name, attachment.size > 0) == (
        ERASED,
        "",
        True,
    )
    assert not (media / stored).exists()
    assert all(bytes(m.raw) == b"" for m in InboundMessage.objects.all())
    customer = Customer.objects.get(pk=story.customer_id)
    assert customer.erased_at is not None
    assert not CustomerExternalId.objects.exists()
    log = AccessLog.objects.get(event=AccessLog.Event.CUSTOMER_ERASED)
    assert (log.user, log.target) == (org.admin, f"customer:{customer.pk}")
    assert story.events.filter(data__privacy="erased").count() == 1
    # The question named the person: its row was rewritten and the chain resealed.
    assert StatusChange.objects.get(transition="await_customer").reason == (
        f"{ERASED}, is {ERASED} your order?"
    )
    assert audit.chain_verify(story).ok


def test_erasure_stops_pending_messages(org, make_complaint):
    from tests.factories import CustomerFactory

    complaint = make_complaint("new", customer=CustomerFactory(email=EMAIL, name=NAME))
    pending = OutboxMessage.objects.get(complaint=complaint)
    assert pending.state == OutboxMessage.State.PENDING
    privacy.customer_erase(customer=complaint.customer, actor=org.admin)
    pending.refresh_from_db()
    assert (pending.state, pending.to, pending.body) == ("failed", ERASED, ERASED)


def test_erasure_is_idempotent(org, story):
    first = privacy.customer_erase(customer=story.customer, actor=org.admin)
    second = privacy.customer_erase(customer=story.customer, actor=org.admin)
    assert second.already_erased and second.customer.erased_at == first.customer.erased_at
    assert AccessLog.objects.filter(event=AccessLog.Event.CUSTOMER_ERASED).count() == 1
    assert story.events.filter(data__privacy="erased").count() == 1


def test_the_erased_card_says_so(client, org, story):
    privacy.customer_erase(customer=story.customer, actor=org.admin)
    client.force_login(org.supervisor)
    html = client.get(reverse("complaints:staff-detail", args=[story.pk])).content.decode()
    assert 'id="customer-erased"' in html and NAME not in html


# --- Commands -----------------------------------------------------------------------------------


def test_export_and_erase_commands(org, story, tmp_path):
    target = tmp_path / "out.zip"
    out = io.StringIO()
    call_command(
        "customer_export", str(story.customer_id), "--by", "admin", "-o", str(target), stdout=out
    )
    assert zipfile.ZipFile(target).read("customer.json")
    assert "complaints=1" in out.getvalue()
    with pytest.raises(CommandError, match="--yes"):
        call_command("customer_erase", str(story.customer_id), "--by", "admin")
    with pytest.raises(CommandError, match="no user"):
        call_command("customer_erase", str(story.customer_id), "--by", "ghost", "--yes")
    with pytest.raises(CommandError, match="no customer"):
        call_command("customer_export", "99999", "--by", "admin")
    call_command("customer_erase", str(story.customer_id), "--by", "admin", "--yes", stdout=out)
    assert Customer.objects.get(pk=story.customer_id).erased_at is not None
    call_command("customer_erase", str(story.customer_id), "--by", "admin", "--yes", stdout=out)
    assert "already erased" in out.getvalue()


# --- Admin actions ------------------------------------------------------------------------------


def _action(client, action, customer, **extra):
    return client.post(
        reverse("admin:complaints_customer_changelist"),
        {"action": action, "_selected_action": [customer.pk], **extra},
    )


def test_admin_export_action_returns_the_zip(client, org, story):
    client.force_login(org.admin)
    response = _action(client, "export_personal_data", story.customer)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    zf = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert "customer.json" in zf.namelist()


def test_admin_erase_action_asks_first(client, org, story):
    client.force_login(org.admin)
    response = _action(client, "erase_personal_data", story.customer)
    assert response.status_code == 200
    assert "cannot be undone" in response.content.decode()
    assert Customer.objects.get(pk=story.customer_id).erased_at is None
    response = _action(client, "erase_personal_data", story.customer, confirm="yes")
    assert response.status_code == 302
    assert Customer.objects.get(pk=story.customer_id).erased_at is not None


def test_admin_actions_need_the_personal_data_permission(client, org, story):
    from django.contrib.auth.models import Permission

    from tests.factories import UserFactory

    clerk = UserFactory(username="clerk", is_staff=True)
    clerk.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_customer", "change_customer"])
    )
    client.force_login(clerk)
    html = client.get(reverse("admin:complaints_customer_changelist")).content.decode()
    assert "erase_personal_data" not in html and "export_personal_data" not in html
    _action(client, "erase_personal_data", story.customer, confirm="yes")
    assert Customer.objects.get(pk=story.customer_id).erased_at is None
