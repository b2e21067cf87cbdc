"""The agent's day on one complaint, in the browser: queue → detail → claim → start →
reply → internal note → resolve; and what the detail page shows when a change is
refused or someone else got there first."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from complaints.services import transitions as t
from complaints.services.editing import complaint_update
from tests.browsing import (
    detail_url,
    open_action,
    screenshot,
    sign_in,
    sign_out,
    unexpected_js_errors,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_agent_handles_a_complaint_from_queue_to_resolved(page, org, make_complaint):
    complaint = make_complaint("triaged")
    assert complaint.team == org.team
    number = complaint.tracking_number
    customer_email = complaint.customer.email

    sign_in(page, "agent")
    page.click("#nav-queues a[data-queue='team']")
    expect(page).to_have_url(re.compile(r"/queue/team/$"))
    expect(page.locator("#nav-queues a[data-queue='team']")).to_have_attribute(
        "aria-current", "page"
    )
    row = page.locator(f"tr[data-tracking='{number}']")
    expect(row).to_be_visible()
    expect(row.locator(".status")).to_have_text("Triaged")
    expect(row).to_contain_text("Kettle stopped working")
    expect(row).to_contain_text("—")  # nobody owns it yet
    screenshot(page, "queue")

    row.get_by_role("link", name=number).click()
    expect(page).to_have_url(detail_url(page, complaint))
    expect(page.locator("#complaint-header .tracking-number")).to_have_text(number)
    expect(page.locator("#complaint-status")).to_have_text("Triaged")

    # Claim: an agent's "assign" is a one-click claim, no modal.
    claim = page.locator("#actions [data-action='assign']")
    expect(claim).to_have_text("Claim")
    claim.click()
    expect(page.locator("#messages")).to_contain_text("is now “Assigned”")
    expect(page.locator("#complaint-status")).to_have_text("Assigned")
    expect(page.locator("#fact-assignee")).to_have_text(str(org.agent))

    page.click("#actions [data-action='start']")
    expect(page.locator("#complaint-status")).to_have_text("In progress")
    expect(page.locator("#fact-first-response")).to_contain_text("Not yet")

    # Reply to the customer: emailed, shown as visible to the customer.
    sent_before = len(mail.outbox)
    reply_text = "We are sending you a new kettle today."
    page.fill("#message-form textarea[name=body]", reply_text)
    page.click("#message-form [data-send='reply']")
    expect(page.locator("#messages")).to_contain_text("Reply sent to the customer.")
    reply = page.locator("#timeline li[data-kind='reply_sent']")
    expect(reply).to_have_count(1)
    expect(reply.locator(".body")).to_have_text(reply_text)
    expect(reply.locator(".visibility")).to_have_text("Visible to the customer")
    expect(reply).to_have_class(re.compile(r"\bcustomer\b"))
    expect(page.locator("#fact-first-response")).not_to_contain_text("Not yet")
    replies = mail.outbox[sent_before:]
    assert len(replies) == 1, [m.subject for m in replies]
    assert replies[0].to == [customer_email]
    assert reply_text in replies[0].body

    # Internal note: not emailed, badge "Internal".
    sent_before = len(mail.outbox)
    page.fill("#message-form textarea[name=body]", "Warehouse confirmed stock, @agent2 FYI.")
    page.click("#message-form [data-send='note']")
    expect(page.locator("#messages")).to_contain_text("Internal note added.")
    note = page.locator("#timeline li[data-kind='note_added']")
    expect(note).to_have_count(1)
    expect(note.locator(".visibility")).to_have_text("Internal")
    expect(note).to_have_class(re.compile(r"\binternal\b"))
    assert len(mail.outbox) == sent_before
    # The composer is empty again after a successful post.
    expect(page.locator("#message-form textarea[name=body]")).to_have_value("")

    # Resolve through the modal.
    form = open_action(page, "resolve")
    expect(page.locator("#action-modal")).to_be_visible()
    expect(form.locator("#action-modal-title")).to_have_text(f"Resolve · {number}")
    form.locator("textarea[name=summary]").fill("Replacement kettle shipped.")
    form.locator("select[name=root_cause]").select_option("product_defect")
    form.locator("textarea[name=remedy]").fill("Free replacement")
    form.locator("button[type=submit]").click()
    expect(page.locator("#complaint-status")).to_have_text("Resolved")
    expect(page.locator("#messages")).to_contain_text(f"{number} is now “Resolved”")
    expect(page.locator("#facts")).to_contain_text("Replacement kettle shipped.")
    expect(page.locator("#facts")).to_contain_text("Product defect")
    expect(page.locator("#facts")).to_contain_text("Free replacement")
    expect(page.locator("#action-modal")).to_be_hidden()
    expect(
        page.locator("#timeline li[data-kind='status_changed'] .status-change").filter(
            has_text="In progress → Resolved"
        )
    ).to_have_count(1)
    screenshot(page, "detail")

    complaint.refresh_from_db()
    assert complaint.status == "resolved"
    assert complaint.assignee == org.agent
    assert complaint.root_cause == "product_defect"

    # The team queue lists open work only: the resolved complaint has left it...
    page.click("#nav-queues a[data-queue='team']")
    expect(page).to_have_url(re.compile(r"/queue/team/$"))
    expect(page.locator(f"tr[data-tracking='{number}']")).to_have_count(0)
    expect(page.locator("#queue-table")).to_contain_text("No complaints here.")
    # ...and a supervisor finds it, resolved, under "All complaints".
    assert page.locator("#nav-queues a[data-queue='all']").count() == 0
    sign_out(page)
    sign_in(page, "supervisor")
    page.click("#nav-queues a[data-queue='all']")
    row = page.locator(f"tr[data-tracking='{number}']")
    expect(row.locator(".status")).to_have_text("Resolved")
    expect(row).to_contain_text(str(org.agent))
    assert page.js_errors == []


def test_a_refused_resolve_shows_why_in_the_modal(page, org, make_complaint):
    complaint = make_complaint("in_progress")
    sent_before = len(mail.outbox)
    sign_in(page, "agent")
    page.goto(detail_url(page, complaint))
    form = open_action(page, "resolve")

    # The browser itself refuses an empty root cause (required field): nothing is posted.
    form.locator("textarea[name=summary]").fill("Replaced it.")
    form.locator("textarea[name=remedy]").fill("Replacement")
    root_cause = form.locator("select[name=root_cause]")
    expect(root_cause).to_have_attribute("required", "")
    form.locator("button[type=submit]").click()
    assert root_cause.evaluate("el => el.validity.valueMissing") is True
    expect(page.locator("#transition-error")).to_have_count(0)

    # A summary of blanks passes the browser but not the server: the modal says why.
    form.locator("textarea[name=summary]").fill("   ")
    root_cause.select_option("product_defect")
    form.locator("button[type=submit]").click()
    error = page.locator("#action-modal #transition-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("“Resolve” is not possible yet. Required:")
    expect(error.locator(".reason")).to_have_text(
        ["a resolution summary and a root cause are recorded"]
    )
    # The modal is still open, with the form to correct; the page behind is unchanged.
    expect(page.locator("#action-modal")).to_be_visible()
    expect(
        page.locator("#action-modal #transition-form[data-transition='resolve']")
    ).to_be_visible()
    expect(page.locator("#complaint-status")).to_have_text("In progress")

    complaint.refresh_from_db()
    assert complaint.status == "in_progress"
    assert complaint.resolution_summary == ""
    assert complaint.root_cause == ""
    assert len(mail.outbox) == sent_before

    # Corrected in the same modal, it goes through.
    form = page.locator("#action-modal #transition-form[data-transition='resolve']")
    form.locator("textarea[name=summary]").fill("Replaced it.")
    form.locator("button[type=submit]").click()
    expect(page.locator("#complaint-status")).to_have_text("Resolved")
    complaint.refresh_from_db()
    assert complaint.status == "resolved"
    assert unexpected_js_errors(page, 409) == []


def test_a_reply_to_a_complaint_changed_meanwhile_is_not_sent(page, org, make_complaint):
    complaint = make_complaint("in_progress")
    sign_in(page, "agent")
    page.goto(detail_url(page, complaint))
    expect(page.locator("#complaint-status")).to_have_text("In progress")

    # Meanwhile the supervisor hands the complaint to agent2.
    t.complaint_reassign(
        complaint=complaint,
        actor=org.supervisor,
        assignee=org.agent2,
        reason="Agent is off tomorrow",
    )
    sent_before = len(mail.outbox)

    body = "Your replacement is on its way."
    page.fill("#message-form textarea[name=body]", body)
    page.click("#message-form [data-send='reply']")
    conflict = page.locator("#conflict")
    expect(conflict).to_be_visible()
    expect(conflict).to_contain_text(
        "Someone else replied or changed this complaint since you opened it: "
        "your reply was NOT sent."
    )
    expect(conflict).to_contain_text(f"Assignee: {org.agent2}")
    expect(conflict.locator(".changes-since")).to_contain_text("Agent is off tomorrow")
    # What was typed is kept, ready to be sent again after reading the changes.
    expect(page.locator("#message-form textarea[name=body]")).to_have_value(body)
    expect(page.locator("#timeline li[data-kind='reply_sent']")).to_have_count(0)

    assert len(mail.outbox) == sent_before
    assert not complaint.events.filter(kind="reply_sent").exists()

    # Having read the changes, the agent sends the same text again: it goes through.
    page.click("#message-form [data-send='reply']")
    expect(page.locator("#messages")).to_contain_text("Reply sent to the customer.")
    expect(page.locator("#conflict")).to_have_count(0)
    expect(page.locator("#timeline li[data-kind='reply_sent'] .body")).to_have_text(body)
    assert len(mail.outbox) == sent_before + 1
    assert unexpected_js_errors(page, 409) == []


def test_a_transition_on_a_complaint_changed_meanwhile_asks_to_confirm(page, org, make_complaint):
    complaint = make_complaint("in_progress")
    sign_in(page, "agent")
    page.goto(detail_url(page, complaint))
    form = open_action(page, "resolve")
    form.locator("textarea[name=summary]").fill("Replaced it.")
    form.locator("select[name=root_cause]").select_option("product_defect")
    form.locator("textarea[name=remedy]").fill("Replacement")

    # While the modal is open, the supervisor raises the priority.
    complaint_update(
        complaint=complaint, actor=org.supervisor, reason="VIP customer", priority=org.p1
    )
    form.locator("button[type=submit]").click()
    conflict = page.locator("#action-modal #conflict")
    expect(conflict).to_contain_text(
        "This complaint was changed by someone else since you opened it. Nothing was saved."
    )
    expect(conflict.locator(".changes-since")).to_contain_text("VIP customer")
    complaint.refresh_from_db()
    assert complaint.status == "in_progress"

    # The typed inputs are kept; confirming again resolves it.
    form = page.locator("#action-modal #transition-form[data-transition='resolve']")
    expect(form.locator("textarea[name=summary]")).to_have_value("Replaced it.")
    form.locator("button[type=submit]").click()
    expect(page.locator("#complaint-status")).to_have_text("Resolved")
    complaint.refresh_from_db()
    assert complaint.status == "resolved"
    assert complaint.priority == org.p1
    assert unexpected_js_errors(page, 409) == []
