"""In the browser: an agent sees the customer's contact details masked on the complaint
page, reveals them with one click, and the reveal is in the access log."""

import pytest
from playwright.sync_api import expect

from complaints.models import AccessLog
from tests.browsing import detail_url, sign_in, unexpected_js_errors

pytestmark = pytest.mark.django_db(transaction=True)


def test_agent_reveals_masked_contact_details_and_it_is_logged(page, org, make_complaint):
    complaint = make_complaint("in_progress")
    phone, email = complaint.customer.phone, complaint.customer.email

    sign_in(page, "agent")
    page.goto(detail_url(page, complaint))
    card = page.locator("#customer-card")
    expect(card).not_to_contain_text(phone)
    expect(card).not_to_contain_text(email)
    assert not AccessLog.objects.filter(event=AccessLog.Event.PERSONAL_DATA_VIEWED).exists()

    card.locator("#customer-contact-reveal").click()
    expect(card.locator("[data-field=phone]")).to_contain_text(phone)
    expect(card.locator("[data-field=email]")).to_contain_text(email)
    entry = AccessLog.objects.get(event=AccessLog.Event.PERSONAL_DATA_VIEWED)
    assert entry.user == org.agent and entry.target == f"customer:{complaint.customer_id}"
    assert unexpected_js_errors(page) == []
