"""triage_propose: what the keyword rules, the grid and routing propose for a text."""

from __future__ import annotations

import pytest

from complaints.models import Impact, KeywordRule, PriorityMatrix, Urgency
from complaints.services import triage
from complaints.services.triage import triage_propose
from tests.factories import CategoryFactory, ProductFactory, priority

pytestmark = pytest.mark.django_db


def test_smoke_from_a_kettle_is_a_safety_issue_at_p1(defaults):
    proposal = triage_propose(text="电水壶底座冒烟了，还有焦味")

    assert proposal.urgency == Urgency.CRITICAL
    assert proposal.impact == Impact.SAFETY
    assert proposal.flags == ["safety"]
    assert proposal.priority.code == "P1"
    assert proposal.priority_from_grid
    assert proposal.category == defaults.safety
    [match] = proposal.matches
    assert match["name"] == "安全 Safety"
    assert match["words"] == ["冒烟", "焦味"]
    assert proposal.words == ["冒烟", "焦味"]
    assert proposal.rule_ids == [KeywordRule.objects.get(name="安全 Safety").pk]


def test_a_threat_to_call_12315_is_public_and_legal_at_p1(defaults):
    proposal = triage_propose(text="我要打12315投诉你们")

    assert proposal.impact == Impact.PUBLIC
    assert proposal.urgency == Urgency.HIGH
    assert proposal.flags == ["legal"]
    assert proposal.priority.code == "P1"  # high × public
    assert proposal.category is None
    assert proposal.matches[0]["words"] == ["12315"]


def test_a_parcel_that_never_arrived_is_logistics(defaults):
    proposal = triage_propose(text="Parcel never arrived, order 12345")

    assert proposal.category == defaults.logistics
    assert proposal.team == defaults.logistics_team
    assert proposal.route.source == "category"
    assert proposal.priority.code == "P3"  # normal × individual
    assert proposal.flags == []
    assert proposal.matches[0]["words"] == ["parcel", "never arrived"]


def test_nothing_fires_gives_the_grid_default(defaults):
    proposal = triage_propose(text="The colour is not what the picture showed")

    assert proposal.matches == []
    assert proposal.category is None
    assert proposal.urgency == "" and proposal.impact == ""
    assert proposal.priority.code == "P3"


def test_english_words_match_whole_words_only(defaults):
    proposal = triage_propose(text="The firewall of my router blocks the app")

    assert proposal.matches == []


def test_several_rules_combine_highest_urgency_and_impact_and_all_flags(defaults):
    proposal = triage_propose(text="快递员把包裹扔坏了还起火了，我要找记者曝光，还要起诉")

    assert [m["name"] for m in proposal.matches] == [
        "安全 Safety",
        "监管与法律 Regulator / legal",
        "媒体曝光 Media",
        "物流配送 Logistics",
        "质量故障 Product quality",  # 扔坏了
    ]
    assert proposal.urgency == Urgency.CRITICAL
    assert proposal.impact == Impact.SAFETY
    assert proposal.flags == ["safety", "legal", "media"]
    # The first rule by order that sets a category wins.
    assert proposal.category == defaults.safety
    assert proposal.priority.code == "P1"


def test_the_first_rule_by_order_sets_the_category_and_product(org, catalog):
    kettle, fridge = ProductFactory(name="Kettle"), ProductFactory(name="Fridge")
    # Created first (lower pk) but ordered later.
    KeywordRule.objects.create(
        name="later", terms="坏了", category=catalog.logistics, product=fridge, order=50
    )
    KeywordRule.objects.create(
        name="earlier", terms="坏了", category=org.category, product=kettle, order=10
    )

    proposal = triage_propose(text="水壶坏了")

    assert [m["name"] for m in proposal.matches] == ["earlier", "later"]
    assert proposal.category == org.category
    assert proposal.product == kettle


def test_a_product_the_customer_named_beats_the_rules(org, catalog):
    named = ProductFactory(name="Named")
    KeywordRule.objects.create(name="r", terms="坏了", product=ProductFactory(), order=10)

    assert triage_propose(text="坏了", product=named).product == named


def test_inactive_rules_and_inactive_categories_are_ignored(org, catalog):
    KeywordRule.objects.create(
        name="off", terms="冒烟", urgency=Urgency.CRITICAL, is_active=False, order=1
    )
    retired = CategoryFactory(name="Retired", code="retired", is_active=False)
    KeywordRule.objects.create(name="retired", terms="冒烟", category=retired, order=2)
    KeywordRule.objects.create(name="on", terms="冒烟", category=org.category, order=3)

    proposal = triage_propose(text="冒烟了")

    assert [m["name"] for m in proposal.matches] == ["retired", "on"]
    assert proposal.urgency == ""
    assert proposal.category == org.category


