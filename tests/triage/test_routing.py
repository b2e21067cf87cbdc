"""route(): ordered routing rules, then the category's default team up the tree, then
COMPLAINT_DEFAULT_TEAM, then nobody."""

from __future__ import annotations

import pytest

from complaints.models import RoutingRule
from complaints.services.routing import route, route_explained
from tests.factories import CategoryFactory, ProductFactory, TeamFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree(org):
    """quality (default team A) > malfunction (no default team) > heating element."""
    malfunction = CategoryFactory(name="Malfunction", code="malfunction", parent=org.category)
    element = CategoryFactory(name="Heating element", code="element", parent=malfunction)
    return malfunction, element


def test_the_first_matching_rule_by_order_wins(org):
    special = TeamFactory(name="Special", code="special")
    RoutingRule.objects.create(name="b", category=org.category, team=org.team_b, order=20)
    RoutingRule.objects.create(name="a", category=org.category, team=special, order=10)

    decision = route_explained(category=org.category)

    assert decision.team == special
    assert decision.source == "rule" and decision.rule.name == "a"


def test_a_rule_for_a_category_covers_its_sub_categories(org, tree):
    _malfunction, element = tree
    RoutingRule.objects.create(name="quality", category=org.category, team=org.team_b)

    assert route(category=element) == org.team_b
    assert route(category=org.category_b) == org.team_b  # billing's own default team
    RoutingRule.objects.create(name="billing only", category=org.category_b, team=org.team)
    assert route(category=element) == org.team_b


def test_every_set_condition_must_match(org):
    vip_desk = TeamFactory(name="VIP desk", code="vip-desk")
    kettle = ProductFactory(name="Kettle")
    RoutingRule.objects.create(
        name="VIP kettle phone",
        category=org.category,
        product=kettle,
        channel="phone",
        customer_tier="vip",
        team=vip_desk,
    )

    assert (
        route(category=org.category, product=kettle, channel="phone", customer_tier="vip")
        == vip_desk
    )
    for kwargs in (
        {"product": kettle, "channel": "web", "customer_tier": "vip"},
        {"product": kettle, "channel": "phone", "customer_tier": "gold"},
        {"product": None, "channel": "phone", "customer_tier": "vip"},
        {"product": ProductFactory(), "channel": "phone", "customer_tier": "vip"},
    ):
        assert route(category=org.category, **kwargs) == org.team, kwargs


def test_a_rule_without_conditions_on_category_matches_any_category(org):
    RoutingRule.objects.create(name="all VIPs", customer_tier="vip", team=org.team_b)

    assert route(category=org.category, customer_tier="vip") == org.team_b
    assert route(category=None, customer_tier="vip") == org.team_b


def test_inactive_rules_and_rules_for_inactive_teams_are_skipped(org):
    retired = TeamFactory(name="Retired", code="retired", is_active=False)
    RoutingRule.objects.create(name="off", team=org.team_b, is_active=False, order=1)
    RoutingRule.objects.create(name="retired team", team=retired, order=2)

    assert route(category=org.category) == org.team


def test_the_nearest_default_team_up_the_tree(org, tree):
    malfunction, element = tree

    decision = route_explained(category=element)

    assert decision.team == org.team and decision.source == "category"
    element.default_team = org.team_b
    element.save()
    assert route(category=element) == org.team_b
    assert route(category=malfunction) == org.team


def test_then_the_default_team_setting_then_nobody(org, settings):
    orphan = CategoryFactory(name="Orphan", code="orphan")
    settings.COMPLAINT_DEFAULT_TEAM = "front-b"

    assert route_explained(category=orphan).source == "default"
    assert route(category=orphan) == org.team_b
    assert route(category=None) == org.team_b

    settings.COMPLAINT_DEFAULT_TEAM = "no-such-team"
    assert route(category=orphan) is None
    del settings.COMPLAINT_DEFAULT_TEAM
    decision = route_explained(category=orphan)
    assert decision.team is None and decision.source == "none"
