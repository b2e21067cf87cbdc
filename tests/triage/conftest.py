"""Fixtures for keyword triage: the starter rules and grid, and the categories the
starter rules name."""

from __future__ import annotations

import pytest

from complaints.models import Category, KeywordRule
from complaints.services import triage
from tests.factories import CategoryFactory, TeamFactory


@pytest.fixture(autouse=True)
def fresh_rule_cache():
    # The compiled-rules cache lives per process; each test has its own database rows.
    triage.clear_cache()
    yield
    triage.clear_cache()


class Catalog:
    def __init__(self, org):
        self.logistics_team = TeamFactory(name="Logistics desk", code="logistics-desk")
        self.logistics = CategoryFactory(
            name="Delivery", code="logistics", default_team=self.logistics_team
        )
        self.logistics_lost = CategoryFactory(
            name="Lost parcel", code="logistics-lost", parent=self.logistics
        )
        self.safety = CategoryFactory(name="Safety hazard", code="safety", default_team=org.team)
        # From the org fixture.
        self.billing = Category.objects.get(code="billing")
        self.quality = Category.objects.get(code="quality")


@pytest.fixture
def catalog(org) -> Catalog:
    return Catalog(org)


@pytest.fixture
def defaults(org, catalog) -> Catalog:
    """The starter rules and the 16 grid cells, installed as seed_demo would."""
    triage.triage_install_defaults()
    assert KeywordRule.objects.count() == 6
    return catalog
