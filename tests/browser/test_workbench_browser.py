"""Workbench screens around the queues: bulk actions, recording a phone complaint,
the supervisors' workload."""

import re

import pytest
from playwright.sync_api import expect

from complaints.models import Complaint
from tests.browsing import sign_in, sign_out, unexpected_js_errors
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_bulk_claim_from_the_unassigned_queue(page, org, make_complaint):
    first = make_complaint("triaged", title="Lid does not close")
    second = make_complaint("triaged", title="Handle came off")
    untouched = make_complaint("triaged", title="Cable too short")

    sign_in(page, "agent")
    page.click("#nav-queues a[data-queue='unassigned']")
    expect(page).to_have_url(re.compile(r"/queue/unassigned/$"))
    for complaint in (first, second, untouched):
        expect(page.locator(f"tr[data-tracking='{complaint.tracking_number}']")).to_be_visible()

    boxes = [
        page.locator(f"tr[data-tracking='{c.tracking_number}'] input.row-check")
        for c in (first, second)
    ]
    for box in boxes:
        box.check()
    page.select_option("#bulk-action", "claim")
    # Choosing the action must not reload the table (that would drop the ticks), and a
    # claim needs no reason.
    for box in boxes:
        expect(box).to_be_checked()
    expect(page.locator("[data-bulk-field~='release']")).to_be_hidden()
    page.get_by_role("button", name="Apply to selected").click()

    expect(page.locator("h1")).to_have_text("Claim for myself")
    expect(page.locator("#bulk-summary")).to_have_text("2 of 2 complaints changed.")
    results = page.locator("table.bulk-results tbody tr")
    expect(results).to_have_count(2)
    for complaint in (first, second):
        row = page.locator(f"tr.bulk-ok[data-id='{complaint.pk}']")
        expect(row).to_be_visible()
        expect(row).to_contain_text(complaint.tracking_number)
    expect(page.locator("tr.bulk-refused")).to_have_count(0)

    for complaint in (first, second):
        complaint.refresh_from_db()
        assert complaint.status == "assigned"
        assert complaint.assignee == org.agent
    untouched.refresh_from_db()
    assert untouched.status == "triaged"
    assert untouched.assignee is None

    # Back in the queue, only the one left is unassigned; the two are in "My complaints".
    page.get_by_role("link", name="Back to the queue").click()
    expect(page).to_have_url(re.compile(r"/queue/unassigned/$"))
    expect(page.locator("tr[data-tracking]")).to_have_count(1)
    expect(page.locator(f"tr[data-tracking='{untouched.tracking_number}']")).to_be_visible()
    page.click("#nav-queues a[data-queue='mine']")
    for complaint in (first, second):
        row = page.locator(f"tr[data-tracking='{complaint.tracking_number}']")
        expect(row.locator(".status")).to_have_text("Assigned")
    assert page.js_errors == []


