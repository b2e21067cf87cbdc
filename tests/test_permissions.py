"""Visibility: the queryset (lists) and the predicate (details, services) agree."""

import pytest

from complaints import permissions, roles, selectors
from complaints.services import transitions as t

pytestmark = pytest.mark.django_db


@pytest.fixture
def spread(org, make_complaint):
    """Complaints of team A, team B, the untriaged intake, and one assigned across teams."""
    a = make_complaint("assigned")
    b = make_complaint("new")
    t.complaint_triage(complaint=b, actor=org.supervisor, category=org.category_b, priority=org.p3)
    intake = make_complaint("new")
    return {"a": a, "b": b, "intake": intake}


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("agent", {"a", "intake"}),
        ("agent_b", {"b", "intake"}),
        ("supervisor", {"a", "b", "intake"}),
        ("admin", {"a", "b", "intake"}),
        ("responder", set()),
        ("outsider", set()),
    ],
)
def test_visibility(org, spread, who, sees):
    user = getattr(org, who)
    visible = set(selectors.complaints_visible_to(user).values_list("pk", flat=True))
    assert visible == {spread[k].pk for k in sees}
    for key, complaint in spread.items():
        assert permissions.can_view_complaint(user, complaint) == (key in sees)


def test_inactive_user_sees_nothing(org, spread):
    org.agent.is_active = False
    assert not selectors.complaints_visible_to(org.agent).exists()
    assert not permissions.can_view_complaint(org.agent, spread["a"])


def test_system_sees_everything(spread):
    assert selectors.complaints_visible_to(roles.SYSTEM).count() == 3


def test_available_transitions_follow_state_and_role(org, make_complaint):
    complaint = make_complaint("in_progress")

    def names(user):
        return {
            r.name
            for r in selectors.complaint_available_transitions(complaint=complaint, user=user)
        }

    assert names(org.agent) == {"await_customer", "reassign", "release", "resolve", "merge"}
    assert names(org.agent2) == {"merge"}
    assert names(org.supervisor) == {"reassign", "release", "resolve", "merge"}


def test_complaint_get_for_user_hides_missing_and_forbidden_alike(org, spread):
    from complaints.errors import NotFound

    with pytest.raises(NotFound) as missing:
        selectors.complaint_get_for_user(user=org.agent_b, pk=999999)
    with pytest.raises(NotFound) as forbidden:
        selectors.complaint_get_for_user(user=org.agent_b, pk=spread["a"].pk)
    assert str(missing.value) == str(forbidden.value)
    with pytest.raises(NotFound):
        selectors.complaint_get_for_user(user=org.agent, pk="1 OR 1=1")


def test_responder_sees_complaints_their_department_was_asked_about(org, make_complaint):
    from complaints.services.collaboration import collaboration_ask

    asked = make_complaint("in_progress")
    other = make_complaint("in_progress")
    collaboration_ask(
        complaint=asked,
        actor=org.agent,
        department=org.department,
        question="Is this a known defect?",
    )
    visible = set(selectors.complaints_visible_to(org.responder).values_list("pk", flat=True))
    assert visible == {asked.pk}
    assert permissions.can_view_complaint(org.responder, asked)
    assert not permissions.can_view_complaint(org.responder, other)