def test_every_line_of_a_rule_must_match(org):
    KeywordRule.objects.create(
        name="refund for a lost parcel", terms="退款|refund\n丢件|lost parcel", order=1
    )

    assert triage_propose(text="丢件了，我要退款").matches[0]["words"] == ["退款", "丢件"]
    assert triage_propose(text="I want a refund").matches == []


def test_rule_edits_take_effect_without_a_restart(org):
    rule = KeywordRule.objects.create(name="r", terms="冒烟", urgency=Urgency.HIGH)
    first = triage.compiled_rules()
    assert triage.compiled_rules() is first  # unchanged rules are not compiled again

    rule.terms = "起火"
    rule.save()

    assert triage_propose(text="起火了").urgency == Urgency.HIGH
    assert triage_propose(text="冒烟了").urgency == ""
    rule.delete()
    assert triage_propose(text="起火了").matches == []


def test_a_missing_grid_cell_falls_back_to_p1_for_safety_and_p3_otherwise(org):
    KeywordRule.objects.create(name="safety", terms="冒烟", impact=Impact.SAFETY, order=1)
    KeywordRule.objects.create(name="critical", terms="爆炸", urgency=Urgency.CRITICAL, order=2)
    KeywordRule.objects.create(name="high", terms="律师", urgency=Urgency.HIGH, order=3)
    assert not PriorityMatrix.objects.exists()

    for text, code in (("冒烟", "P1"), ("爆炸", "P1"), ("律师", "P3"), ("nothing", "P3")):
        proposal = triage_propose(text=text)
        assert proposal.priority.code == code, text
        assert not proposal.priority_from_grid


def test_the_grid_cell_decides_when_present(org):
    KeywordRule.objects.create(name="group", terms="大家都", impact=Impact.GROUP)
    PriorityMatrix.objects.create(
        urgency=Urgency.NORMAL, impact=Impact.GROUP, priority=priority("P2")
    )

    proposal = triage_propose(text="大家都买到了坏的")

    assert proposal.priority.code == "P2" and proposal.priority_from_grid


def test_channel_and_tier_reach_routing(defaults, org):
    from complaints.models import RoutingRule

    RoutingRule.objects.create(name="VIP", customer_tier="vip", team=org.team_b, order=1)

    assert triage_propose(text="Parcel never arrived", customer_tier="vip").team == org.team_b
    assert triage_propose(text="Parcel never arrived").team == defaults.logistics_team


def test_install_defaults_is_idempotent_and_fills_the_grid(org, catalog):
    assert triage.triage_install_defaults() == {"rules": 6, "cells": 16}
    assert triage.triage_install_defaults() == {"rules": 0, "cells": 0}
    assert PriorityMatrix.objects.count() == 16
    grid = {(c.urgency, c.impact): c.priority.code for c in PriorityMatrix.objects.all()}
    assert all(grid[(Urgency.CRITICAL, i)] == "P1" for i in Impact.values)
    assert all(grid[(u, Impact.SAFETY)] == "P1" for u in Urgency.values)
    assert grid[(Urgency.HIGH, Impact.PUBLIC)] == "P1"
    assert grid[(Urgency.HIGH, Impact.INDIVIDUAL)] == "P2"
    assert grid[(Urgency.NORMAL, Impact.INDIVIDUAL)] == "P3"
    assert grid[(Urgency.LOW, Impact.INDIVIDUAL)] == "P4"
    assert KeywordRule.objects.get(name="扣款退款 Billing").category == catalog.billing


def test_a_refund_demand_alone_is_not_billing(defaults):
    # Most customers ask for their money back, whatever went wrong.
    assert triage_propose(text="噪音太大，晚上没法用，我要退款").category == defaults.quality
    assert triage_propose(text="退货寄回十天了仍未退款").category == defaults.billing
    assert triage_propose(text="Refund not received 10 days after return").category == (
        defaults.billing
    )


def test_install_defaults_skips_category_rules_whose_category_is_missing(org):
    org.category_b.delete()  # "billing"

    # Safety, legal, media, and quality (its category exists); not billing or logistics.
    assert triage.triage_install_defaults()["rules"] == 4
    assert KeywordRule.objects.get(name="安全 Safety").category is None
