"""Configuration as data: export, import into an empty installation, import again
(nothing changes), and refusals that write nothing."""

import json

import pytest
from django.core.management import call_command

from complaints.errors import InvalidInput
from complaints.models import (
    AuthorityLimit,
    BusinessCalendar,
    CalendarDay,
    Category,
    KeywordRule,
    Product,
    ReplyTemplate,
    RoutingRule,
    SlaPolicy,
    Sop,
    Team,
)
from complaints.services.config_transfer import config_export, config_import

pytestmark = pytest.mark.django_db


@pytest.fixture
def configured(org):
    cal = BusinessCalendar.objects.create(name="China office")
    CalendarDay.objects.create(calendar=cal, date="2025-10-01", kind="holiday", name="国庆节")
    org.team.calendar = cal
    org.team.save()
    child = Category.objects.create(name="屏幕", code="screen", parent=org.category)
    SlaPolicy.objects.create(
        name="Quality P1", category=org.category, priority=org.p1, calendar=cal,
        first_response_minutes=60, resolution_minutes=480,
    )  # fmt: skip
    RoutingRule.objects.create(name="Billing to B", category=org.category_b, team=org.team_b)
    KeywordRule.objects.create(name="Fire", terms="起火|fire", category=child, urgency="critical")
    ReplyTemplate.objects.create(name="Sorry", category=org.category, body="抱歉 {customer_name}")
    Sop.objects.create(category=org.category, version=1, title="Quality SOP", steps=["Ask photo"])
    AuthorityLimit.objects.create(role="Agent", kind="voucher", max_amount="50.00")
    return org


def _wipe():
    for model in (Sop, ReplyTemplate, KeywordRule, RoutingRule, SlaPolicy, AuthorityLimit):
        model.objects.all().delete()
    Category.objects.filter(parent__isnull=False).delete()
    Category.objects.all().delete()
    Team.objects.update(calendar=None)
    BusinessCalendar.objects.all().delete()


def test_export_then_import_into_an_empty_installation_and_again(configured):
    data = json.loads(json.dumps(config_export()))
    assert {"calendars", "teams", "categories", "sla_policies", "sops"} <= data.keys()
    assert data["calendars"][0]["days"][0]["name"] == "国庆节"
    assert "supervisor" not in data["teams"][0]
    _wipe()

    counts = config_import(data=data, actor=configured.admin)
    assert counts["categories"]["created"] == 3
    screen = Category.objects.get(code="screen")
    assert screen.parent.code == "quality"
    policy = SlaPolicy.objects.get()
    assert (policy.category.code, policy.priority.code, policy.calendar.name) == (
        "quality", "P1", "China office",
    )  # fmt: skip
    assert CalendarDay.objects.get().name == "国庆节"
    assert Team.objects.get(code="front-a").calendar.name == "China office"
    assert KeywordRule.objects.get().category == screen
    assert Sop.objects.get(is_current=True).steps == ["Ask photo"]
    assert str(AuthorityLimit.objects.get().max_amount) == "50.00"
    history = Category.history.filter(code="screen").first()
    assert history.history_change_reason == "Configuration import"

    again = config_import(data=data, actor=configured.admin)
    assert all(c["created"] == 0 and c["updated"] == 0 for c in again.values()), again
    assert Sop.objects.count() == 1


def test_a_changed_sop_becomes_a_new_version(configured):
    data = config_export()
    data["sops"][0]["steps"] = ["Ask photo", "Offer replacement"]
    counts = config_import(data=data)
    assert counts["sops"]["updated"] == 1
    assert list(Sop.objects.order_by("version").values_list("version", "is_current")) == [
        (1, False),
        (2, True),
    ]


def test_an_unknown_reference_is_refused_and_nothing_is_written(configured):
    data = config_export()
    data["categories"].append({"code": "new-one", "name": "New", "parent": "missing"})
    data["products"] = [{"sku": "X1", "name": "X1", "category": "quality"}]
    with pytest.raises(InvalidInput) as exc:
        config_import(data=data)
    assert "categories[3]: unknown parent “missing”." in exc.value.message
    assert not Category.objects.filter(code="new-one").exists()
    assert not Product.objects.filter(sku="X1").exists()


def test_an_invalid_value_is_refused(configured):
    data = config_export()
    data["sla_policies"][0]["warning_percent"] = 500
    with pytest.raises(InvalidInput) as exc:
        config_import(data=data)
    assert "sla_policies[0]" in exc.value.message


def test_the_commands_round_trip_in_yaml(configured, tmp_path):
    path = tmp_path / "config.yaml"
    call_command("config_export", "--output", str(path))
    assert "国庆节" in path.read_text(encoding="utf-8")
    call_command("config_import", str(path))
    assert Category.objects.filter(code="screen").count() == 1
