import pytest

from complaints.errors import InvalidInput
from complaints.models import Channel, Complaint, ComplaintEvent, Customer, StatusChange
from complaints.services import intake

pytestmark = pytest.mark.django_db


def _create(customer, **kw):
    fields = {
        "actor": None,
        "channel": Channel.WEB,
        "customer": customer,
        "title": "配送延迟",
        "description": "订单一周还没到。",
        "demand": "explanation",
    }
    fields.update(kw)
    return intake.complaint_create(**fields)


def test_create_records_everything_and_acknowledges(mailoutbox, django_capture_on_commit_callbacks):
    customer = intake.customer_find_or_create(
        name="李雷", phone="13800138000", email="Li@Example.com"
    )
    with django_capture_on_commit_callbacks(execute=True):
        complaint = _create(customer)
    assert complaint.status == "new"
    assert complaint.tracking_number.startswith("TS-")
    change = StatusChange.objects.get(complaint=complaint)
    assert (change.transition, change.from_status, change.to_status) == ("receive", "", "new")
    assert complaint.events.get().kind == ComplaintEvent.Kind.RECEIVED
    assert complaint.history.count() == 1
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["li@example.com"]
    assert complaint.tracking_number in mailoutbox[0].body


def test_same_phone_or_email_is_the_same_customer():
    a = intake.customer_find_or_create(name="Wei", phone="138 0013 8000")
    b = intake.customer_find_or_create(phone="+86 13800138000", email="wei@example.com")
    c = intake.customer_find_or_create(email="WEI@example.com")
    assert a.pk == b.pk == c.pk
    a.refresh_from_db()
    assert a.email == "wei@example.com"  # learnt the second time
    assert Customer.objects.count() == 1


def test_customer_needs_a_contact():
    with pytest.raises(InvalidInput):
        intake.customer_find_or_create(name="Anonymous")


@pytest.mark.parametrize(
    ("field", "value"),
    [("title", "  "), ("description", ""), ("channel", "fax"), ("demand", "money")],
)
def test_bad_input_is_refused_with_a_message(field, value):
    customer = intake.customer_find_or_create(phone="13800138001")
    with pytest.raises(InvalidInput) as err:
        _create(customer, **{field: value})
    assert str(err.value)
    assert not Complaint.objects.exists()


def test_tracking_number_collision_is_retried(monkeypatch):
    customer = intake.customer_find_or_create(phone="13800138002")
    first = _create(customer)
    numbers = iter([first.tracking_number, first.tracking_number, "TS-20261123-AAAAA"])
    monkeypatch.setattr(intake, "new_tracking_number", lambda received_at: next(numbers))
    second = _create(customer)
    assert second.tracking_number == "TS-20261123-AAAAA"
    assert Complaint.objects.count() == 2
