"""The whole loop in the browser (投诉处理闭环): the customer complains on the public
form; the agent handles it and resolves it with a remedy; the customer answers the
survey unsatisfied; the supervisor sees the escalation and has it handled again; the
customer answers satisfied and the complaint closes. The timeline shows every step."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core import mail
from playwright.sync_api import expect

from complaints import roles
from complaints.models import (
    AuthorityLimit,
    Complaint,
    Escalation,
    LoopOutcome,
    Remedy,
    RemedyKind,
    SurveyResponse,
)
from complaints.services import transitions as t
from tests.browsing import (
    detail_url,
    open_action,
    screenshot,
    sign_in,
    sign_out,
    unexpected_js_errors,
)

pytestmark = pytest.mark.django_db(transaction=True)

SURVEY_LINK = re.compile(r"https?://[^/\s]+(/survey/\S+/)")


def _survey_path(complaint: Complaint) -> str:
    """The survey link of the newest resolution message to the customer."""
    for message in reversed(mail.outbox):
        if complaint.customer.email in message.to and (m := SURVEY_LINK.search(message.body)):
            return m.group(1)
    raise AssertionError("no survey link was mailed to the customer")


def _answer_survey(page, path: str, *, rating: int, solved: bool, comment: str) -> None:
    page.context.clear_cookies()  # the customer: no staff session
    page.goto(page.base_url + path)
    page.check(f"input[name=rating][value='{rating}']")
    page.check(f"input[name=solved][value='{'yes' if solved else 'no'}']")
    page.fill("#survey-form textarea[name=comment]", comment)
    page.click("#survey-form button[type=submit]")
    page.wait_for_url(re.compile(r"/survey/thanks/"))


def _handle_and_resolve(page, complaint: Complaint, *, summary: str, remedy: str) -> None:
    """As the assignee on the detail page: start, then resolve through the modal."""
    page.goto(detail_url(page, complaint))
    page.click("#actions [data-action='start']")
    expect(page.locator("#complaint-status")).to_have_text("In progress")
    form = open_action(page, "resolve")
    form.locator("textarea[name=summary]").fill(summary)
    form.locator("select[name=root_cause]").select_option("product_defect")
    form.locator("textarea[name=remedy]").fill(remedy)
    form.locator("button[type=submit]").click()
    expect(page.locator("#complaint-status")).to_have_text("Resolved")


def test_the_whole_loop(page, org, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    mail.outbox = []
    AuthorityLimit.objects.create(
        role=roles.AGENT, kind=RemedyKind.REPLACEMENT, max_amount=Decimal("500")
    )

    # 1. The customer complains on the public form.
    page.goto(page.base_url + "/submit/")
    page.fill("#id_name", "Wang Fang")
    page.fill("#id_phone", "139 0013 9000")
    page.fill("#id_email", "wang.fang@example.com")
    page.fill("#id_order_number", "B-2002")
    page.fill("#id_description", "The kettle leaks from the bottom after one week.")
    page.select_option("#id_demand", "replacement")
    page.click("#complaint-form button[type=submit]")
    page.wait_for_url(re.compile(r"/submit/received/"))
    complaint = Complaint.objects.get()
    number = complaint.tracking_number
    expect(page.locator("#tracking-number")).to_have_text(number)

    # Triage put it in team A's queue (the triage screens have their own tests).
    t.complaint_triage(complaint=complaint, actor=org.agent, category=org.category, priority=org.p3)

    # 2. The agent claims it, offers a replacement within their authority, resolves.
    sign_in(page, "agent")
    page.goto(detail_url(page, complaint))
    page.click("#actions [data-action='assign']")
    expect(page.locator("#complaint-status")).to_have_text("Assigned")
    panel = page.locator("#remedy-panel")
    panel.locator("#remedy-propose summary").click()
    panel.locator("#remedy-kind").select_option("replacement")
    panel.locator("#remedy-amount").fill("199")
    panel.locator("#remedy-description").fill("A new kettle of the same model")
    panel.locator("[data-remedy-action='propose']").click()
    expect(page.locator("#messages")).to_contain_text("199.00 CNY granted")
    remedy = Remedy.objects.get()
    expect(page.locator(f"#remedy-{remedy.pk} .remedy-status")).to_have_text("Approved")
    _handle_and_resolve(
        page,
        complaint,
        summary="The seal was faulty: a new kettle is on its way.",
        remedy="Replacement kettle (199 CNY)",
    )
    sign_out(page)

    # 3. The customer answers the survey: not solved.
    first = _survey_path(complaint)
    _answer_survey(page, first, rating=2, solved=False, comment="The new one leaks too!")
    complaint.refresh_from_db()
    assert complaint.status == "reopened" and complaint.reopen_count == 1
    escalation = Escalation.objects.get(complaint=complaint)
    assert escalation.reason == Escalation.Reason.UNSATISFIED
    # The same link cannot be used twice.
    page.goto(page.base_url + first)
    expect(page.locator("body")).to_contain_text("not valid any more")

    # 4. The supervisor sees the escalation and has it handled again.
    sign_in(page, "supervisor")
    page.goto(page.base_url + "/escalations/")
    row = page.locator(f"#escalation-{escalation.pk}")
    expect(row).to_contain_text(number)
    expect(row).to_contain_text("Customer unsatisfied")
    screenshot(page, "loop-escalation")
    page.goto(detail_url(page, complaint))
    expect(page.locator("#timeline")).to_contain_text("The new one leaks too!")
    form = open_action(page, "assign")
    form.locator("select[name=assignee]").select_option(str(org.agent.pk))
    form.locator("button[type=submit]").click()
    expect(page.locator("#complaint-status")).to_have_text("Assigned")
    sign_out(page)

    # 5. Second handling by the agent.
    sign_in(page, "agent")
    _handle_and_resolve(
        page,
        complaint,
        summary="Both units came from a faulty batch: refunded and replaced by another model.",
        remedy="Full refund and a different model",
    )
    sign_out(page)

    # 6. The customer answers the new round's survey: satisfied. The loop closes.
    second = _survey_path(complaint)
    assert second != first
    _answer_survey(page, second, rating=5, solved=True, comment="Thank you, all good now.")
    complaint.refresh_from_db()
    assert complaint.status == "closed"
    assert complaint.loop_outcome == LoopOutcome.SURVEY
    assert list(
        SurveyResponse.objects.filter(complaint=complaint)
        .order_by("cycle")
        .values_list("cycle", "rating", "solved")
    ) == [(0, 2, False), (1, 5, True)]

    # 7. The timeline shows every step.
    sign_in(page, "supervisor")
    page.goto(detail_url(page, complaint))
    expect(page.locator("#complaint-status")).to_have_text("Closed")
    timeline = page.locator("#timeline")
    changes = timeline.locator("li[data-kind='status_changed'] .status-change")
    for step in [
        "New → Triaged",
        "Assigned → In progress",
        "In progress → Resolved",
        "Resolved → Reopened",
        "Resolved → Closed",
    ]:
        expect(changes.filter(has_text=step).first).to_be_visible()
    expect(changes.filter(has_text="In progress → Resolved")).to_have_count(2)
    expect(timeline.locator("li[data-kind='assigned']")).to_have_count(2)
    expect(timeline.locator("li[data-kind='escalated']")).to_have_count(1)
    expect(timeline.locator("li[data-kind='remedy']")).to_have_count(1)
    expect(timeline).to_contain_text("The new one leaks too!")
    expect(timeline).to_contain_text("Thank you, all good now.")
    screenshot(page, "loop-closed")
    assert unexpected_js_errors(page) == []
