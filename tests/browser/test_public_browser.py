"""The customer's path in a real browser: the complaint form, the acknowledgment
email's signed link, a message on the status page, and customer service's reply."""

import re

import pytest
from django.core import mail
from django.core.cache import cache

from complaints.models import Complaint, ComplaintEvent
from complaints.services import messages
from complaints.services import transitions as t
from tests.browsing import screenshot
from tests.views.test_public import png_bytes

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_submit_follow_the_link_write_and_read_the_reply(page, org):
    mail.outbox = []
    page.goto(page.base_url + "/submit/")
    assert page.locator("#nav-queues").count() == 0  # the public frame, no staff navigation
    page.fill("#id_name", "Li Lei")
    page.fill("#id_phone", "138 0013 8000")
    page.fill("#id_email", "li.lei@example.com")
    page.fill("#id_order_number", "A-1001")
    page.fill("#id_description", "The kettle broke after three days.")
    page.select_option("#id_demand", "replacement")
    page.fill("#id_demand_detail", "The same model, please.")
    page.set_input_files(
        "#id_attachments",
        files=[{"name": "kettle.png", "mimeType": "image/png", "buffer": png_bytes()}],
    )
    assert "kettle.png" in page.locator("[data-file-list]").inner_text()
    honeypot = page.locator("#id_website").bounding_box()
    assert honeypot is None or honeypot["x"] + honeypot["width"] <= 0  # out of sight
    screenshot(page, "public-submit")
    page.click("#complaint-form button[type=submit]")
    page.wait_for_url(re.compile(r"/submit/received/"))

    complaint = Complaint.objects.get()
    assert page.locator("#tracking-number").inner_text() == complaint.tracking_number
    assert complaint.channel == "web"
    assert complaint.attachments.get().original_name == "kettle.png"
    screenshot(page, "public-submitted")

    # The acknowledgment was sent after commit, in the live server's thread.
    assert len(mail.outbox) == 1
    ack = mail.outbox[0]
    assert complaint.tracking_number in ack.body
    link = re.search(r"https?://[^/\s]+(/track/\S+/)", ack.body).group(1)

    # A fresh browser session: only the link opens the status page.
    page.context.clear_cookies()
    page.goto(page.base_url + link)
    page.wait_for_url(re.compile(r"/track/status/"))
    assert page.locator("#tracking-number").inner_text() == complaint.tracking_number
    assert page.locator("#status-label").inner_text() == "Received"
    assert "kettle.png" in page.locator("#timeline").inner_text()

    page.fill("#id_body", "I still have the receipt.")
    page.click("#message-form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#messages").is_visible()
    assert "I still have the receipt." in page.locator("#timeline").inner_text()
    assert complaint.events.filter(kind=ComplaintEvent.Kind.CUSTOMER_MESSAGE).count() == 1

    # Customer service triages the complaint into the team and replies.
    org.agent.first_name, org.agent.last_name = "Lina", "Zhangsecret"
    org.agent.save(update_fields=["first_name", "last_name"])
    complaint.refresh_from_db()
    t.complaint_triage(complaint=complaint, actor=org.agent, category=org.category, priority=org.p3)
    messages.complaint_reply(
        complaint=complaint, actor=org.agent, body="A new kettle is on its way."
    )

    page.reload()
    timeline = page.locator("#timeline").inner_text()
    assert "Lina replied" in timeline
    assert "A new kettle is on its way." in timeline
    assert "Zhangsecret" not in page.content()
    screenshot(page, "public-status")

    # Mobile: one column, nothing wider than the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "public-status-mobile")
    assert page.js_errors == []
