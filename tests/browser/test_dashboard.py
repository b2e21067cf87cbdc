"""The dashboard in a browser: a supervisor changes the period, clicks a chart bar and
lands on the queue filtered to what the bar counts."""

import re
from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone
from playwright.sync_api import expect

from complaints.analytics.durations import durations_refresh_all
from complaints.analytics.rollup import rollup_rebuild
from complaints.models import Complaint, TrendWarning
from tests.analytics.conftest import place
from tests.browsing import screenshot, sign_in
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db(transaction=True)

# (days ago, channel, product index, state)
DATA = [
    (0, "phone", 0, "in_progress"),
    (0, "web", 1, "new"),
    (1, "email", 0, "resolved"),
    (1, "web", 2, "closed"),
    (2, "phone", 0, "resolved"),
    (3, "web", 1, "awaiting_customer"),
    (4, "social", 0, "closed"),
    (5, "web", 2, "resolved"),
    (6, "phone", 1, "triaged"),
    (12, "web", 0, "closed"),
    (18, "email", 1, "resolved"),
    (25, "web", 2, "reopened"),
]


MOMENTS = (
    "received_at",
    "first_response_at",
    "response_due_at",
    "resolved_at",
    "resolution_due_at",
    "closed_at",
)


def _bar_position(page, chart: str, dataset: int, index: int) -> dict:
    """The page coordinates of a bar's middle (Chart.js knows where it drew it)."""
    page.locator(f"#chart-{chart}").scroll_into_view_if_needed()
    return page.evaluate(
        """([key, dataset, index]) => {
            const chart = window.dashboardCharts[key];
            const bar = chart.getDatasetMeta(dataset).data[index];
            const box = chart.canvas.getBoundingClientRect();
            return {x: box.left + bar.x, y: box.top + (bar.y + bar.base) / 2};
        }""",
        [chart, dataset, index],
    )


def test_supervisor_changes_the_period_and_follows_a_bar(page, org, make_complaint):
    products = [
        ProductFactory(name=name, category=org.category)
        for name in ("Kettle K1", "Toaster T2", "Mug M3")
    ]
    now = timezone.now()
    made = []
    for i, (days_ago, channel, product, state) in enumerate(DATA):
        complaint = make_complaint(state, channel=channel, product=products[product])
        back = timedelta(days=days_ago)
        moments = {name: F(name) - back for name in MOMENTS}
        # Received a few hours before it was handled, so the times are not all zero
        # (not today's: an hour back could be yesterday just after midnight).
        earlier = timedelta(hours=1 + i % 5) if days_ago else timedelta(0)
        moments["received_at"] = F("received_at") - back - earlier
        made.append(place(complaint, **moments))
    durations_refresh_all()
    # What the periodic task does in production: the dashboard reads the daily rollup.
    rollup_rebuild()
    TrendWarning.objects.create(
        week=timezone.localdate(now) - timedelta(days=timezone.localdate(now).weekday()),
        kind="product",
        product=products[0],
        team=org.team,
        count=6,
        baseline_weeks=8,
        baseline_mean=1.5,
        baseline_std=0.5,
        threshold=3.0,
    )

    sign_in(page, "supervisor")
    page.goto(page.base_url + "/dashboard/")
    expect(page.locator("h1")).to_have_text("Dashboard")
    expect(page.locator("[data-figure=received] .value")).to_have_text(str(len(DATA)))
    expect(page.locator("#trend-warnings")).to_contain_text("Kettle K1")
    # The custom dates show only for a custom period.
    expect(page.locator("#id_start")).to_be_hidden()

    page.select_option("#id_period", "7d")
    page.click("#dashboard-apply")
    expect(page).to_have_url(re.compile(r"/dashboard/\?.*period=7d"))
    # Counted by the local day each was received: a few hours back from a day six days
    # ago is seven days ago shortly after midnight.
    first_day = timezone.localdate(now) - timedelta(days=6)
    received = Complaint.objects.filter(pk__in=[c.pk for c in made]).values_list(
        "received_at", flat=True
    )
    recent = sum(1 for at in received if timezone.localdate(at) >= first_day)
    expect(page.locator("[data-figure=received] .value")).to_have_text(str(recent))
    page.wait_for_function(
        "() => window.dashboardCharts && window.dashboardCharts['volume-channel']"
    )
    screenshot(page, "dashboard")

    # The "Phone" bar of today: the queue of all complaints, phone, received today.
    datasets = page.evaluate(
        "() => window.dashboardCharts['volume-channel'].data.datasets.map(d => d.label)"
    )
    phone = datasets.index("Phone")
    today = timezone.localdate(now)
    point = _bar_position(page, "volume-channel", phone, 6)
    page.mouse.click(point["x"], point["y"])
    expect(page).to_have_url(re.compile(r"/queue/all/\?"))
    assert "channel=phone" in page.url
    assert f"received_after={today.isoformat()}" in page.url
    assert f"received_before={today.isoformat()}" in page.url
    rows = page.locator("tr[data-tracking]")
    expect(rows).to_have_count(1)
    expect(page.locator(f"tr[data-tracking='{made[0].tracking_number}']")).to_be_visible()
    assert page.js_errors == []
