"""Helpers for the improvement-action tests."""

from __future__ import annotations

from datetime import timedelta

import pytest

from complaints.services import improvements


@pytest.fixture
def create_action(org):
    """create_action(*complaints, actor=supervisor, **overrides) -> ImprovementAction."""

    def create(*complaints, actor=None, **overrides):
        fields = {
            "title": "Fix the kettle thermostat",
            "problem": "Batch 42 thermostats fail after three days.",
            "owner_team": org.department,
            "due_date": improvements.today() + timedelta(days=14),
        }
        fields.update(overrides)
        return improvements.improvement_create(
            actor=actor or org.supervisor, complaints=complaints, **fields
        )

    return create
