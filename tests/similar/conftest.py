"""Resolved complaints with their own text and resolution, in team A or team B."""

from __future__ import annotations

import pytest

from complaints import roles
from complaints.models import Channel, Demand
from complaints.services import intake, survey
from complaints.services import transitions as t
from tests.factories import CustomerFactory


@pytest.fixture
def settled(org):
    """settled(title, description, summary=..., team="a", state="resolved") -> Complaint."""

    def make(
        title: str,
        description: str,
        *,
        summary: str = "Replaced the unit",
        team: str = "a",
        state: str = "resolved",
        customer=None,
    ):
        complaint = intake.complaint_create(
            actor=None,
            channel=Channel.WEB,
            customer=customer or CustomerFactory(),
            title=title,
            description=description,
            demand=Demand.REPLACEMENT,
        )
        category, agent = (
            (org.category, org.agent) if team == "a" else (org.category_b, org.agent_b)
        )
        t.complaint_triage(
            complaint=complaint, actor=org.supervisor, category=category, priority=org.p3
        )
        if state == "triaged":
            return complaint
        t.complaint_assign(complaint=complaint, actor=org.supervisor, assignee=agent)
        t.complaint_start(complaint=complaint, actor=agent)
        if state == "in_progress":
            return complaint
        t.complaint_resolve(
            complaint=complaint,
            actor=agent,
            summary=summary,
            root_cause="product_defect",
            remedy="Replacement shipped",
        )
        if state == "closed":
            survey.survey_submit(complaint=complaint, rating=5, solved=True)
        elif state == "reopened":
            t.complaint_reopen(complaint=complaint, actor=roles.SYSTEM, reason="Unsatisfied")
        assert complaint.status == state
        return complaint

    return make
