"""Fixtures of the handling aids: a category tree with SOPs, and reply templates."""

from __future__ import annotations

import pytest

from complaints.services import guidance
from complaints.services.editing import complaint_update
from tests.factories import CategoryFactory

STEPS = ["Call the customer within 2 hours", "Ask for the order number", "Offer a remedy"]


@pytest.fixture
def kettles(org):
    """A subcategory of org.category (Product quality / Kettles)."""
    return CategoryFactory(name="Kettles", code="kettles", parent=org.category)


@pytest.fixture
def sop(org):
    """Version 1 of the SOP of org.category (the parent of `kettles`)."""
    return guidance.sop_save_version(
        category=org.category,
        actor=org.admin,
        title="Product quality SOP",
        steps=STEPS,
        allowed_remedies=["refund", "replacement"],
        time_limit_hours=48,
        standard_wording="We are sorry for the trouble.",
    )


@pytest.fixture
def working(org, make_complaint, kettles):
    """An in-progress complaint of team A in the Kettles subcategory."""
    complaint = make_complaint("in_progress")
    complaint_update(complaint=complaint, actor=org.agent, category=kettles, reason="Kettles")
    complaint.refresh_from_db()
    return complaint
