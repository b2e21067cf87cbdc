"""Shared fixtures: a small organisation and a way to put complaints into any state
through the real services."""

from __future__ import annotations

import pytest

from complaints import roles
from complaints.models import Channel, Complaint, Demand
from complaints.services import intake, survey
from complaints.services import transitions as t
from tests.factories import (
    CategoryFactory,
    CustomerFactory,
    MembershipFactory,
    TeamFactory,
    UserFactory,
    priority,
)

# Browser fixtures (Playwright + Chromium), one session for every folder's tests.
pytest_plugins = ["tests.browsing"]


@pytest.fixture(autouse=True)
def _fresh_configuration_cache():
    """Each test reads configuration afresh: rows a previous test rolled back (with
    their reused ids) must not come back from the per-process configuration cache."""
    from complaints import config_cache

    config_cache.invalidate()


class Org:
    """Team A (agent, agent2, supervisor) and team B (agent_b); a department (tech)."""

    def __init__(self):
        self.team = TeamFactory(name="Front line A", code="front-a")
        self.team_b = TeamFactory(name="Front line B", code="front-b")
        self.department = TeamFactory(name="Technical", code="tech", kind="department")
        self.agent = UserFactory(username="agent", role=roles.AGENT)
        self.agent2 = UserFactory(username="agent2", role=roles.AGENT)
        self.agent_b = UserFactory(username="agent_b", role=roles.AGENT)
        self.supervisor = UserFactory(username="supervisor", role=roles.SUPERVISOR)
        self.admin = UserFactory(username="admin", role=roles.ADMIN, is_staff=True)
        self.responder = UserFactory(username="tech", role=roles.RESPONDER)
        self.outsider = UserFactory(username="nobody")
        for user in (self.agent, self.agent2, self.supervisor):
            MembershipFactory(team=self.team, user=user)
        MembershipFactory(team=self.team_b, user=self.agent_b)
        MembershipFactory(team=self.department, user=self.responder)
        self.team.supervisor = self.supervisor
        self.team.save()
        self.category = CategoryFactory(
            name="Product quality", code="quality", default_team=self.team
        )
        self.category_b = CategoryFactory(name="Billing", code="billing", default_team=self.team_b)
        self.p1 = priority("P1")
        self.p3 = priority("P3")


def ensure_reference_data() -> None:
    """The role groups and priority grades come from migration 0002. Tests that
    really commit (transaction=True, live_server) empty every table afterwards, so
    recreate them for whichever test comes next."""
    from django.contrib.auth.models import Group

    from complaints.models import Priority

    for name in roles.ALL_ROLES:
        Group.objects.get_or_create(name=name)
    for code, level, name in (
        ("P1", 1, "Critical"),
        ("P2", 2, "High"),
        ("P3", 3, "Normal"),
        ("P4", 4, "Low"),
    ):
        Priority.objects.get_or_create(code=code, defaults={"level": level, "name": name})


@pytest.fixture
def org(db) -> Org:
    ensure_reference_data()
    return Org()


# The path through the lifecycle to reach each state, as (service, kwargs-maker).
def _path(org: Org, target: str) -> list:
    triage = (
        t.complaint_triage,
        lambda c: {"actor": org.agent, "category": org.category, "priority": org.p3},
    )
    assign = (t.complaint_assign, lambda c: {"actor": org.supervisor, "assignee": org.agent})
    start = (t.complaint_start, lambda c: {"actor": org.agent})
    resolve = (
        t.complaint_resolve,
        lambda c: {
            "actor": org.agent,
            "summary": "Replaced the unit",
            "root_cause": "product_defect",
            "remedy": "Replacement shipped",
        },
    )
    # Closed the normal way: the customer answers the survey, satisfied.
    close = (survey.survey_submit, lambda c: {"rating": 5, "solved": True})
    paths = {
        "new": [],
        "triaged": [triage],
        "assigned": [triage, assign],
        "in_progress": [triage, assign, start],
        "awaiting_customer": [
            triage,
            assign,
            start,
            (
                t.complaint_await_customer,
                lambda c: {"actor": org.agent, "question": "Photo please?"},
            ),
        ],
        "resolved": [triage, assign, start, resolve],
        "closed": [triage, assign, start, resolve, close],
        "reopened": [
            triage,
            assign,
            start,
            resolve,
            (t.complaint_reopen, lambda c: {"actor": roles.SYSTEM, "reason": "Unsatisfied"}),
        ],
        "rejected": [
            (
                t.complaint_reject,
                lambda c: {
                    "actor": org.supervisor,
                    "reason": "Not a complaint",
                    "recourse": "12315",
                },
            )
        ],
    }
    return paths[target]


@pytest.fixture
def make_complaint(org):
    """make_complaint(state="in_progress", **create_kwargs) -> Complaint in that state."""

    def make(state: str = "new", *, customer=None, **kwargs) -> Complaint:
        fields = {
            "actor": None,
            "channel": Channel.WEB,
            "customer": customer or CustomerFactory(),
            "title": "Kettle stopped working",
            "description": "水壶用了三天就坏了 / The kettle broke after three days.",
            "demand": Demand.REPLACEMENT,
        }
        fields.update(kwargs)
        complaint = intake.complaint_create(**fields)
        for service, make_kwargs in _path(org, state):
            service(complaint=complaint, **make_kwargs(complaint))
        assert complaint.status == state
        return complaint

    return make
