"""Identity matching at intake and merging customer records."""

import threading

import pytest
from django.db import connection, connections

from complaints.errors import ActionForbidden, InvalidInput
from complaints.models import (
    Channel,
    Complaint,
    ComplaintEvent,
    Customer,
    CustomerExternalId,
)
from complaints.services import intake
from complaints.services.customers import customer_merge

pytestmark = pytest.mark.django_db


def _submit(**kw):
    fields = {
        "channel": Channel.WEB,
        "description": "水壶用了三天就坏了",
        "demand": "replacement",
    }
    fields.update(kw)
    return intake.complaint_submit(**fields)


# --- Matching -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "13800138000",
        "138 0013 8000",
        "138-0013-8000",
        "+86 138 0013 8000",
        "0086 13800138000",
        "＋８６１３８００１３８０００",
    ],
)
def test_phone_formats_match_the_same_customer(typed):
    first = intake.customer_find_or_create(name="王芳", phone="+8613800138000")
    again = intake.customer_find_or_create(phone=typed)
    assert again.pk == first.pk
    assert Customer.objects.count() == 1


def test_email_matches_case_insensitively_even_when_stored_with_capitals():
    # Stored with capitals (an admin typed it): still the same address.
    stored = Customer.objects.create(name="Ann", email="Ann.Lee@Example.COM")
    found = intake.customer_find_or_create(email="  ann.lee@example.com ")
    assert found.pk == stored.pk
    assert Customer.objects.count() == 1


def test_external_id_matches_first_and_learns_the_new_phone():
    customer = intake.customer_find_or_create(
        name="小明", email="xm@example.com", external_system="wechat", external_id="wx-42"
    )
    assert CustomerExternalId.objects.get(system="wechat", value="wx-42").customer == customer
    again = intake.customer_find_or_create(
        phone="139 1234 5678", external_system="wechat", external_id="wx-42"
    )
    assert again.pk == customer.pk
    customer.refresh_from_db()
    assert customer.phone == "+8613912345678"  # learnt
    assert customer.email == "xm@example.com"  # kept
    assert Customer.objects.count() == 1


def test_external_id_alone_creates_a_customer_and_links_it():
    customer = intake.customer_find_or_create(external_system="weibo", external_id="u-7")
    assert (customer.phone, customer.email) == ("", "")
    assert list(customer.external_ids.values_list("system", "value")) == [("weibo", "u-7")]


def test_a_new_external_id_is_linked_to_the_phone_match():
    customer = intake.customer_find_or_create(phone="13800138000")
    again = intake.customer_find_or_create(
        phone="13800138000", external_system="shop", external_id="M-1"
    )
    assert again.pk == customer.pk
    assert CustomerExternalId.objects.get(system="shop", value="M-1").customer_id == customer.pk


def test_external_id_wins_over_a_phone_that_belongs_to_someone_else():
    linked = intake.customer_find_or_create(
        email="a@example.com", external_system="wechat", external_id="wx-1"
    )
    phone_owner = intake.customer_find_or_create(phone="13800138000")
    found = intake.customer_find_or_create(
        phone="13800138000", external_system="wechat", external_id="wx-1"
    )
    assert found.pk == linked.pk
    assert found.identity_conflicts == {"phone": phone_owner}
    linked.refresh_from_db()
    assert linked.phone == ""  # not copied: it identifies another record


def test_phone_and_email_of_different_customers_prefer_the_phone_and_merge_nothing():
    by_phone = intake.customer_find_or_create(name="A", phone="13800138000")
    by_email = intake.customer_find_or_create(name="B", email="b@example.com")
    found = intake.customer_find_or_create(phone="13800138000", email="B@example.com")
    assert found.pk == by_phone.pk
    assert found.identity_conflicts == {"email": by_email}
    by_phone.refresh_from_db()
    by_email.refresh_from_db()
    assert by_phone.email == ""  # the email stays with B only
    assert by_email.merged_into_id is None and by_phone.merged_into_id is None
    assert Customer.objects.count() == 2


def test_a_conflict_is_noted_for_the_agent_on_the_new_complaint():
    by_phone = intake.customer_find_or_create(name="A", phone="13800138000")
    by_email = intake.customer_find_or_create(name="B", email="b@example.com")
    complaint = _submit(phone="13800138000", email="b@example.com")
    assert complaint.customer_id == by_phone.pk
    note = complaint.events.get(kind=ComplaintEvent.Kind.NOTE_ADDED)
    assert note.is_internal
    assert note.actor is None
    assert note.data["identity_conflicts"] == {"email": {"id": by_email.pk, "name": "B"}}
    assert f"#{by_email.pk}" in note.body


def test_merged_customers_are_followed_to_the_survivor():
    survivor = Customer.objects.create(name="Survivor", phone="+8613800000001")
    middle = Customer.objects.create(name="Middle", email="m@example.com", merged_into=survivor)
    oldest = Customer.objects.create(phone="+8613800000002", merged_into=middle)
    CustomerExternalId.objects.create(customer=oldest, system="wechat", value="wx-old")

    assert intake.customer_find_or_create(email="M@example.com").pk == survivor.pk
    assert intake.customer_find_or_create(phone="13800000002").pk == survivor.pk
    found = intake.customer_find_or_create(external_system="wechat", external_id="wx-old")
    assert found.pk == survivor.pk
    assert found.identity_conflicts == {}
    assert Customer.objects.count() == 3


