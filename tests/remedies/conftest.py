"""Authority limits used by the remedy tests: agents may refund up to 100, supervisors
up to 1,000; vouchers have no row (agents: approval above 0, supervisors: no limit)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from complaints import roles
from complaints.models import AuthorityLimit, RemedyKind


@pytest.fixture
def limits(org):
    AuthorityLimit.objects.create(
        role=roles.AGENT, kind=RemedyKind.REFUND, max_amount=Decimal("100")
    )
    AuthorityLimit.objects.create(
        role=roles.SUPERVISOR, kind=RemedyKind.REFUND, max_amount=Decimal("1000")
    )
    return org


@pytest.fixture
def propose(limits):
    """propose(complaint, actor=agent, kind="refund", amount="250", description="")."""
    from complaints.services import remedies

    def run(complaint, *, actor=None, kind=RemedyKind.REFUND, amount="250", description=""):
        return remedies.remedy_propose(
            complaint=complaint,
            actor=actor or limits.agent,
            kind=kind,
            amount=amount,
            description=description,
        )

    return run