def test_record_a_phone_complaint(page, org, make_complaint):
    known = CustomerFactory(name="Li Wei", phone="+8613912345678", email="")
    earlier = make_complaint("assigned", customer=known, title="Kettle leaks")
    before = set(Complaint.objects.values_list("pk", flat=True))

    sign_in(page, "agent")
    page.click("#nav-record")
    expect(page).to_have_url(re.compile(r"/complaints/new/$"))
    expect(page.locator("#id_channel_0")).to_be_checked()  # phone by default
    expect(page.locator("#customer-matches")).to_contain_text("Type the customer's phone")

    page.fill("#id_customer_name", "Li Wei")
    # Typed as people say it: the lookup recognises the customer and their open complaint.
    page.fill("#id_phone", "139 1234 5678")
    match = page.locator(f"#customer-matches a[data-tracking='{earlier.tracking_number}']")
    expect(match).to_be_visible()
    expect(match).to_contain_text("Kettle leaks")
    page.fill("#id_order_number", "SO-2024-0042")
    page.select_option("#id_category", str(org.category.pk))
    page.fill("#id_title", "Second kettle also broken")
    page.fill("#id_description", "The replacement kettle stopped heating after a week.")
    page.select_option("#id_demand", "refund")
    page.fill("#id_demand_detail", "Wants the money back this time.")
    page.get_by_role("button", name="Record the complaint").click()

    expect(page).to_have_url(re.compile(r"/complaints/\d+/$"))
    (new,) = Complaint.objects.exclude(pk__in=before)
    number = new.tracking_number
    assert page.url.endswith(f"/complaints/{new.pk}/")
    expect(page.locator("#messages")).to_contain_text(
        f"Complaint {number} recorded. Give the customer this tracking number."
    )
    expect(page.locator("#complaint-header .tracking-number")).to_have_text(number)
    expect(page.locator("#complaint-header h1")).to_contain_text("Second kettle also broken")
    expect(page.locator("#facts")).to_contain_text("Phone")
    expect(page.locator("#facts")).to_contain_text("SO-2024-0042")
    expect(page.locator("#fact-category")).to_contain_text("Product quality")
    expect(page.locator("#fact-demand")).to_contain_text("Refund")
    # The same customer, recognised by phone: the earlier complaint is listed beside it.
    card = page.locator("#customer-card")
    expect(card).to_contain_text("Li Wei")
    expect(card.locator("#other-complaints")).to_contain_text(earlier.tracking_number)
    expect(card.locator("#repeat-complainer")).to_be_visible()

    assert new.channel == "phone"
    assert new.customer_id == known.pk
    assert new.demand == "refund"
    assert new.order_number == "SO-2024-0042"
    assert page.js_errors == []


def test_workload_shows_each_members_open_complaints(page, org, make_complaint):
    make_complaint("assigned")
    make_complaint("in_progress")
    make_complaint("awaiting_customer")
    make_complaint("resolved")  # finished: not counted
    make_complaint("triaged")  # nobody's: not counted

    # Agents have neither the link nor the page.
    sign_in(page, "agent")
    expect(page.locator("#nav-workload")).to_have_count(0)
    assert page.goto(page.base_url + "/workload/").status == 403
    page.goto(page.base_url + "/")
    sign_out(page)

    sign_in(page, "supervisor")
    page.click("#nav-workload")
    expect(page).to_have_url(re.compile(r"/workload/$"))
    team = page.locator("section[data-team='front-a']")
    expect(team.locator("h2")).to_contain_text("Front line A")
    row = team.locator("tr[data-user='agent']")
    expect(row.locator("th")).to_have_text(str(org.agent))
    # Priorities P1..P4 in order; make_complaint triages as P3.
    expect(row.locator("td[data-priority]")).to_have_text(["0", "0", "3", "0"])
    expect(row.locator("td.total")).to_have_text("3")
    expect(row.locator("td.overdue-count")).to_have_text("0")
    expect(row).to_contain_text("Available")
    idle = team.locator("tr[data-user='agent2']")
    expect(idle.locator("td.total")).to_have_text("0")
    expect(team.locator("tr[data-user='supervisor']")).to_be_visible()
    expect(team.locator("tfoot")).to_contain_text("3")
    other_team = page.locator("section[data-team='front-b']")
    expect(other_team.locator("tr[data-user='agent_b'] td.total")).to_have_text("0")

    # The total links to exactly those complaints.
    row.locator("td.total a").click()
    expect(page).to_have_url(re.compile(r"/queue/all/\?assignee="))
    expect(page.locator("#queue-table tr[data-tracking]")).to_have_count(3)
    # "All complaints" lists the newest first.
    expect(page.locator("#queue-table .status")).to_have_text(
        ["Awaiting customer", "In progress", "Assigned"]
    )
    # 403 for /workload/, then 404 for /favicon.ico: the bare 403 page has no icon link.
    assert unexpected_js_errors(page, 403, 404) == []
