"""The SOP panel and the reply template picker of the complaint detail page, and their
htmx endpoints."""

from __future__ import annotations

import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from complaints.models import ComplaintEvent, ReplyTemplate, SopCheck
from complaints.services import guidance
from tests.guidance.conftest import STEPS

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def detail_url(complaint) -> str:
    return reverse("complaints:staff-detail", args=[complaint.pk])


def step_url(complaint) -> str:
    return reverse("complaints:sop-step", args=[complaint.pk])


def template_url(complaint) -> str:
    return reverse("complaints:reply-template", args=[complaint.pk])


def _steps_done(html: str) -> list[str]:
    return re.findall(r'data-step="(\d)" data-done="1"', html)


# --- The panel on the detail page ----------------------------------------------------------


def test_the_detail_page_shows_the_sop_panel(client, org, working, sop):
    guidance.sop_step_check(complaint=working, actor=org.agent2, step=2)
    client.force_login(org.agent)

    html = client.get(detail_url(working)).content.decode()

    panel = html[html.index('id="sop-panel"') :]
    panel = panel[: panel.index("</section>")]
    assert "Product quality SOP" in panel and "Version 1" in panel
    for text in STEPS:
        assert text in panel
    assert _steps_done(panel) == ["2"]
    assert f"Done by {org.agent2}" in panel
    assert "48 hours" in panel
    assert "Refund" in panel and "Replacement" in panel and "Voucher" not in panel
    assert "We are sorry for the trouble." in panel
    assert f'hx-post="{step_url(working)}"' in panel
    assert "disabled" not in panel


def test_no_panel_without_an_sop(client, org, make_complaint):
    client.force_login(org.agent)
    html = client.get(detail_url(make_complaint("in_progress"))).content.decode()
    assert 'id="sop-panel"' not in html


def test_a_read_only_complaint_shows_the_checklist_disabled(client, org, make_complaint, sop):
    complaint = make_complaint("rejected", category=org.category)
    client.force_login(org.agent)
    html = client.get(detail_url(complaint)).content.decode()
    assert 'id="sop-panel"' in html
    assert html.count('type="checkbox" id="sop-step-') == 3
    assert html.count(" disabled>") >= 3
    assert 'id="reply-template-picker"' not in html  # no composer at all


def test_detail_queries_do_not_grow_with_steps_checks_and_templates(
    client, org, working, sop, django_assert_max_num_queries
):
    ReplyTemplate.objects.create(name="One", body="Hi")
    client.force_login(org.agent)
    client.get(detail_url(working))  # presence row created once
    with django_assert_max_num_queries(60) as few:
        client.get(detail_url(working))
    few_count = len(few.captured_queries)  # the next request resets the log

    guidance.sop_save_version(
        category=org.category, actor=org.admin, title="Long", steps=[f"S{i}" for i in range(9)]
    )
    for step in (1, 2, 3):
        guidance.sop_step_check(complaint=working, actor=org.agent, step=step)
    for i in range(5):
        ReplyTemplate.objects.create(name=f"T{i}", body="Hi", category=org.category)
    client.get(detail_url(working))  # configuration read once (config_cache)
    with django_assert_max_num_queries(few_count):
        response = client.get(detail_url(working))
    assert len(_steps_done(response.content.decode())) == 3


# --- Ticking a step ------------------------------------------------------------------------------


