"""The admin of SOPs (saving makes a new version) and reply templates (placeholders
checked)."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from complaints.models import ReplyTemplate, Sop
from complaints.services import guidance
from tests.guidance.conftest import STEPS

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, org):
    """The Admin role (group permissions from the migrations), not a superuser."""
    assert not org.admin.is_superuser
    client.force_login(org.admin)
    return client


def url(name: str, *args) -> str:
    return reverse(f"admin:complaints_{name}", args=args)


def sop_data(**changes) -> dict:
    data = {
        "title": "Product quality SOP",
        "steps": "\n".join(STEPS),
        "allowed_remedies": ["refund", "replacement"],
        "time_limit_hours": "48",
        "standard_wording": "We are sorry for the trouble.",
    }
    data.update(changes)
    return data


def test_adding_an_sop_creates_version_1(admin_client, org):
    response = admin_client.post(
        url("sop_add"), {"category": org.category.pk, **sop_data(steps="  A \n\nB\n")}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    sop = Sop.objects.get()
    assert (sop.version, sop.is_current, sop.created_by) == (1, True, org.admin)
    assert sop.steps == ["A", "B"]
    assert sop.allowed_remedies == ["refund", "replacement"]


def test_saving_the_current_version_creates_version_2_and_keeps_version_1(admin_client, org, sop):
    form = admin_client.get(url("sop_change", sop.pk))
    html = form.content.decode()
    assert "\n".join(STEPS) in html  # one step per line in the textarea
    assert 'type="checkbox" name="allowed_remedies" value="refund"' in html

    response = admin_client.post(
        url("sop_change", sop.pk),
        sop_data(
            steps="\n".join([*STEPS, "Close with the customer"]), allowed_remedies=["apology"]
        ),
        follow=True,
    )

    assert response.status_code == 200
    v1, v2 = Sop.objects.order_by("version")
    assert v1.pk == sop.pk and not v1.is_current
    assert v1.steps == STEPS and v1.allowed_remedies == ["refund", "replacement"]
    assert (v2.version, v2.is_current, v2.allowed_remedies) == (2, True, ["apology"])
    assert v2.steps[-1] == "Close with the customer"
    assert v2.category == org.category
    assert any("version 2" in str(m) for m in get_messages(response.wsgi_request))


def test_an_old_version_is_read_only(admin_client, org, sop):
    admin_client.post(url("sop_change", sop.pk), sop_data(title="Newer"))
    assert Sop.objects.count() == 2

    page = admin_client.get(url("sop_change", sop.pk))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'name="_save"' not in html
    assert "<li>Call the customer within 2 hours</li>" in html  # steps as a list
    response = admin_client.post(url("sop_change", sop.pk), sop_data(title="Overwrite"))
    assert response.status_code == 403
    sop.refresh_from_db()
    assert sop.title == "Product quality SOP"
    assert Sop.objects.count() == 2


def test_sops_cannot_be_deleted(admin_client, sop):
    assert admin_client.post(url("sop_delete", sop.pk), {"post": "yes"}).status_code == 403
    assert Sop.objects.filter(pk=sop.pk).exists()


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"steps": " \n \n"}, "steps"),
        ({"allowed_remedies": ["free_car"]}, "allowed_remedies"),
        ({"time_limit_hours": "0"}, "time_limit_hours"),
        ({"title": ""}, "title"),
    ],
)
def test_a_bad_sop_shows_the_form_again(admin_client, org, changes, field):
    response = admin_client.post(
        url("sop_add"), {"category": org.category.pk, **sop_data(**changes)}
    )
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not Sop.objects.exists()


def test_the_sop_list_filters_by_category_and_current(admin_client, org, sop):
    admin_client.post(url("sop_change", sop.pk), sop_data(title="Newer"))
    listing = admin_client.get(url("sop_changelist"), {"is_current__exact": "1"})
    assert listing.status_code == 200
    assert [s.version for s in listing.context["cl"].result_list] == [2]
    by_category = admin_client.get(
        url("sop_changelist"), {"category__id__exact": org.category_b.pk}
    )
    assert list(by_category.context["cl"].result_list) == []


def test_an_agent_cannot_open_the_sop_admin(client, org, sop):
    client.force_login(org.agent)
    response = client.get(url("sop_changelist"))
    assert response.status_code == 302 and "login" in response.url


def test_reply_template_admin_lists_the_placeholders_and_refuses_unknown_ones(admin_client, org):
    add = admin_client.get(url("replytemplate_add")).content.decode()
    for name in ("{customer_name}", "{tracking_number}", "{deadline}", "{status_link}"):
        assert name in add

    refused = admin_client.post(
        url("replytemplate_add"),
        {
            "name": "Bad",
            "language": "",
            "body": "Hi {customer}, {customer_name.__class__}",
            "is_active": "on",
        },
    )
    assert refused.status_code == 200
    errors = refused.context["adminform"].form.errors["body"]
    assert "{customer}" in errors[0] and "{customer_name.__class__}" in errors[0]
    assert not ReplyTemplate.objects.exists()

    saved = admin_client.post(
        url("replytemplate_add"),
        {
            "name": "Good",
            "category": org.category.pk,
            "language": "zh-hans",
            "body": "{customer_name}您好",
            "is_active": "on",
        },
    )
    assert saved.status_code == 302
    template = ReplyTemplate.objects.get()
    assert (template.category, template.language) == (org.category, "zh-hans")
    assert admin_client.get(url("replytemplate_changelist")).status_code == 200


def test_sop_checks_are_listed_read_only(admin_client, org, working, sop):
    check = guidance.sop_step_check(complaint=working, actor=org.agent, step=1)
    listing = admin_client.get(url("sopcheck_changelist"))
    assert listing.status_code == 200
    assert list(listing.context["cl"].result_list) == [check]
    assert admin_client.get(url("sopcheck_add")).status_code == 403
