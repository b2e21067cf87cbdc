import pytest

from tests.browsing import screenshot, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_sign_in_and_see_the_queue(page, org, make_complaint):
    complaint = make_complaint("assigned")
    sign_in(page, "agent")
    assert page.locator("#nav-queues").is_visible()
    row = page.locator(f"tr[data-tracking='{complaint.tracking_number}']")
    assert row.is_visible()
    screenshot(page, "queue-mine")
    assert page.js_errors == []