def test_submit_passes_the_external_id_to_matching():
    first = _submit(email="li@example.com", external_system="wechat", external_id="wx-9")
    second = _submit(phone="13700137000", external_system="wechat", external_id="wx-9")
    assert first.customer_id == second.customer_id
    customer = Customer.objects.get()
    assert customer.phone == "+8613700137000"
    assert customer.external_ids.get().value == "wx-9"


def test_submit_with_half_an_external_id_is_refused_field_by_field():
    with pytest.raises(InvalidInput) as err:
        _submit(external_id="wx-9")
    assert set(err.value.fields) == {"external_system", "phone"}
    assert not Complaint.objects.exists()


def test_a_complaint_for_a_merged_customer_goes_to_the_survivor(make_complaint):
    survivor = Customer.objects.create(phone="+8613800000001")
    old = Customer.objects.create(phone="+8613800000002", merged_into=survivor)
    complaint = make_complaint(customer=old)
    assert complaint.customer_id == survivor.pk


# --- Merging customers ------------------------------------------------------------------------


def test_customer_merge_moves_complaints_with_history_and_ids(org, make_complaint):
    source = Customer.objects.create(
        name="李雷", phone="+8613800138000", tier=Customer.Tier.VIP, language="zh-hans"
    )
    target = Customer.objects.create(email="lilei@example.com")
    CustomerExternalId.objects.create(customer=source, system="wechat", value="wx-li")
    open_one = make_complaint("in_progress", customer=source)
    closed_one = make_complaint("closed", customer=source)
    versions = {c.pk: c.version for c in (open_one, closed_one)}

    result = customer_merge(source=source, target=target, actor=org.agent, reason="Same person")

    assert result.pk == target.pk
    for complaint in (open_one, closed_one):
        complaint.refresh_from_db()
        assert complaint.customer_id == target.pk
        assert complaint.version == versions[complaint.pk] + 1
        latest = complaint.history.first()
        assert latest.customer_id == target.pk
        assert latest.history_user_id == org.agent.pk
        assert latest.history_change_reason == "Same person"
        event = complaint.events.order_by("pk").last()
        assert event.kind == ComplaintEvent.Kind.FIELD_CHANGED
        assert event.actor == org.agent
        assert event.body == "Same person"
        assert event.data["changes"]["customer"]["from"]["id"] == source.pk
        assert event.data["changes"]["customer"]["to"]["id"] == target.pk
        assert event.data["customer_merge"] == {"source": source.pk, "target": target.pk}
    assert closed_one.status == "closed"  # moved, not reopened
    assert CustomerExternalId.objects.get(value="wx-li").customer_id == target.pk
    source.refresh_from_db()
    target.refresh_from_db()
    assert source.merged_into_id == target.pk
    assert source.history.first().history_change_reason == "Same person"
    # Missing contact details copied; what the target had is kept; the higher tier wins.
    assert (target.phone, target.email, target.name) == (
        "+8613800138000",
        "lilei@example.com",
        "李雷",
    )
    assert target.language == "zh-hans"
    assert target.tier == Customer.Tier.VIP
    # Intake now finds the survivor by the merged record's phone.
    assert intake.customer_find_or_create(phone="13800138000").pk == target.pk


def test_customer_merge_is_refused_for_an_outsider(org, make_complaint):
    source = Customer.objects.create(phone="+8613800000001")
    target = Customer.objects.create(phone="+8613800000002")
    complaint = make_complaint(customer=source)
    for user in (org.outsider, org.responder):
        with pytest.raises(ActionForbidden):
            customer_merge(source=source, target=target, actor=user, reason="x")
    complaint.refresh_from_db()
    source.refresh_from_db()
    assert complaint.customer_id == source.pk
    assert source.merged_into_id is None


def test_customer_merge_into_itself_or_a_merged_record_is_refused(org):
    a = Customer.objects.create(phone="+8613800000001")
    b = Customer.objects.create(phone="+8613800000002")
    c = Customer.objects.create(phone="+8613800000003", merged_into=b)
    with pytest.raises(InvalidInput, match="itself"):
        customer_merge(source=a, target=a, actor=org.supervisor, reason="x")
    with pytest.raises(InvalidInput, match=f"merged into #{b.pk}"):
        customer_merge(source=a, target=c, actor=org.supervisor, reason="x")
    with pytest.raises(InvalidInput, match="already merged"):
        customer_merge(source=c, target=a, actor=org.supervisor, reason="x")
    a.refresh_from_db()
    assert a.merged_into_id is None


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL concurrency")
def test_two_first_submissions_with_one_new_external_id_make_one_customer(org):
    barrier = threading.Barrier(2)
    results = [None, None]

    def run(i):
        try:
            barrier.wait()
            results[i] = _submit(
                phone=f"1380013800{i}", external_system="wechat", external_id="wx-race"
            )
        except Exception as exc:  # noqa: BLE001 - the outcome is what we compare
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    assert all(isinstance(r, Complaint) for r in results), results
    assert results[0].customer_id == results[1].customer_id
    assert Customer.objects.count() == 1
    assert Complaint.objects.count() == 2
