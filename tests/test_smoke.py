import pytest


@pytest.mark.django_db
@pytest.mark.parametrize(
    "state",
    [
        "new",
        "triaged",
        "assigned",
        "in_progress",
        "awaiting_customer",
        "resolved",
        "closed",
        "reopened",
        "rejected",
    ],
)
def test_reach_every_state(make_complaint, state):
    c = make_complaint(state)
    c.refresh_from_db()
    assert c.status == state
