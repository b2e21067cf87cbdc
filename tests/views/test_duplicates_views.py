import pytest
from django.urls import reverse

from complaints.models import Complaint, DuplicateFlag
from complaints.services import intake
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def twins(org, make_complaint):
    customer = CustomerFactory()
    first = make_complaint(
        "in_progress", customer=customer, title="水壶漏水", description="水壶漏水，底座有裂缝"
    )
    second = make_complaint(
        "new", customer=customer, title="水壶又漏了", description="我的水壶底座裂开了还漏水"
    )
    flag = DuplicateFlag.objects.get(complaint=second, other=first)
    return first, second, flag


def test_detail_shows_the_flag_and_merging_moves_the_duplicate(client, org, twins):
    first, second, flag = twins
    client.force_login(org.agent)
    page = client.get(reverse("complaints:staff-detail", args=[second.pk])).content.decode()
    assert 'id="duplicates-panel"' in page and first.tracking_number in page
    response = client.post(
        reverse("complaints:staff-duplicate-merge", args=[second.pk, flag.pk]),
        {"direction": "into_other"},
    )
    assert response.status_code == 302 and response.url == reverse(
        "complaints:staff-detail", args=[first.pk]
    )
    assert Complaint.objects.get(pk=second.pk).status == "merged"
    assert set(
        DuplicateFlag.objects.filter(pk__in=[flag.pk]).values_list("decision", flat=True)
    ) == {"merged"}


def test_merge_the_other_into_this_one(client, org, twins):
    first, second, _flag = twins
    client.force_login(org.agent)
    reverse_flag = DuplicateFlag.objects.get(complaint=first, other=second)
    client.post(
        reverse("complaints:staff-duplicate-merge", args=[first.pk, reverse_flag.pk]),
        {"direction": "into_this"},
    )
    assert Complaint.objects.get(pk=second.pk).merged_into_id == first.pk


def test_dismiss_and_forbidden(client, org, twins):
    _, second, flag = twins
    client.force_login(org.agent_b)  # team B does not see team A's in-progress complaint
    first = flag.other
    assert (
        client.post(
            reverse("complaints:staff-duplicate-dismiss", args=[first.pk, flag.pk])
        ).status_code
        == 404
    )
    client.force_login(org.agent)
    client.post(reverse("complaints:staff-duplicate-dismiss", args=[second.pk, flag.pk]))
    assert set(
        DuplicateFlag.objects.filter(complaint__in=[first, second]).values_list(
            "decision", flat=True
        )
    ) == {"dismissed"}


def test_customer_merge_from_the_complaint(client, org, make_complaint):
    complaint = make_complaint("in_progress")
    other = intake.customer_find_or_create(name="Old record", phone="13911112222")
    old = make_complaint("new", customer=other)
    client.force_login(org.agent)
    url = reverse("complaints:staff-customer-merge", args=[complaint.pk])
    assert client.get(url).status_code == 200
    bad = client.post(url, {"other": "nobody@example.com", "reason": "same"})
    assert bad.status_code == 400 and "No customer record matches" in bad.content.decode()
    ok = client.post(url, {"other": "139 1111 2222", "reason": "Same phone, same person"})
    assert ok.status_code == 302
    old.refresh_from_db()
    other.refresh_from_db()
    assert old.customer == complaint.customer
    assert other.merged_into == complaint.customer
