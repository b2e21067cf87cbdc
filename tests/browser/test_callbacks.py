"""In the browser: an agent opens Call-backs, records "not reached", then, on the next
attempt, "reached, satisfied"; the complaint is closed and its timeline shows both
calls."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from complaints.models import AccessLog, CallbackTask, LoopOutcome
from complaints.services import callbacks
from tests.browsing import detail_url, screenshot, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def _record(row, label: str, note: str) -> None:
    row.locator("summary[data-action='record']").click()
    row.get_by_label(label, exact=True).check()
    row.locator("textarea[name=note]").fill(note)
    row.locator("[data-action='record-callback']").click()


def test_agent_records_not_reached_then_satisfied(page, org, make_complaint):
    complaint = make_complaint("resolved")
    task = callbacks.callback_open(complaint=complaint)
    number = complaint.tracking_number

    sign_in(page, "agent")
    page.goto(page.base_url + "/callbacks/")
    row = page.locator(f"#callback-{task.pk}")
    expect(row).to_be_visible()
    expect(row).to_contain_text(number)
    # The agent sees the number masked; calling reveals it (logged) as a tel: link.
    expect(row).not_to_contain_text(complaint.customer.phone)
    row.locator("[data-action='reveal-phone']").click()
    expect(row.locator("a.customer-phone")).to_have_attribute(
        "href", f"tel:{complaint.customer.phone}"
    )
    assert AccessLog.objects.filter(
        event=AccessLog.Event.PERSONAL_DATA_VIEWED, user=org.agent
    ).exists()
    expect(row.locator(".attempts")).to_have_text("0 / 3")
    expect(page.locator("#callback-tabs [data-tab='due'] .badge")).to_have_text("1")
    screenshot(page, "callbacks")

    _record(row, "Not reached", "Voicemail, will try this afternoon")
    expect(page.locator("#messages")).to_contain_text("Attempt 1 of 3 recorded")
    # Not due again before the retry interval: it moved to "Later".
    expect(page.locator(f"#callback-{task.pk}")).to_have_count(0)
    page.click("#callback-tabs [data-tab='later']")
    row = page.locator(f"#callback-{task.pk}")
    expect(row.locator(".attempts")).to_have_text("1 / 3")
    expect(row.locator(".assignee")).to_have_text(str(org.agent))

    _record(row, "Reached, satisfied", "Kettle works, customer thanks us")
    expect(page.locator("#messages")).to_contain_text(f"{number} is closed")
    expect(page.locator(f"#callback-{task.pk}")).to_have_count(0)

    page.goto(detail_url(page, complaint))
    expect(page.locator("#complaint-status")).to_have_text("Closed")
    panel = page.locator("#callback-panel")
    expect(panel.locator("#callback-status")).to_have_text("Customer satisfied")
    expect(panel.locator("#callback-attempt-log li")).to_have_count(2)
    expect(panel.locator("form")).to_have_count(0)
    calls = page.locator("#timeline li[data-kind='callback']")
    expect(calls).to_have_count(3)  # opened, not reached, reached
    expect(calls.nth(1)).to_contain_text("not reached (attempt 1 of 3)")
    expect(calls.nth(1)).to_contain_text("Voicemail, will try this afternoon")
    expect(calls.nth(2)).to_contain_text("Kettle works, customer thanks us")
    screenshot(page, "callback-detail")

    task.refresh_from_db()
    complaint.refresh_from_db()
    assert (task.status, task.outcome, task.attempts) == ("done", "satisfied", 1)
    assert complaint.loop_outcome == LoopOutcome.CALLBACK
    assert CallbackTask.objects.count() == 1
    assert page.js_errors == []
