"""Improvement actions in the browser: a supervisor opens one from a complaint, an
agent links a second complaint from its detail page, the supervisor marks it done
(the customers are told) and a second supervisor verifies it (four eyes); the list
shows it. And the queue's bulk bar opens the create form with the selection."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from complaints.models import ImprovementAction, OutboxMessage
from tests.browsing import detail_url, screenshot, sign_in, sign_out

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_improvement_action_from_creation_to_verification(page, org, make_complaint):
    first = make_complaint("in_progress", title="Kettle lid cracked")
    second = make_complaint("in_progress", title="Lid cracked again")

    # The supervisor opens an action from the first complaint.
    sign_in(page, "supervisor")
    page.goto(detail_url(page, first))
    page.locator("#improvement-panel #improvement-new").click()
    expect(page.locator("#improvement-form-complaints")).to_contain_text(first.tracking_number)
    page.fill("#id_title", "Stronger lids")
    page.fill("#id_problem", "Lids of batch 42 crack in the cold.")
    page.select_option("#id_owner_team", label="Front line A")
    page.check("#id_notify_customers")
    page.fill("#id_customer_message", "Dear {customer_name}, about {tracking_number}: {action}.")
    page.get_by_role("button", name="Create the action").click()
    expect(page.locator("#messages")).to_contain_text("created")
    expect(page.locator("#improvement-complaints")).to_contain_text(first.tracking_number)
    action = ImprovementAction.objects.get()
    assert action.created_by == org.supervisor
    sign_out(page)

    # An agent links the second complaint from its detail page.
    sign_in(page, "agent")
    page.goto(detail_url(page, second))
    page.select_option("#improvement-link", str(action.pk))
    page.locator("#improvement-link-form button[type=submit]").click()
    expect(page.locator("#messages")).to_contain_text("linked to “Stronger lids”")
    expect(page.locator(f"#improvement-actions [data-improvement='{action.pk}']")).to_be_visible()
    sign_out(page)

    # The supervisor starts it and marks it done: both customers are told.
    sign_in(page, "supervisor")
    page.goto(f"{page.base_url}/improvements/{action.pk}/")
    expect(page.locator("#improvement-complaints")).to_contain_text(second.tracking_number)
    page.locator("[data-action='start']").click()
    expect(page.locator("#improvement-detail")).to_have_attribute("data-status", "in_progress")
    page.fill("#improvement-outcome-text", "New lid supplier from batch 43.")
    page.locator("[data-action='done']").click()
    expect(page.locator("#improvement-detail")).to_have_attribute("data-status", "done")
    expect(page.locator("#improvement-outcome")).to_contain_text("New lid supplier")
    expect(page.locator("[data-action='verified']")).to_have_count(0)  # not their own work
    told = OutboxMessage.objects.filter(body__contains="Stronger lids")
    assert sorted(m.to for m in told) == sorted([first.customer.email, second.customer.email])
    sign_out(page)

    # Another supervisor verifies it.
    sign_in(page, "admin")
    page.goto(f"{page.base_url}/improvements/{action.pk}/")
    page.locator("[data-action='verified']").click()
    expect(page.locator("#improvement-detail")).to_have_attribute("data-status", "verified")
    expect(page.locator("#improvement-verified")).to_contain_text("admin")
    screenshot(page, "improvement-detail")

    page.goto(f"{page.base_url}/improvements/")
    row = page.locator(f"#improvement-{action.pk}")
    expect(row).to_contain_text("Stronger lids")
    expect(row).to_have_attribute("data-status", "verified")
    expect(row.locator(".linked-count")).to_have_text("2")
    screenshot(page, "improvement-list")
    action.refresh_from_db()
    assert action.status == ImprovementAction.Status.VERIFIED
    assert action.verified_by == org.admin
    assert page.js_errors == []


def test_the_bulk_bar_opens_the_form_with_the_selection(page, org, make_complaint):
    first = make_complaint("triaged", title="Lid does not close")
    second = make_complaint("triaged", title="Handle came off")
    sign_in(page, "agent")
    page.click("#nav-queues a[data-queue='unassigned']")
    for complaint in (first, second):
        page.locator(f"tr[data-tracking='{complaint.tracking_number}'] input.row-check").check()
    page.get_by_role("button", name="Create improvement action").click()
    expect(page).to_have_url(re.compile(r"/improvements/new/\?complaint=\d+&complaint=\d+$"))
    listed = page.locator("#improvement-form-complaints")
    expect(listed).to_contain_text(first.tracking_number)
    expect(listed).to_contain_text(second.tracking_number)
    assert page.js_errors == []
