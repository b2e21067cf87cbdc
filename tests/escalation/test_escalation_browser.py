"""In the browser: a supervisor acknowledges and settles an escalation on the
Escalations screen; the `tech` user answers a collaboration request in the
department queue, and the agent finds the answer on the complaint's timeline."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from complaints import roles
from complaints.models import CollaborationRequest, Escalation, Notification
from complaints.services import collaboration, escalation
from tests.browsing import detail_url, screenshot, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def _sign_out(tab) -> None:
    tab.locator("form[action='/accounts/logout/'] button[type=submit]").click()
    tab.wait_for_load_state()
    tab.context.clear_cookies()


def test_supervisor_acknowledges_and_settles_an_escalation(page, org, make_complaint):
    complaint = make_complaint("in_progress")
    opened = escalation.escalation_open(
        complaint=complaint,
        actor=org.agent,
        reason=Escalation.Reason.MANUAL,
        note="Customer threatens to call the media",
    )
    other = escalation.escalation_open(
        complaint=make_complaint("in_progress"), actor=roles.SYSTEM, reason=Escalation.Reason.VIP
    )

    sign_in(page, "supervisor")
    page.goto(page.base_url + "/escalations/")
    row = page.locator(f"#escalation-{opened.pk}")
    expect(row).to_be_visible()
    expect(row).to_contain_text(complaint.tracking_number)
    expect(row).to_contain_text("Raised by staff")
    expect(row).to_contain_text("Customer threatens to call the media")
    expect(page.locator(f"#escalation-{other.pk}")).to_be_visible()
    screenshot(page, "escalations")

    row.locator("[data-action='acknowledge']").click()
    expect(page.locator("#messages")).to_contain_text("acknowledged")
    row = page.locator(f"#escalation-{opened.pk}")
    expect(row.locator(".acknowledged")).to_contain_text(str(org.supervisor))
    expect(row.locator("[data-action='acknowledge']")).to_have_count(0)
    opened.refresh_from_db()
    assert opened.acknowledged_by == org.supervisor

    row.locator("summary[data-action='settle']").click()
    row.locator("textarea[name=settlement]").fill("Called the customer; refund approved.")
    row.get_by_role("button", name="Settle escalation").click()
    expect(page.locator("#messages")).to_contain_text("settled")
    expect(page.locator(f"#escalation-{opened.pk}")).to_have_count(0)
    expect(page.locator(f"#escalation-{other.pk}")).to_be_visible()

    opened.refresh_from_db()
    assert opened.settled_by == org.supervisor
    assert opened.settlement == "Called the customer; refund approved."
    complaint.refresh_from_db()
    assert complaint.escalation_level == 0
    assert page.js_errors == []


def test_tech_answers_and_the_agent_sees_it(page, org, make_complaint):
    complaint = make_complaint("in_progress")
    request = collaboration.collaboration_ask(
        complaint=complaint,
        actor=org.agent,
        department=org.department,
        question="Does firmware 2.1 overheat on 220 V?",
    )

    sign_in(page, "tech")
    page.goto(page.base_url + "/department/")
    row = page.locator(f"#request-{request.pk}")
    expect(row).to_be_visible()
    expect(row).to_contain_text(complaint.tracking_number)
    expect(row).to_contain_text("Does firmware 2.1 overheat on 220 V?")
    screenshot(page, "department-queue")

    answer = "Yes, batch 42 only: replace the thermostat."
    row.locator("textarea[name=answer]").fill(answer)
    row.locator("[data-action='answer']").click()
    expect(page.locator("#messages")).to_contain_text("Answer sent")
    expect(page.locator(f"#request-{request.pk}")).to_have_count(0)
    expect(page.locator("#answered-requests")).to_contain_text(complaint.tracking_number)

    request.refresh_from_db()
    assert request.status == CollaborationRequest.Status.ANSWERED
    assert request.answered_by == org.responder
    assert Notification.objects.filter(
        user=org.agent, kind=Notification.Kind.COLLABORATION, complaint=complaint
    ).exists()

    # The agent opens the complaint: the answer is on its timeline.
    _sign_out(page)
    sign_in(page, "agent")
    page.goto(detail_url(page, complaint))
    note = page.locator("#timeline li[data-kind='note_added']").filter(has_text=answer)
    expect(note).to_have_count(1)
    expect(note).to_contain_text(str(org.responder))
    expect(note.locator(".visibility")).to_have_text("Internal")
    assert page.js_errors == []
