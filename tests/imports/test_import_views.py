"""The import screens: who may use them, upload → mapping → dry run → start →
progress (tasks run inline in tests), and the /metrics endpoint."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from complaints.models import Complaint, ImportJob
from tests.imports import sheets

pytestmark = pytest.mark.django_db

HEAD = ["标题", "内容", "电话", "日期", "状态", "分类"]
ROWS = [
    ["屏幕碎了", "收到就碎", "13800138000", "2024-03-05", "新建", "quality"],
    ["没货", "x", "", "2024-03-05", "新建", "quality"],
]


def _upload(client, data=None, name="投诉.csv"):
    data = data or sheets.csv_bytes(HEAD, ROWS, "gb18030")
    return client.post(reverse("complaints:import-list"), {"file": SimpleUploadedFile(name, data)})


@pytest.mark.parametrize("who", ["agent", "responder"])
def test_agents_and_responders_may_not_import(client, org, who):
    client.force_login(getattr(org, who))
    assert client.get(reverse("complaints:import-list")).status_code == 403


def test_anonymous_goes_to_login(client, org):
    response = client.get(reverse("complaints:import-list"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_whole_flow_on_the_screens(
    client, org, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(org.supervisor)
    response = _upload(client)
    job = ImportJob.objects.get()
    assert response["Location"] == reverse("complaints:import-mapping", args=[job.pk])
    page = client.get(response["Location"]).content.decode()
    assert '<option value="phone" selected>' in page  # guessed from 电话

    form = {"col_0": "title", "col_1": "description", "col_2": "phone", "col_3": "received_at", "col_4": "status", "col_5": "category"}  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("complaints:import-mapping", args=[job.pk]), form)
    assert response.status_code == 302
    job.refresh_from_db()
    assert (job.status, job.created_count, job.error_count) == ("checked", 1, 1)
    page = client.get(reverse("complaints:import-detail", args=[job.pk])).content.decode()
    assert "No contact: give a phone number or an email address." in page
    assert 'id="import-start"' in page

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("complaints:import-start", args=[job.pk]))
    job.refresh_from_db()
    assert (job.status, job.created_count) == ("done", 1)
    assert Complaint.objects.get().title == "屏幕碎了"
    # A second click changes nothing and says why.
    response = client.post(reverse("complaints:import-start", args=[job.pk]), follow=True)
    assert Complaint.objects.count() == 1
    assert "already started" in response.content.decode()


def test_the_progress_part_polls_while_the_import_runs(client, org, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(org.admin)
    _upload(client)
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.RUNNING, total_rows=10, processed_rows=5
    )
    part = client.get(reverse("complaints:import-detail", args=[job.pk]), HTTP_HX_REQUEST="true")
    html = part.content.decode()
    assert 'hx-trigger="every 2s"' in html and 'value="50"' in html
    assert "<html" not in html


def test_a_supervisor_does_not_see_anothers_import(client, org, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(org.admin)
    _upload(client)
    job = ImportJob.objects.get()
    client.force_login(org.supervisor)
    assert client.get(reverse("complaints:import-detail", args=[job.pk])).status_code == 404


def test_an_unreadable_upload_gets_a_clear_message(client, org, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(org.admin)
    response = _upload(client, b"PK\x03\x04broken", "x.xlsx")
    assert "could not be read as an Excel workbook" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_metrics_need_the_token(client, org, settings, make_complaint):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    settings.METRICS_TOKEN = "s3cret"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    make_complaint("new")
    make_complaint("in_progress")
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret")
    text = response.content.decode()
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    assert 'complaints_open{status="new"} 1' in text
    assert 'complaints_open{status="in_progress"} 1' in text
    assert 'complaints_outbox_messages{state="pending"}' in text
    assert 'complaints_jobs_running{kind="import"} 0' in text


def test_metrics_take_a_fixed_number_of_queries(
    client, org, settings, make_complaint, django_assert_max_num_queries
):
    settings.METRICS_TOKEN = "s3cret"
    for _ in range(3):
        make_complaint("triaged")
    with django_assert_max_num_queries(8):
        client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret")
