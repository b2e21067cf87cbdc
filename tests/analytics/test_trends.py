"""Trend warnings: one that must fire, ones that must not, once per week and item, and
the one-step improvement action."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from complaints.errors import ActionForbidden
from complaints.models import (
    Channel,
    Complaint,
    Demand,
    ImprovementAction,
    Notification,
    TrendWarning,
)
from complaints.services import intake, transitions
from complaints.services.trends import (
    trend_warning_to_improvement,
    trend_warnings_detect,
)
from tests.analytics.conftest import SHANGHAI
from tests.factories import CustomerFactory, ProductFactory

WEEK = date(2025, 3, 3)  # a Monday


def _complaints(product, per_week: list[int]) -> None:
    """per_week[0] complaints in WEEK, per_week[i] i weeks before, each on a Tuesday.
    One goes through intake; the others are copies of it (the counts are what matters
    here, and intake per row would make this test slow)."""
    model = intake.complaint_create(
        actor=None,
        channel=Channel.WEB,
        customer=CustomerFactory(),
        title="Lid cracked",
        description="The lid cracked",
        demand=Demand.REPLACEMENT,
        product=product,
    )
    copies = []
    for weeks_back, count in enumerate(per_week):
        moment = datetime.combine(
            WEEK - timedelta(weeks=weeks_back) + timedelta(days=1), datetime.min.time()
        ).replace(hour=10, tzinfo=SHANGHAI)
        for _ in range(count):
            copies.append(
                Complaint(
                    tracking_number=f"TS-TEST-{product.pk}-{len(copies)}-{model.pk}",
                    title=model.title,
                    description=model.description,
                    demand=model.demand,
                    channel=model.channel,
                    customer=model.customer,
                    product=product,
                    received_at=moment,
                )
            )
    model.delete()
    Complaint.objects.bulk_create(copies)


@pytest.fixture
def products(org):
    rising = ProductFactory(name="Kettle K1", category=org.category)
    steady = ProductFactory(name="Toaster T2", category=org.category_b)
    small = ProductFactory(name="Mug M3", category=org.category)
    # K1: 1,2,1,2… before (mean 1.5, sd 0.5, threshold 3.0 with k=3): 6 this week.
    _complaints(rising, [6, 1, 2, 1, 2, 1, 2, 1, 2])
    # T2: 4,6,4,6… before (mean 5, sd 1, threshold 8): 7 this week is normal.
    _complaints(steady, [7, 4, 6, 4, 6, 4, 6, 4, 6])
    # M3: nothing before, 4 this week: under the minimum count of 5.
    _complaints(small, [4])
    Complaint.objects.update(category=None)  # only the products' own series here
    return rising, steady, small


def test_a_rise_above_the_baseline_fires_and_a_normal_week_does_not(org, products):
    rising, _steady, _small = products
    warnings = trend_warnings_detect(week_start=WEEK + timedelta(days=3))
    assert [(w.kind, w.product_id) for w in warnings] == [("product", rising.pk)]
    warning = warnings[0]
    assert warning.week == WEEK
    assert warning.count == 6
    assert warning.baseline_mean == pytest.approx(1.5)
    assert warning.baseline_std == pytest.approx(0.5)
    assert warning.threshold == pytest.approx(3.0)
    assert warning.team == org.team  # the product's category's default team
    notification = Notification.objects.get(user=org.supervisor)
    assert notification.kind == Notification.Kind.IMPROVEMENT
    assert "Kettle K1" in notification.text
    assert warning.notified_at is not None


def test_detection_is_idempotent(org, products):
    trend_warnings_detect(week_start=WEEK)
    assert trend_warnings_detect(week_start=WEEK) == []
    assert TrendWarning.objects.count() == 1
    assert Notification.objects.filter(user=org.supervisor).count() == 1


def test_a_growing_count_updates_the_warning_without_a_second_notice(org, products):
    rising = products[0]
    trend_warnings_detect(week_start=WEEK)
    _complaints(rising, [2])
    Complaint.objects.update(category=None)
    trend_warnings_detect(week_start=WEEK)
    assert TrendWarning.objects.get().count == 8
    assert Notification.objects.filter(user=org.supervisor).count() == 1


def test_category_series_and_settings(org, products, settings):
    # With the categories back, category "quality" has K1 + M3: 10 this week against
    # 1,2,1,2… before; "billing" (T2) stays normal.
    Complaint.objects.filter(product__category=org.category).update(category=org.category)
    Complaint.objects.filter(product__category=org.category_b).update(category=org.category_b)
    settings.COMPLAINT_TREND_MIN_COUNT = 11
    assert trend_warnings_detect(week_start=WEEK) == []
    settings.COMPLAINT_TREND_MIN_COUNT = 5
    kinds = {
        (w.kind, w.category_id or w.product_id) for w in trend_warnings_detect(week_start=WEEK)
    }
    assert kinds == {("product", products[0].pk), ("category", org.category.pk)}


def test_merged_duplicates_do_not_count(org, products):
    rising = products[0]
    # Two of this week's six were duplicates: 4 is under the minimum.
    week = list(Complaint.objects.filter(product=rising, received_at__date__gte=WEEK))
    for duplicate in week[1:3]:
        transitions.complaint_merge(complaint=duplicate, actor=org.supervisor, target=week[0])
    assert trend_warnings_detect(week_start=WEEK) == []


def test_the_management_command(org, products):
    out = StringIO()
    call_command("trend_warnings", "--week", WEEK.isoformat(), stdout=out)
    assert "Kettle K1: 6" in out.getvalue()
    assert "1 new warning(s) for 2025-03-03" in out.getvalue()


def test_a_supervisor_turns_a_warning_into_an_improvement_action(org, products):
    warning = trend_warnings_detect(week_start=WEEK)[0]
    action = trend_warning_to_improvement(warning_id=warning.pk, actor=org.supervisor)
    assert action.owner_team == org.team
    assert "Kettle K1" in action.title
    assert action.complaints.count() == 6  # that week's complaints about the product
    warning.refresh_from_db()
    assert warning.improvement_action == action
    # A second click gives the same action.
    again = trend_warning_to_improvement(warning_id=warning.pk, actor=org.supervisor)
    assert again == action
    assert ImprovementAction.objects.count() == 1


def test_agents_cannot_act_on_warnings(org, products):
    warning = trend_warnings_detect(week_start=WEEK)[0]
    with pytest.raises(ActionForbidden):
        trend_warning_to_improvement(warning_id=warning.pk, actor=org.agent)
    assert ImprovementAction.objects.count() == 0
