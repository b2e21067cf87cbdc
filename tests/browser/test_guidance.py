"""Handling aids in the browser: tick a step of the complaint's SOP, insert a reply
template into the reply box, edit and send it."""

import pytest
from django.core import mail
from playwright.sync_api import expect

from complaints.models import ReplyTemplate, SopCheck
from complaints.services import guidance
from tests.browsing import detail_url, screenshot, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_agent_ticks_a_step_and_sends_a_reply_from_a_template(page, org, make_complaint):
    complaint = make_complaint("in_progress")
    complaint.customer.name = "Wang Fang"
    complaint.customer.save(update_fields=["name"])
    guidance.sop_save_version(
        category=org.category,
        actor=org.admin,
        title="Product quality SOP",
        steps=["Call the customer", "Ask for a photo", "Offer a replacement"],
        allowed_remedies=["replacement"],
        time_limit_hours=24,
    )
    ReplyTemplate.objects.create(
        name="Replacement on its way",
        category=org.category,
        body="Dear {customer_name}, about {tracking_number}: a new kettle is on its way.",
    )
    expected = f"Dear Wang Fang, about {complaint.tracking_number}: a new kettle is on its way."

    sign_in(page, "agent")
    page.goto(detail_url(page, complaint))
    panel = page.locator("#sop-panel")
    expect(panel.locator(".sop-title")).to_have_text("Product quality SOP")
    expect(panel.locator(".sop-progress")).to_have_text("0/3")

    # Tick step 2: htmx posts it and swaps the panel in place.
    panel.locator("#sop-step-2").check()
    expect(page.locator("#sop-panel li[data-step='2']")).to_have_attribute("data-done", "1")
    expect(page.locator("#sop-panel .sop-progress")).to_have_text("1/3")
    expect(page.locator("#sop-panel li[data-step='2'] .sop-done-by")).to_contain_text(
        str(org.agent)
    )
    assert SopCheck.objects.get().step == 2

    # Insert the template: the reply box gets the rendered text, still editable.
    page.locator("#reply-template").select_option(label="Replacement on its way")
    page.click("#reply-template-insert")
    box = page.locator("#message-form textarea[name=body]")
    expect(box).to_have_value(expected)
    screenshot(page, "guidance-template-inserted")
    box.press("End")
    box.type(" Regards.")
    sent_before = len(mail.outbox)
    page.click("#message-form [data-send='reply']")

    expect(page.locator("#messages")).to_contain_text("Reply sent to the customer.")
    reply = page.locator("#timeline li[data-kind='reply_sent']")
    expect(reply.locator(".body")).to_have_text(expected + " Regards.")
    step = page.locator("#timeline li[data-kind='sop_step']")
    expect(step).to_have_count(1)
    expect(step.locator(".body")).to_contain_text("Step 2 done: Ask for a photo")
    expect(step.locator(".visibility")).to_have_text("Internal")
    # The ticked step survived the page reload.
    expect(page.locator("#sop-panel li[data-step='2']")).to_have_attribute("data-done", "1")
    assert any(expected in m.body for m in mail.outbox[sent_before:])
    screenshot(page, "guidance-after-reply")
    assert page.js_errors == []
