"""The dashboard page, its exports and the queue exports: access, content, query
counts, formula neutralisation."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from complaints.analytics.rollup import rollup_rebuild, rollup_refresh
from complaints.models import ExportJob, ImprovementAction, TrendWarning
from complaints.services.exports import neutralise
from tests.analytics.conftest import at, place
from tests.factories import ProductFactory

DASHBOARD = "complaints:dashboard"


def test_anonymous_users_are_sent_to_log_in(client, org):
    response = client.get(reverse(DASHBOARD))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_users_without_a_staff_role_are_refused(client, org):
    client.force_login(org.outsider)
    assert client.get(reverse(DASHBOARD)).status_code == 403


def test_a_supervisor_sees_every_figure_and_the_team_table(client, org, make_complaint):
    make_complaint("resolved")
    make_complaint("new", channel="phone")
    client.force_login(org.supervisor)
    response = client.get(reverse(DASHBOARD), {"period": "7d"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-figure="received"' in html
    assert response.context["figures"]["volume"]["received"] == 2
    assert response.context["filter"].period == "7d"
    assert 'id="team-table"' in html
    assert 'id="own-figures"' not in html
    charts = response.context["charts"]
    assert {d["label"] for d in charts["volume-channel"]["datasets"]} == {"Web form", "Phone"}
    # Every bar links to the "all" queue filtered to what it counts.
    link = charts["volume-channel"]["datasets"][0]["links"][-1]
    assert link.startswith("/queue/all/?channel=")
    assert 'id="dashboard-charts"' in html  # the data for the charts, as JSON
    assert "<script>" not in html  # no inline script (CSP)


def test_an_agent_sees_their_own_figures(client, org, make_complaint):
    make_complaint("in_progress")  # assigned to agent
    make_complaint("new")  # nobody's
    client.force_login(org.agent)
    response = client.get(reverse(DASHBOARD))
    assert response.status_code == 200
    assert response.context["figures"]["volume"]["received"] == 1
    assert 'id="own-figures"' in response.content.decode()
    assert response.context["teams"] == []
    link = response.context["charts"]["volume-channel"]["datasets"][0]["links"][-1]
    assert link.startswith("/queue/mine/")
    client.force_login(org.agent2)
    assert client.get(reverse(DASHBOARD)).context["figures"]["volume"]["received"] == 0


def test_an_invalid_custom_period_says_why(client, org):
    client.force_login(org.supervisor)
    response = client.get(
        reverse(DASHBOARD), {"period": "custom", "start": "2025-03-10", "end": "2025-03-01"}
    )
    assert response.status_code == 200
    assert "The period ends before it starts." in response.content.decode()
    assert response.context["filter"].period == "30d"  # the default stands in


def test_a_custom_period(client, org, make_complaint):
    place(make_complaint("new"), received_at=at(4, 10))
    make_complaint("new")  # today: outside
    client.force_login(org.supervisor)
    response = client.get(
        reverse(DASHBOARD), {"period": "custom", "start": "2025-03-03", "end": "2025-03-09"}
    )
    assert response.context["filter"].start == date(2025, 3, 3)
    assert response.context["figures"]["volume"]["received"] == 1


def _dashboard_queries(client) -> int:
    # Warm the configuration cache first (a new product invalidates it): the count is
    # about the complaints, not about caches.
    client.get(reverse(DASHBOARD))
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse(DASHBOARD)).status_code == 200
    return len(queries)


def test_the_number_of_queries_does_not_grow_with_complaints(
    client, org, make_complaint, rollup_manual
):
    product = ProductFactory(name="Kettle", category=org.category)
    for state in ("new", "resolved", "in_progress"):
        make_complaint(state, product=product)
    rollup_rebuild()
    client.force_login(org.supervisor)
    few = _dashboard_queries(client)
    other = ProductFactory(name="Toaster", category=org.category_b)
    for state in ("new", "resolved", "in_progress", "closed", "reopened", "awaiting_customer"):
        make_complaint(state, product=other, channel="email")
    rollup_refresh()
    client.force_login(org.supervisor)
    assert _dashboard_queries(client) == few
    assert few <= 40


def test_warnings_show_and_become_improvement_actions(client, org):
    product = ProductFactory(name="Kettle K1", category=org.category)
    warning = TrendWarning.objects.create(
        week=date.today(),
        kind="product",
        product=product,
        team=org.team,
        count=9,
        baseline_weeks=8,
        baseline_mean=1.5,
        baseline_std=0.5,
        threshold=3.0,
    )
    client.force_login(org.supervisor)
    html = client.get(reverse(DASHBOARD)).content.decode()
    assert f'data-warning="{warning.pk}"' in html
    url = reverse("complaints:dashboard-warning-improve", args=[warning.pk])
    response = client.post(url)
    action = ImprovementAction.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("complaints:improvement-detail", args=[action.pk])
    client.post(url)  # a double submit
    assert ImprovementAction.objects.count() == 1
    client.force_login(org.agent)
    assert client.post(url).status_code == 403
    assert client.get(url).status_code == 405


@pytest.mark.parametrize(
    ("text", "safe"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Kettle = broken", "Kettle = broken"),
        ("水壶坏了", "水壶坏了"),
    ],
)
def test_formula_neutralisation(text, safe):
    assert neutralise(text) == safe


def test_numbers_stay_numbers():
    assert neutralise(-3) == -3
    assert neutralise(None) == ""


def test_queue_export_csv_neutralises_formulas(client, org, make_complaint):
    evil = make_complaint("new", title="=cmd|' /C calc'!A0")
    make_complaint("new", title="Kettle leaks", channel="phone")
    client.force_login(org.supervisor)
    url = reverse("complaints:queue-export", args=["all", "csv"])
    response = client.get(url, {"channel": "web"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="complaints-all-')
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][0] == "Tracking number"
    assert [r[0] for r in rows[1:]] == [evil.tracking_number]  # the filter applies
    assert rows[1][1] == "'=cmd|' /C calc'!A0"


def test_queue_export_xlsx(client, org, make_complaint):
    make_complaint("new", title="@SUM(1+1)")
    client.force_login(org.supervisor)
    response = client.get(reverse("complaints:queue-export", args=["all", "xlsx"]))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.cell(row=2, column=2).value == "'@SUM(1+1)"
    assert sheet.cell(row=2, column=2).data_type == "s"


def test_queue_export_respects_the_queue_access(client, org, make_complaint):
    client.force_login(org.agent)
    url = reverse("complaints:queue-export", args=["all", "csv"])
    assert client.get(url).status_code == 404  # the "all" queue is supervisors-only
    assert client.get(reverse("complaints:queue-export", args=["mine", "pdf"])).status_code == 404


def test_queue_export_over_the_limit_becomes_a_background_job(
    client, org, make_complaint, settings
):
    settings.COMPLAINT_EXPORT_MAX_ROWS = 1
    make_complaint("new")
    make_complaint("new")
    client.force_login(org.supervisor)
    response = client.get(reverse("complaints:queue-export", args=["all", "csv"]))
    job = ExportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("complaints:export-job", args=[job.pk])


def test_dashboard_table_exports(client, org, make_complaint):
    product = ProductFactory(name="=Kettle", category=org.category)
    make_complaint("triaged", product=product)  # triage routes it to team A
    client.force_login(org.supervisor)
    url = reverse("complaints:dashboard-export", args=["products", "csv"])
    body = b"".join(client.get(url, {"period": "7d"}).streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows == [["Product", "Complaints received"], ["'=Kettle", "1"]]
    xlsx = client.get(reverse("complaints:dashboard-export", args=["teams", "xlsx"]))
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.title == "teams"
    assert sheet.cell(row=2, column=1).value == org.team.name
    assert sheet.cell(row=2, column=2).value == 1
    client.force_login(org.agent)
    assert (
        client.get(reverse("complaints:dashboard-export", args=["teams", "csv"])).status_code == 403
    )
    assert (
        client.get(reverse("complaints:dashboard-export", args=["nope", "csv"])).status_code == 404
    )


def test_every_chart_has_a_table_with_the_same_links(client, org, make_complaint):
    make_complaint("new", channel="phone")
    client.force_login(org.supervisor)
    response = client.get(reverse(DASHBOARD), {"period": "7d"})
    html = response.content.decode()
    for key in response.context["charts"]:
        assert f'id="chart-table-{key}"' in html
    table = response.context["chart_tables"]["volume_channel"]
    assert table["columns"] == ["Phone"]
    link = response.context["charts"]["volume-channel"]["datasets"][0]["links"][-1]
    assert table["rows"][-1]["cells"][0] == {"value": 1, "link": link}
    assert f'<a href="{link.replace("&", "&amp;")}">1</a>' in html
