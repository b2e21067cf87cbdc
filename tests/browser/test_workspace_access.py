"""What an agent may see (their teams' complaints only) and in which language."""

import re

import pytest
from django.utils import translation
from playwright.sync_api import expect

from complaints.models import Channel, Demand
from complaints.services import intake
from complaints.services import transitions as t
from tests.browsing import detail_url, screenshot, sign_in, unexpected_js_errors
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _team_b_complaint(org):
    complaint = intake.complaint_create(
        actor=None,
        channel=Channel.WEB,
        customer=CustomerFactory(),
        title="Charged twice for one order",
        description="Two charges on my card.",
        demand=Demand.REFUND,
    )
    t.complaint_triage(
        complaint=complaint, actor=org.supervisor, category=org.category_b, priority=org.p3
    )
    assert complaint.team == org.team_b
    return complaint


def test_an_agent_gets_404_for_another_teams_complaint(page, org, make_complaint):
    mine = make_complaint("triaged")
    other = _team_b_complaint(org)

    sign_in(page, "agent")
    response = page.goto(detail_url(page, other))
    assert response.status == 404
    # Nothing of the complaint leaks into the error page.
    expect(page.locator("body")).not_to_contain_text(other.tracking_number)
    expect(page.locator("body")).not_to_contain_text("Charged twice")
    # Forbidden and missing look the same.
    missing = page.goto(f"{page.base_url}/complaints/{other.pk + 1000}/")
    assert missing.status == 404
    # The actions behind the page are closed too.
    assert page.goto(f"{detail_url(page, other)}transition/assign/").status == 404
    # The team queue lists team A's complaint, not team B's.
    page.goto(page.base_url + "/queue/team/")
    expect(page.locator(f"tr[data-tracking='{mine.tracking_number}']")).to_be_visible()
    expect(page.locator(f"tr[data-tracking='{other.tracking_number}']")).to_have_count(0)
    # Their own team's complaint opens.
    assert page.goto(detail_url(page, mine)).status == 200
    expect(page.locator("#complaint-header .tracking-number")).to_have_text(mine.tracking_number)
    assert unexpected_js_errors(page, 404) == []


def test_switching_the_interface_to_chinese(page, org, make_complaint):
    make_complaint("assigned")
    sign_in(page, "agent")
    mine_tab = page.locator("#nav-queues a[data-queue='mine']")
    expect(mine_tab).to_contain_text("My complaints")
    log_out = page.locator("nav form[action$='/logout/'] button")
    expect(log_out).to_have_text("Log out")
    assert page.evaluate("document.documentElement.lang") == "en"

    language = page.locator("#language-form select[name=language]")
    language.select_option("zh-hans")  # data-autosubmit posts to set_language
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    assert page.evaluate("document.documentElement.lang") == "zh-hans"
    # Back where we were (the form's "next"), with 中文 now the selected option.
    expect(page).to_have_url(re.compile(r"/$"))
    expect(language.locator("option:checked")).to_have_text("简体中文")

    # The navigation is translated ("Log out" is in Django's own catalogue as well).
    expect(log_out).not_to_have_text("Log out")
    with translation.override("zh-hans"):
        zh_log_out = translation.gettext("Log out")
        zh_mine = translation.gettext("My complaints")
    assert zh_log_out != "Log out"
    expect(log_out).to_have_text(zh_log_out)
    # The project's own strings: the queue tabs come from locale/zh_Hans.
    assert zh_mine != "My complaints", "locale/zh_Hans/LC_MESSAGES/django.mo lacks this string"
    expect(mine_tab).to_contain_text(zh_mine)
    expect(mine_tab).not_to_contain_text("My complaints")
    screenshot(page, "queue-zh")

    # The choice sticks across pages...
    page.goto(page.base_url + "/queue/team/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    # ...and switching back restores English.
    page.locator("#language-form select[name=language]").select_option("en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(re.compile(r"/queue/team/$"))
    expect(page.locator("#nav-queues a[data-queue='mine']")).to_contain_text("My complaints")
    assert page.js_errors == []
