"""Masking of phones and emails in staff lists, and the logged reveal."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from complaints.models import AccessLog
from complaints.services import callbacks
from complaints.services.privacy import mask_email, mask_phone
from complaints.templatetags.privacy_tags import contact_for, customer_label
from tests.factories import CustomerFactory, UserFactory

PHONE = "+8613800138000"
EMAIL = "zhang.wei@example.com"


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("+8613800138000", "+86 138****8000"),
        ("13800138000", "138****8000"),
        ("138-0013-8000", "138****8000"),
        ("+4930123456", "+******3456"),
        ("01234567", "******67"),
        ("12345", "*****"),
        ("ask for Li", "***"),
        ("", ""),
    ],
)
def test_mask_phone(value, masked):
    assert mask_phone(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("zhang.wei@example.com", "z***@example.com"),
        ("ab@example.com", "***@example.com"),
        ("a@b.cn", "***@b.cn"),
        ("odd", "***"),
        ("@example.com", "***"),
        ('x"y@z"@example.com', "x***@example.com"),
        ("", ""),
    ],
)
def test_mask_email(value, masked):
    assert mask_email(value) == masked


def test_contact_for_shows_full_values_only_with_the_permission(org):
    assert contact_for(PHONE, org.agent) == "+86 138****8000"
    assert contact_for(EMAIL, org.agent) == "z***@example.com"
    assert contact_for(PHONE, org.supervisor) == PHONE
    assert contact_for(EMAIL, org.admin) == EMAIL


def test_customer_label_keeps_chinese_names_and_masks_a_contact_used_as_name(org):
    assert customer_label(CustomerFactory(name="张伟", phone=PHONE), org.agent) == "张伟"
    nameless = CustomerFactory(name="", email=EMAIL, phone="")
    assert customer_label(nameless, org.agent) == "z***@example.com"
    assert customer_label(nameless, org.supervisor) == EMAIL


# --- Lists --------------------------------------------------------------------------------------


def _nameless(make_complaint, state="triaged"):
    return make_complaint(state, customer=CustomerFactory(name="", email=EMAIL, phone=PHONE))


def test_queue_masks_for_agents_and_shows_supervisors(client, org, make_complaint):
    _nameless(make_complaint)
    client.force_login(org.agent)
    html = client.get(reverse("complaints:staff-queue", args=["team"])).content.decode()
    assert "z***@example.com" in html and EMAIL not in html
    client.force_login(org.supervisor)
    html = client.get(reverse("complaints:staff-queue", args=["team"])).content.decode()
    assert EMAIL in html


def test_record_screen_matches_are_masked_for_agents(client, org, make_complaint):
    make_complaint("triaged", customer=CustomerFactory(name="张伟", email=EMAIL, phone=PHONE))
    client.force_login(org.agent)
    url = reverse("complaints:staff-record-lookup")
    html = client.get(url, {"phone": "13800138000"}).content.decode()
    assert "张伟" in html
    assert "+86 138****8000" in html and "z***@example.com" in html
    assert PHONE not in html and EMAIL not in html
    client.force_login(org.supervisor)
    html = client.get(url, {"phone": "13800138000"}).content.decode()
    assert PHONE in html and EMAIL in html


def _callback_task(make_complaint):
    complaint = _nameless(make_complaint, "resolved")
    return callbacks.callback_open(complaint=complaint)


def test_callback_queue_masks_the_number_behind_a_logged_call_button(client, org, make_complaint):
    task = _callback_task(make_complaint)
    client.force_login(org.agent)
    html = client.get(reverse("complaints:callbacks"), {"tab": "all"}).content.decode()
    assert 'data-action="reveal-phone"' in html
    assert "+86 138****8000" in html
    assert PHONE not in html and "tel:" not in html
    url = reverse("complaints:staff-customer-contact", args=[task.complaint_id])
    assert url in html
    response = client.post(url, {"purpose": "call"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert f'href="tel:{PHONE}"' in response.content.decode()
    log = AccessLog.objects.get(event=AccessLog.Event.PERSONAL_DATA_VIEWED)
    assert (log.user, log.target) == (org.agent, f"customer:{task.complaint.customer_id}")
    assert log.detail == {"purpose": "call", "complaint": task.complaint_id}


def test_callback_queue_shows_the_number_to_holders_of_the_permission(client, org, make_complaint):
    _callback_task(make_complaint)
    client.force_login(org.supervisor)
    html = client.get(reverse("complaints:callbacks"), {"tab": "all"}).content.decode()
    assert f'href="tel:{PHONE}"' in html


def test_admin_customer_list_is_masked_without_the_permission(client, org):
    CustomerFactory(name="张伟", email=EMAIL, phone=PHONE)
    clerk = UserFactory(username="clerk", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_customer"))
    client.force_login(clerk)
    url = reverse("admin:complaints_customer_changelist")
    html = client.get(url).content.decode()
    assert "张伟" in html and "+86 138****8000" in html and "z***@example.com" in html
    assert PHONE not in html and EMAIL not in html
    client.force_login(org.admin)
    html = client.get(url).content.decode()
    assert PHONE in html and EMAIL in html


def test_list_query_counts_do_not_grow_with_rows(
    client, org, make_complaint, django_assert_max_num_queries
):
    for _ in range(3):
        _nameless(make_complaint)
    client.force_login(org.agent)
    url = reverse("complaints:staff-queue", args=["team"])
    client.get(url)
    with django_assert_max_num_queries(25) as first:
        client.get(url)
    for _ in range(5):
        _nameless(make_complaint)
    with django_assert_max_num_queries(len(first.captured_queries)):
        client.get(url)


# --- The detail card and the reveal ------------------------------------------------------------


def test_detail_card_is_masked_with_a_show_button_for_agents(client, org, make_complaint):
    complaint = _nameless(make_complaint)
    client.force_login(org.agent)
    html = client.get(reverse("complaints:staff-detail", args=[complaint.pk])).content.decode()
    assert 'id="customer-contact-reveal"' in html
    assert "+86 138****8000" in html and "z***@example.com" in html
    assert f"tel:{PHONE}" not in html and f"mailto:{EMAIL}" not in html
    assert not AccessLog.objects.filter(event=AccessLog.Event.PERSONAL_DATA_VIEWED).exists()


def test_reveal_shows_full_values_and_is_logged(client, org, make_complaint):
    complaint = _nameless(make_complaint)
    client.force_login(org.agent)
    url = reverse("complaints:staff-customer-contact", args=[complaint.pk])
    response = client.post(url, HTTP_HX_REQUEST="true", REMOTE_ADDR="10.1.2.3")
    html = response.content.decode()
    assert f'href="tel:{PHONE}"' in html and f'href="mailto:{EMAIL}"' in html
    log = AccessLog.objects.get(event=AccessLog.Event.PERSONAL_DATA_VIEWED)
    assert (log.user, log.target, log.ip) == (
        org.agent,
        f"customer:{complaint.customer_id}",
        "10.1.2.3",
    )
    assert log.detail == {"purpose": "reveal", "complaint": complaint.pk}


def test_reveal_without_htmx_is_a_page(client, org, make_complaint):
    complaint = _nameless(make_complaint)
    client.force_login(org.agent)
    response = client.post(reverse("complaints:staff-customer-contact", args=[complaint.pk]))
    assert response.status_code == 200
    assert "<html" in response.content.decode() and PHONE in response.content.decode()


def test_reveal_is_refused_like_a_missing_complaint_to_other_teams(client, org, make_complaint):
    complaint = _nameless(make_complaint)
    client.force_login(org.agent_b)
    url = reverse("complaints:staff-customer-contact", args=[complaint.pk])
    assert client.post(url).status_code == 404
    assert (
        client.post(reverse("complaints:staff-customer-contact", args=[99999])).status_code == 404
    )
    assert not AccessLog.objects.filter(event=AccessLog.Event.PERSONAL_DATA_VIEWED).exists()


def test_reveal_needs_a_post_and_a_staff_login(client, org, make_complaint):
    complaint = _nameless(make_complaint)
    url = reverse("complaints:staff-customer-contact", args=[complaint.pk])
    response = client.post(url)
    assert response.status_code == 302 and "login" in response.url
    client.force_login(org.outsider)
    assert client.post(url).status_code == 403
    client.force_login(org.agent)
    assert client.get(url).status_code == 405
    assert not AccessLog.objects.filter(event=AccessLog.Event.PERSONAL_DATA_VIEWED).exists()


def test_detail_card_shows_full_values_to_holders_and_logs_each_view(client, org, make_complaint):
    """Needs the one-line call in views/detail.py (_customer_card)."""
    complaint = _nameless(make_complaint)
    client.force_login(org.supervisor)
    url = reverse("complaints:staff-detail", args=[complaint.pk])
    html = client.get(url).content.decode()
    client.get(url)
    assert f'href="tel:{PHONE}"' in html and "customer-contact-reveal" not in html
    logs = AccessLog.objects.filter(event=AccessLog.Event.PERSONAL_DATA_VIEWED)
    assert logs.count() == 2
    assert {log.detail["purpose"] for log in logs} == {"card"}