def test_ticking_a_step_answers_with_the_panel(client, org, working, sop):
    client.force_login(org.agent)

    response = client.post(step_url(working), {"step": 1, "action": "check"}, **HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card mb-3" id="sop-panel"')
    assert "<html" not in html
    assert _steps_done(html) == ["1"]
    assert 'name="action" value="uncheck"' in html  # the done step now offers unticking
    check = SopCheck.objects.get()
    assert (check.step, check.checked_by) == (1, org.agent)
    assert working.events.filter(kind=ComplaintEvent.Kind.SOP_STEP, is_internal=True).count() == 1


def test_a_double_submit_records_the_step_once(client, org, working, sop):
    client.force_login(org.agent)
    for _ in range(2):
        response = client.post(step_url(working), {"step": 2, "action": "check"}, **HTMX)
        assert response.status_code == 200
    assert SopCheck.objects.count() == 1
    assert working.events.filter(kind=ComplaintEvent.Kind.SOP_STEP).count() == 1


def test_unticking_a_step(client, org, working, sop):
    guidance.sop_step_check(complaint=working, actor=org.agent, step=3)
    client.force_login(org.agent2)
    response = client.post(step_url(working), {"step": 3, "action": "uncheck"}, **HTMX)
    assert response.status_code == 200
    assert _steps_done(response.content.decode()) == []
    assert not SopCheck.objects.exists()


def test_without_htmx_the_form_goes_back_to_the_page(client, org, working, sop):
    client.force_login(org.agent)
    response = client.post(step_url(working), {"step": 1, "action": "check"})
    assert response.status_code == 302 and response.url == detail_url(working)
    assert SopCheck.objects.count() == 1
    response = client.post(step_url(working), {"step": 9, "action": "check"})
    assert response.url == detail_url(working)
    assert any("no step 9" in str(m) for m in get_messages(response.wsgi_request))


@pytest.mark.parametrize(
    "data", [{"step": 9, "action": "check"}, {"step": "x", "action": "check"}, {"step": 1}]
)
def test_a_bad_step_is_refused_inside_the_panel(client, org, working, sop, data):
    client.force_login(org.agent)
    response = client.post(step_url(working), data, **HTMX)
    assert response.status_code == 400
    assert response["HX-Retarget"] == "#sop-panel"
    assert "sop-error" in response.content.decode()
    assert not SopCheck.objects.exists()


def test_a_read_only_user_gets_a_message_not_a_check(client, org, make_complaint, sop):
    complaint = make_complaint("rejected", category=org.category)
    client.force_login(org.agent)
    response = client.post(step_url(complaint), {"step": 1, "action": "check"}, **HTMX)
    assert response.status_code == 403
    assert response["HX-Retarget"] == "#sop-panel"
    assert "You may not change this complaint" in response.content.decode()
    assert not SopCheck.objects.exists()


def test_another_teams_agent_gets_404_and_anonymous_the_login_page(client, org, working, sop):
    client.force_login(org.agent_b)
    assert client.post(step_url(working), {"step": 1, "action": "check"}, **HTMX).status_code == 404
    assert client.get(template_url(working), {"template": 1}, **HTMX).status_code == 404
    client.force_login(org.outsider)  # no staff role at all
    assert client.post(step_url(working), {"step": 1, "action": "check"}).status_code == 403
    client.logout()
    for response in (
        client.post(step_url(working), {"step": 1, "action": "check"}),
        client.get(template_url(working), {"template": 1}),
    ):
        assert response.status_code == 302 and "/accounts/login/" in response.url
    assert not SopCheck.objects.exists()


def test_ticking_needs_a_post(client, org, working, sop):
    client.force_login(org.agent)
    assert client.get(step_url(working), {"step": 1, "action": "check"}).status_code == 405


# --- Reply templates ------------------------------------------------------------------------------


def test_the_composer_offers_the_templates_outside_the_reply_form(client, org, working):
    ReplyTemplate.objects.create(name="Apology", body="Sorry {customer_name}")
    ReplyTemplate.objects.create(name="Billing only", body="x", category=org.category_b)
    client.force_login(org.agent)

    html = client.get(detail_url(working)).content.decode()

    picker = html[html.index('id="reply-template-picker"') : html.index('id="message-form"')]
    assert "Apology" in picker and "Billing only" not in picker
    assert f'hx-get="{template_url(working)}"' in picker
    assert 'hx-target="#id_message_body"' in picker
    assert 'id="id_message_body"' in html  # the target exists
    form = html[
        html.index('id="message-form"') : html.index("</form>", html.index('id="message-form"'))
    ]
    assert 'name="template"' not in form


def test_no_picker_without_templates(client, org, working):
    client.force_login(org.agent)
    assert 'id="reply-template-picker"' not in client.get(detail_url(working)).content.decode()


def test_inserting_a_template_returns_the_filled_reply_box(client, org, working):
    working.customer.name = "<b>Wang</b>"
    working.customer.save(update_fields=["name"])
    template = ReplyTemplate.objects.create(
        name="Apology", body="Dear {customer_name}, about {tracking_number}: {unknown}"
    )
    client.force_login(org.agent)

    response = client.get(template_url(working), {"template": template.pk}, **HTMX)

    assert response.status_code == 200
    html = response.content.decode().strip()
    assert html.startswith("<textarea") and html.endswith("</textarea>")
    assert 'name="body"' in html and 'id="id_message_body"' in html
    assert f"Dear &lt;b&gt;Wang&lt;/b&gt;, about {working.tracking_number}: {{unknown}}" in html
    assert "<b>" not in html


def test_a_template_not_offered_is_404_and_no_choice_is_no_content(client, org, working):
    billing = ReplyTemplate.objects.create(name="B", body="x", category=org.category_b)
    client.force_login(org.agent)
    assert client.get(template_url(working), {"template": billing.pk}, **HTMX).status_code == 404
    assert client.get(template_url(working), {"template": "abc"}, **HTMX).status_code == 404
    assert client.get(template_url(working), {"template": ""}, **HTMX).status_code == 204


def test_no_template_for_a_read_only_complaint(client, org, make_complaint):
    template = ReplyTemplate.objects.create(name="Any", body="x")
    complaint = make_complaint("rejected")
    client.force_login(org.agent)
    response = client.get(template_url(complaint), {"template": template.pk}, **HTMX)
    assert response.status_code == 403
