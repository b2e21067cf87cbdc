"""In the browser: an agent proposes a refund above their limit on the complaint page,
the supervisor approves it on the Approvals screen, and the agent sees it approved."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from complaints import roles
from complaints.models import AuthorityLimit, Notification, Remedy, RemedyKind
from tests.browsing import detail_url, screenshot, sign_in, sign_out, unexpected_js_errors

pytestmark = pytest.mark.django_db(transaction=True)


def test_refund_above_the_limit_is_approved_by_the_supervisor(page, org, make_complaint):
    AuthorityLimit.objects.create(
        role=roles.AGENT, kind=RemedyKind.REFUND, max_amount=Decimal("100")
    )
    complaint = make_complaint("in_progress")

    # The agent proposes a refund of 250 on the complaint; a typo first.
    sign_in(page, "agent")
    page.goto(detail_url(page, complaint))
    panel = page.locator("#remedy-panel")
    panel.locator("#remedy-propose summary").click()
    panel.locator("#remedy-kind").select_option("refund")
    panel.locator("#remedy-amount").fill("25o")
    panel.locator("#remedy-description").fill("Refund half of the kettle's price")
    panel.locator("[data-remedy-action='propose']").click()
    expect(page.locator("#remedy-panel")).to_contain_text("is not an amount")
    panel = page.locator("#remedy-panel")
    expect(panel.locator("#remedy-description")).to_have_value("Refund half of the kettle's price")
    panel.locator("#remedy-amount").fill("250")
    panel.locator("[data-remedy-action='propose']").click()
    expect(page.locator("#messages")).to_contain_text("waits for a supervisor's approval")
    remedy = Remedy.objects.get()
    item = page.locator(f"#remedy-{remedy.pk}")
    expect(item.locator(".remedy-status")).to_have_text("Waiting for approval")
    expect(item).to_contain_text("250.00 CNY")
    assert remedy.status == Remedy.Status.PENDING
    screenshot(page, "remedy-proposed")
    sign_out(page)

    # The supervisor approves it inline on the Approvals screen.
    sign_in(page, "supervisor")
    page.goto(page.base_url + "/approvals/")
    row = page.locator(f"#approval-{remedy.pk}")
    expect(row).to_contain_text(complaint.tracking_number)
    expect(row.locator(".amount")).to_have_text("250.00 CNY")
    expect(row.locator(".limit")).to_have_text("100.00 CNY")
    expect(row).to_contain_text("Front line A")
    screenshot(page, "approvals")
    row.locator("[data-remedy-action='approve']").click()
    expect(page.locator(f"#approval-{remedy.pk} .decision-done")).to_contain_text("approved")
    remedy.refresh_from_db()
    assert remedy.status == Remedy.Status.APPROVED
    assert remedy.decided_by == org.supervisor
    page.goto(page.base_url + "/approvals/")
    expect(page.locator("#approvals-empty")).to_be_visible()
    sign_out(page)

    # The agent sees it approved on the complaint, and was told.
    sign_in(page, "agent")
    page.goto(detail_url(page, complaint))
    item = page.locator(f"#remedy-{remedy.pk}")
    expect(item.locator(".remedy-status")).to_have_text("Approved")
    expect(item.locator(".remedy-decision")).to_contain_text(str(org.supervisor))
    assert Notification.objects.filter(
        user=org.agent, kind=Notification.Kind.APPROVAL, complaint=complaint
    ).exists()
    assert unexpected_js_errors(page, 400) == []
