"""The admin screens of keyword triage, and the proposal fragment of the detail page."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from complaints.models import PriorityMatrix, TriageProposal
from complaints.services.triage import triage_proposal_for, triage_record_proposal
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

TRY_URL = "admin:complaints_keywordrule_try"


@pytest.fixture
def superuser_client(client, org):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)
    return client


def test_try_it_page_shows_an_empty_form(superuser_client, defaults):
    response = superuser_client.get(reverse(TRY_URL))

    assert response.status_code == 200
    assert response.context["proposal"] is None
    assert b'id="triage-try-form"' in response.content
    assert b'id="triage-grid"' in response.content


def test_try_it_shows_the_proposal_and_the_words_that_fired(superuser_client, defaults, org):
    response = superuser_client.post(
        reverse(TRY_URL),
        {
            "text": "电水壶底座冒烟了，还有焦味。我要打12315！",
            "channel": "web",
            "customer_tier": "",
        },
    )

    assert response.status_code == 200
    proposal = response.context["proposal"]
    assert proposal.priority.code == "P1"
    assert proposal.team == org.team  # the safety category's default team
    html = response.content.decode()
    assert "<mark>冒烟</mark>" in html
    assert "<mark>焦味</mark>" in html
    assert "<mark>12315</mark>" in html
    assert "安全 Safety" in html and "监管与法律 Regulator / legal" in html
    assert "P1" in html
    assert "底座" in html  # the segmentation is shown
    assert TriageProposal.objects.count() == 0  # trying writes nothing


def test_try_it_shows_no_rule_fired(superuser_client, defaults):
    response = superuser_client.post(reverse(TRY_URL), {"text": "The colour is wrong"})

    assert response.status_code == 200
    assert "No rule fired." in response.content.decode()


def test_try_it_shows_the_sla_policy(superuser_client, defaults):
    from complaints.models import BusinessCalendar, SlaPolicy
    from complaints.services import sla

    if not hasattr(sla, "policy_for"):
        pytest.skip("the SLA module has no policy_for yet")
    calendar = BusinessCalendar.objects.create(name="Shanghai office")
    SlaPolicy.objects.create(
        name="Safety P1: 1 h / 1 day",
        category=defaults.safety,
        priority=PriorityMatrix.objects.get(urgency="critical", impact="safety").priority,
        calendar=calendar,
        first_response_minutes=60,
        resolution_minutes=480,
    )

    response = superuser_client.post(reverse(TRY_URL), {"text": "冒烟"})

    assert response.context["sla_policy"] == "Safety P1: 1 h / 1 day"
    assert "Safety P1: 1 h / 1 day" in response.content.decode()


def test_try_it_survives_a_failing_sla_lookup(superuser_client, defaults, monkeypatch):
    from complaints.services import sla

    def broken(complaint):
        raise RuntimeError("not ready")

    monkeypatch.setattr(sla, "policy_for", broken, raising=False)

    response = superuser_client.post(reverse(TRY_URL), {"text": "冒烟"})

    assert response.status_code == 200
    assert response.context["sla_policy"] is None


def test_the_admin_role_may_try_the_rules(client, defaults, org):
    client.force_login(org.admin)  # the Admin role's permissions, not a superuser

    response = client.post(reverse(TRY_URL), {"text": "Parcel never arrived"})

    assert response.status_code == 200
    assert "<mark>parcel</mark>" in response.content.decode()


def test_try_it_needs_the_permission_to_view_keyword_rules(client, org):
    staff = UserFactory(username="staff-without-perms", is_staff=True)
    client.force_login(staff)

    assert client.get(reverse(TRY_URL)).status_code == 403


def test_keyword_rule_list_shows_accuracy_and_links_to_try_it(
    superuser_client, defaults, make_complaint
):
    complaint = make_complaint(title="Parcel never arrived", description="Nothing came.")
    triage_record_proposal(complaint=complaint)

    response = superuser_client.get(reverse("admin:complaints_keywordrule_changelist"))

    assert response.status_code == 200
    html = response.content.decode()
    assert reverse(TRY_URL) in html
    assert "category kept" in html.lower()
    assert "物流配送 Logistics" in html


@pytest.mark.parametrize(
    "name",
    [
        "complaints_keywordrule_add",
        "complaints_prioritymatrix_changelist",
        "complaints_routingrule_changelist",
        "complaints_routingrule_add",
        "complaints_triageproposal_changelist",
    ],
)
def test_configuration_pages_open(superuser_client, defaults, name):
    assert superuser_client.get(reverse(f"admin:{name}")).status_code == 200


def test_proposals_are_read_only_in_the_admin(superuser_client, defaults, make_complaint):
    row = triage_record_proposal(complaint=make_complaint(description="冒烟了"))
    change_url = reverse("admin:complaints_triageproposal_change", args=[row.pk])

    response = superuser_client.get(change_url)

    assert response.status_code == 200
    assert b'name="_save"' not in response.content
    assert superuser_client.post(change_url, {}).status_code == 403
    assert superuser_client.get(reverse("admin:complaints_triageproposal_add")).status_code == 403


def test_keyword_rule_form_refuses_empty_terms(superuser_client, defaults):
    response = superuser_client.post(
        reverse("admin:complaints_keywordrule_add"),
        {"name": "empty", "terms": " | \n", "order": 1, "is_active": "on"},
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["terms"]


def test_grid_cells_are_changed_from_the_list(superuser_client, defaults):
    cell = PriorityMatrix.objects.get(urgency="low", impact="individual")
    p3 = PriorityMatrix.objects.get(urgency="normal", impact="individual").priority

    response = superuser_client.get(reverse("admin:complaints_prioritymatrix_changelist"))
    formset = response.context["cl"].formset
    data = {f"form-{k}": v for k, v in formset.management_form.initial.items()}
    for i, form in enumerate(formset.forms):
        data[f"form-{i}-id"] = form.instance.pk
        data[f"form-{i}-priority"] = p3.pk if form.instance == cell else form.instance.priority_id
    data["_save"] = "Save"
    response = superuser_client.post(reverse("admin:complaints_prioritymatrix_changelist"), data)

    assert response.status_code == 302
    cell.refresh_from_db()
    assert cell.priority == p3


def test_detail_fragment_shows_the_proposal_and_matched_words(defaults, make_complaint):
    complaint = make_complaint(description="电水壶底座冒烟了，还有焦味")
    triage_record_proposal(complaint=complaint)

    html = render_to_string(
        "complaints/triage/_proposal.html",
        {"proposal": triage_proposal_for(complaint), "complaint": complaint},
    )

    assert 'id="triage-proposal"' in html
    assert "<mark>冒烟</mark>" in html and "<mark>焦味</mark>" in html
    assert "P1" in html
    assert "safety" in html


def test_detail_fragment_renders_nothing_without_a_proposal():
    assert render_to_string("complaints/triage/_proposal.html", {"proposal": None}).strip() == ""
