"""The starter set of keyword rules and the urgency × impact grid that
`seed_demo` (and an admin starting from scratch) installs. Data, plus one
idempotent installer."""

from __future__ import annotations

from django.db import transaction

from complaints.models import Category, Impact, KeywordRule, Priority, PriorityMatrix, Urgency

# (name, terms, category code or None, urgency, impact, flags, order). A rule whose only
# effect is a category is installed only when that category exists.
DEFAULT_RULES = (
    (
        "安全 Safety",
        "起火|着火|冒烟|自燃|爆炸|焦味|焦糊|烧焦|触电|漏电|烫伤|烧伤|受伤|"
        "fire|smoke|smoking|burning|explod*|explosion|electric shock|injur*|burn|burns|burned|burnt",
        "safety",
        Urgency.CRITICAL,
        Impact.SAFETY,
        "safety",
        10,
    ),
    (
        "监管与法律 Regulator / legal",
        "12315|消协|消费者协会|市场监管|工商局|律师|起诉|法院|"
        "lawyer|attorney|sue|sued|suing|lawsuit|court|regulator",
        None,
        Urgency.HIGH,
        Impact.PUBLIC,
        "legal",
        20,
    ),
    (
        "媒体曝光 Media",
        "媒体|曝光|记者|上新闻|journalist|reporter|media|the press|newspaper",
        None,
        Urgency.HIGH,
        Impact.PUBLIC,
        "media",
        30,
    ),
    # Money taken or not given back. Not "退款/refund" alone: that is what most
    # customers ask for (the demand), whatever went wrong.
    (
        "扣款退款 Billing",
        "扣款|扣费|多扣|重复扣|扣了两次|乱收费|账单|发票|仍未退款|还没退款|没有退款|退款未到账|"
        "退款还没到|退款没到|退款延迟|"
        "charged twice|double charge*|overcharg*|billing|invoice|no refund|refund not received|"
        "refund has not|refund hasn't",
        "billing",
        "",
        "",
        "",
        40,
    ),
    (
        "物流配送 Logistics",
        "快递|物流|配送|送货|没收到|未收到|丢件|延迟|"
        "delivery|delivered|courier|parcel|package|never arrived|not arrived|never received|"
        "arrived late",
        "logistics",
        "",
        "",
        "",
        50,
    ),
    (
        "质量故障 Product quality",
        "坏了|故障|不工作|不能用|没法用|用不了|噪音|异响|漏水|质量问题|"
        "broken|broke|stopped working|not working|doesn't work|faulty|defect*|noisy|leak|leaks|"
        "leaking",
        "quality",
        "",
        "",
        "",
        60,
    ),
)

# urgency → impact → priority code: safety and critical are P1 whatever else.
DEFAULT_GRID = {
    Urgency.CRITICAL: {"individual": "P1", "group": "P1", "public": "P1", "safety": "P1"},
    Urgency.HIGH: {"individual": "P2", "group": "P2", "public": "P1", "safety": "P1"},
    Urgency.NORMAL: {"individual": "P3", "group": "P2", "public": "P2", "safety": "P1"},
    Urgency.LOW: {"individual": "P4", "group": "P3", "public": "P2", "safety": "P1"},
}


@transaction.atomic
def triage_install_defaults() -> dict[str, int]:
    """Install the starter keyword rules and the 16 grid cells (idempotent: rules are
    found by name and cells by urgency × impact; what an admin changed is kept)."""
    created = {"rules": 0, "cells": 0}
    categories = {c.code: c for c in Category.objects.filter(is_active=True)}
    for name, terms, code, urgency, impact, flags, order in DEFAULT_RULES:
        category = categories.get(code) if code else None
        if code and category is None and not (urgency or impact or flags):
            continue  # a category rule without its category would do nothing
        _rule, new = KeywordRule.objects.get_or_create(
            name=name,
            defaults={
                "terms": terms,
                "category": category,
                "urgency": urgency,
                "impact": impact,
                "flags": flags,
                "order": order,
            },
        )
        created["rules"] += new
    priorities = {p.code: p for p in Priority.objects.all()}
    for urgency, row in DEFAULT_GRID.items():
        for impact, code in row.items():
            if code not in priorities:
                continue
            _cell, new = PriorityMatrix.objects.get_or_create(
                urgency=urgency, impact=impact, defaults={"priority": priorities[code]}
            )
            created["cells"] += new
    return created
