"""The monthly team report: known answers on a hand-built month, and who may read it."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from complaints import roles
from complaints.analytics.report import monthly_report
from complaints.analytics.rollup import rollup_rebuild
from complaints.models import Complaint, ImprovementAction
from tests.analytics.conftest import at, place
from tests.factories import MembershipFactory, ProductFactory, UserFactory


def _url(team_code: str, month: str) -> str:
    return reverse("complaints:dashboard-report", args=[team_code, month])


@pytest.fixture
def march(org, make_complaint):
    """Team A in March 2025 (plus noise that must not count):

    | | received | resolved | root cause | product | resolved by the deadline |
    | a | 3 Mar | 4 Mar | product defect | Kettle | yes |
    | b | 10 Mar | 11 Mar | product defect | Kettle | yes |
    | c | 12 Mar | 14 Mar | logistics | Toaster | no |
    | d | 20 Feb | 21 Feb | billing | Kettle | (February: not counted) |
    | e | team B, 5 Mar, resolved 6 Mar, other cause (another team: not counted) |
    Improvement actions of team A: one opened 2 Mar and done 20 Mar, one opened in
    February and still open; team B: one opened in March.
    """
    kettle = ProductFactory(name="Kettle", category=org.category)
    toaster = ProductFactory(name="Toaster", category=org.category)
    rows = [
        ("a", at(3, 10), at(4, 10), "product_defect", kettle, at(5, 18)),
        ("b", at(10, 10), at(11, 10), "product_defect", kettle, at(12, 18)),
        ("c", at(12, 10), at(14, 10), "logistics", toaster, at(13, 18)),
        ("d", at(20, 10, month=2), at(21, 10, month=2), "billing", kettle, at(22, 18, month=2)),
    ]
    made = {}
    for name, received, resolved, cause, product, due in rows:
        complaint = make_complaint("resolved", product=product)
        made[name] = place(
            complaint,
            received_at=received,
            first_response_at=received,
            resolved_at=resolved,
            root_cause=cause,
            resolution_due_at=due,
        )
    e = make_complaint("new")
    Complaint.objects.filter(pk=e.pk).update(team=org.team_b)
    made["e"] = place(e, received_at=at(5, 10), resolved_at=at(6, 10), root_cause="other")

    def action(team, created, done=None):
        item = ImprovementAction.objects.create(
            title="Fix",
            problem="Lids crack",
            owner_team=team,
            due_date=date(2025, 4, 30),
            status="done" if done else "open",
            done_at=done,
            created_by=org.supervisor,
        )
        ImprovementAction.objects.filter(pk=item.pk).update(created_at=created)

    action(org.team, at(2, 10), done=at(20, 10))
    action(org.team, at(10, 10, month=2))
    action(org.team_b, at(3, 10))
    return made


def test_the_report_figures_have_known_answers(org, march):
    report = monthly_report(team=org.team, year=2025, month=3, user=org.supervisor)
    assert (report["filter"].start, report["filter"].end) == (date(2025, 3, 1), date(2025, 3, 31))
    volume = report["figures"]["volume"]
    assert (volume["received"], volume["resolved"]) == (3, 3)
    assert (volume["resolution_met"], volume["resolution_total"]) == (2, 3)
    assert volume["resolution_compliance"] == 66.7
    causes = [(r["code"], r["count"], r["share"]) for r in report["root_causes"]]
    assert causes == [("product_defect", 2, 66.7), ("logistics", 1, 33.3)]
    assert report["root_causes"][0]["label"] == "Product defect"
    products = [(r["name"], r["count"], r["share"]) for r in report["top_products"]]
    assert products == [("Kettle", 2, 66.7), ("Toaster", 1, 33.3)]
    categories = [(r["name"], r["count"], r["share"]) for r in report["top_categories"]]
    assert categories == [(org.category.name, 3, 100.0)]
    assert report["improvements"] == {"opened": 1, "done": 1}


def test_february_is_another_month(org, march):
    report = monthly_report(team=org.team, year=2025, month=2, user=org.supervisor)
    assert report["figures"]["volume"]["received"] == 1
    assert [(r["code"], r["share"]) for r in report["root_causes"]] == [("billing", 100.0)]
    assert report["improvements"] == {"opened": 1, "done": 0}


def test_the_page_shows_the_report_and_is_printable(
    client, org, march, django_assert_max_num_queries, rollup_manual
):
    rollup_rebuild()
    client.force_login(org.supervisor)
    with django_assert_max_num_queries(30):
        response = client.get(_url(org.team.code, "2025-03"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-root-cause="product_defect"' in html
    assert "66.7 %" in html
    assert 'href="/static/complaints/css/report-print.css" media="print"' in html
    assert "style=" not in html.split('id="monthly-report"')[1]  # no inline styles (CSP)
    assert "<script>" not in html
    assert _url(org.team.code, "2025-02") in html  # previous month
    assert _url(org.team.code, "2025-04") in html  # next month (in the past)


@pytest.mark.parametrize("who", ["supervisor", "admin"])
def test_the_teams_supervisor_and_admins_read_it(client, org, who):
    client.force_login(getattr(org, who))
    assert client.get(_url(org.team.code, "2025-03")).status_code == 200


def test_others_get_404(client, org):
    other = UserFactory(username="sup-b", role=roles.SUPERVISOR)
    MembershipFactory(team=org.team_b, user=other)
    client.force_login(other)
    assert client.get(_url(org.team.code, "2025-03")).status_code == 404
    assert client.get(_url(org.team_b.code, "2025-03")).status_code == 200
    client.force_login(org.agent)
    assert client.get(_url(org.team.code, "2025-03")).status_code == 404
    client.logout()
    assert client.get(_url(org.team.code, "2025-03")).status_code == 302


@pytest.mark.parametrize("month", ["2025-13", "2025-3", "2025-00", "march", "0000-01"])
def test_bad_months_are_404(client, org, month):
    client.force_login(org.admin)
    assert client.get(_url(org.team.code, month)).status_code == 404


def test_unknown_team_is_404(client, org):
    client.force_login(org.admin)
    assert client.get(_url("no-such-team", "2025-03")).status_code == 404


def test_the_dashboard_links_to_the_team_reports(client, org, make_complaint):
    make_complaint("triaged")
    client.force_login(org.supervisor)
    html = client.get(reverse("complaints:dashboard")).content.decode()
    assert "data-report-link" in html
