"""Authority limits: who may grant which remedy, up to which amount, without approval."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group

from complaints import roles
from complaints.models import AuthorityLimit, RemedyKind
from complaints.services.remedies import authority_limit_for, within_authority
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
REFUND, VOUCHER, APOLOGY = RemedyKind.REFUND, RemedyKind.VOUCHER, RemedyKind.APOLOGY


def test_agent_within_and_above_the_limit(limits):
    agent = limits.agent
    assert authority_limit_for(user=agent, kind=REFUND) == Decimal("100")
    assert within_authority(user=agent, kind=REFUND, amount=Decimal("100.00"))
    assert not within_authority(user=agent, kind=REFUND, amount=Decimal("100.01"))


def test_agent_without_a_row_needs_approval_for_any_amount(limits):
    assert authority_limit_for(user=limits.agent, kind=VOUCHER) == Decimal("0")
    assert not within_authority(user=limits.agent, kind=VOUCHER, amount=Decimal("0.01"))


def test_an_apology_of_zero_is_within_everyones_authority(org):
    assert not AuthorityLimit.objects.exists()
    assert within_authority(user=org.agent, kind=APOLOGY, amount=Decimal("0"))
    assert within_authority(user=org.responder, kind=APOLOGY, amount=Decimal("0"))


def test_supervisor_without_a_row_has_no_limit(limits):
    assert authority_limit_for(user=limits.supervisor, kind=VOUCHER) is None
    assert within_authority(user=limits.supervisor, kind=VOUCHER, amount=Decimal("999999"))


def test_supervisor_with_a_row_is_limited(limits):
    supervisor = limits.supervisor
    assert authority_limit_for(user=supervisor, kind=REFUND) == Decimal("1000")
    assert within_authority(user=supervisor, kind=REFUND, amount=Decimal("1000"))
    assert not within_authority(user=supervisor, kind=REFUND, amount=Decimal("1000.01"))


def test_admins_count_as_supervisors(limits):
    assert authority_limit_for(user=limits.admin, kind=REFUND) == Decimal("1000")
    assert authority_limit_for(user=limits.admin, kind=VOUCHER) is None


def test_several_roles_get_the_most_generous_limit(limits):
    AuthorityLimit.objects.create(
        role=roles.AGENT, kind=RemedyKind.COMPENSATION, max_amount=Decimal("300")
    )
    AuthorityLimit.objects.create(
        role=roles.SUPERVISOR, kind=RemedyKind.COMPENSATION, max_amount=Decimal("200")
    )
    both = UserFactory(username="lead", role=roles.AGENT)
    both.groups.add(Group.objects.get(name=roles.SUPERVISOR))
    assert authority_limit_for(user=both, kind=RemedyKind.COMPENSATION) == Decimal("300")
    assert authority_limit_for(user=both, kind=REFUND) == Decimal("1000")
    # No supervisor row: the supervisor role's "no limit" wins.
    assert authority_limit_for(user=both, kind=VOUCHER) is None


def test_responders_and_inactive_users_have_no_authority(limits):
    assert authority_limit_for(user=limits.responder, kind=REFUND) == Decimal("0")
    limits.supervisor.is_active = False
    assert authority_limit_for(user=limits.supervisor, kind=VOUCHER) == Decimal("0")
