"""Background exports: queued above the direct-download limit, written by the task
(run eagerly here, as Celery does in tests), followed on a progress page, downloaded
by their creator only, purged after some days."""

from __future__ import annotations

import csv
import io
import os
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from complaints import roles
from complaints.models import ExportJob
from complaints.services import exports


@pytest.fixture
def big_queue(settings, org, make_complaint, media):
    """Three complaints, two of them by phone, and a direct-download limit of one."""
    settings.COMPLAINT_EXPORT_MAX_ROWS = 1
    first = make_complaint("new", channel="phone", title="=HYPERLINK(1)")
    second = make_complaint("new", channel="phone")
    make_complaint("new", channel="web")
    return [first, second]


def _export(client, django_capture_on_commit_callbacks, fmt="csv", **query):
    url = reverse("complaints:queue-export", args=["all", fmt])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.get(url, query)
    return response, callbacks


def _read(client, job) -> bytes:
    response = client.get(reverse("complaints:export-job-download", args=[job.pk]))
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def test_a_large_queue_export_runs_in_the_background(
    client, org, big_queue, django_capture_on_commit_callbacks
):
    client.force_login(org.supervisor)
    response, callbacks = _export(client, django_capture_on_commit_callbacks, channel="phone")
    job = ExportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("complaints:export-job", args=[job.pk])
    assert len(callbacks) == 1  # the task is queued after commit
    assert job.created_by == org.supervisor
    assert job.source == "queue:all"
    assert job.params == {"channel": ["phone"]}
    assert job.status == ExportJob.Status.DONE
    assert (job.total_rows, job.processed_rows) == (2, 2)
    assert job.finished_at is not None
    # Stored under a random name, offered under a readable one.
    assert job.file.name.startswith("exports/")
    assert "complaints" not in job.file.name
    download = client.get(reverse("complaints:export-job-download", args=[job.pk]))
    assert download["Content-Disposition"].startswith('attachment; filename="complaints-all-')
    assert download["Cache-Control"] == "private, no-store"
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode("utf-8-sig"))))
    assert rows[0][0] == "Tracking number"
    assert sorted(r[0] for r in rows[1:]) == sorted(c.tracking_number for c in big_queue)
    assert "'=HYPERLINK(1)" in [r[1] for r in rows[1:]]  # still neutralised


def test_a_background_xlsx_export(client, org, big_queue, django_capture_on_commit_callbacks):
    client.force_login(org.supervisor)
    _export(client, django_capture_on_commit_callbacks, fmt="xlsx", channel="phone")
    job = ExportJob.objects.get()
    sheet = load_workbook(io.BytesIO(_read(client, job))).active
    assert sheet.title == "all"
    titles = {sheet.cell(row=r, column=2).value for r in (2, 3)}
    assert "'=HYPERLINK(1)" in titles
    assert sheet.max_row == 3


def test_small_exports_stay_direct(client, org, big_queue, settings):
    settings.COMPLAINT_EXPORT_MAX_ROWS = 5
    client.force_login(org.supervisor)
    response = client.get(reverse("complaints:queue-export", args=["all", "csv"]))
    assert response.status_code == 200
    assert not ExportJob.objects.exists()


def test_a_double_click_queues_one_job(client, org, big_queue, settings):
    client.force_login(org.supervisor)
    url = reverse("complaints:queue-export", args=["all", "csv"])
    # Without capturing on-commit callbacks the task does not run: the job waits.
    first = client.get(url, {"channel": "phone"})
    second = client.get(url, {"channel": "phone"})
    assert first["Location"] == second["Location"]
    assert ExportJob.objects.get().status == ExportJob.Status.QUEUED
    client.get(url)  # another filter is another export
    assert ExportJob.objects.count() == 2


def test_the_progress_page_polls_until_ready(client, org, big_queue):
    client.force_login(org.supervisor)
    client.get(reverse("complaints:queue-export", args=["all", "csv"]))
    job = ExportJob.objects.get()
    url = reverse("complaints:export-job", args=[job.pk])
    html = client.get(url).content.decode()
    assert 'data-status="queued"' in html
    assert 'hx-trigger="every 2s"' in html
    assert "Waiting for a worker" in html
    job.status, job.total_rows, job.processed_rows = ExportJob.Status.RUNNING, 4000, 1000
    job.save()
    fragment = client.get(url, headers={"HX-Request": "true"})
    text = fragment.content.decode()
    assert "<html" not in text  # just the fragment
    assert 'value="25"' in text
    assert "1000 of 4000 rows" in text
    exports.export_job_run(job_id=job.pk)  # a running job is not taken twice
    assert ExportJob.objects.get().status == ExportJob.Status.RUNNING
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.QUEUED)
    exports.export_job_run(job_id=job.pk)
    done = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert 'data-status="done"' in done
    assert "hx-trigger" not in done  # polling stops
    assert reverse("complaints:export-job-download", args=[job.pk]) in done


def test_only_the_creator_sees_or_downloads_an_export(
    client, org, big_queue, django_capture_on_commit_callbacks
):
    client.force_login(org.supervisor)
    _export(client, django_capture_on_commit_callbacks)
    job = ExportJob.objects.get()
    page = reverse("complaints:export-job", args=[job.pk])
    download = reverse("complaints:export-job-download", args=[job.pk])
    for other in (org.admin, org.agent):
        client.force_login(other)
        assert client.get(page).status_code == 404
        assert client.get(download).status_code == 404
    client.logout()
    assert client.get(download).status_code == 302  # to the login page
    missing = reverse("complaints:export-job-download", args=[job.pk + 100])
    client.force_login(org.supervisor)
    assert client.get(missing).status_code == 404


def test_a_download_before_the_file_is_ready_is_404(client, org, big_queue):
    client.force_login(org.supervisor)
    client.get(reverse("complaints:queue-export", args=["all", "csv"]))
    job = ExportJob.objects.get()
    assert client.get(reverse("complaints:export-job-download", args=[job.pk])).status_code == 404


def test_access_is_checked_again_when_the_task_runs(client, org, big_queue):
    client.force_login(org.supervisor)
    client.get(reverse("complaints:queue-export", args=["all", "csv"]))
    job = ExportJob.objects.get()
    # Between the click and the worker, the supervisor became an agent: the "all"
    # queue is no longer theirs.
    org.supervisor.groups.set([Group.objects.get(name=roles.AGENT)])
    exports.export_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ExportJob.Status.FAILED
    assert job.error == "You no longer have access to these complaints."
    assert not job.file


def test_the_task_reads_the_creators_visibility_at_run_time(org, make_complaint, media, settings):
    """An agent's "mine" queue holds what is assigned to them when the task runs."""
    mine = make_complaint("in_progress")  # assigned to org.agent
    job = ExportJob.objects.create(created_by=org.agent, source="queue:mine", format="csv")
    exports.export_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ExportJob.Status.DONE
    body = job.file.open("rb").read().decode("utf-8-sig")
    assert mine.tracking_number in body
    assert job.total_rows == 1


def test_too_many_rows_for_a_background_export(client, org, big_queue, settings):
    settings.COMPLAINT_EXPORT_JOB_MAX_ROWS = 2
    client.force_login(org.supervisor)
    client.get(reverse("complaints:queue-export", args=["all", "csv"]))
    job = ExportJob.objects.get()
    exports.export_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ExportJob.Status.FAILED
    assert job.error == "More than 2 rows: narrow the filter to export them."
    html = client.get(reverse("complaints:export-job", args=[job.pk])).content.decode()
    assert 'id="export-error"' in html


def test_progress_is_stored_while_writing(org, make_complaint, media, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK", 2)
    for _ in range(5):
        make_complaint("new")
    job = ExportJob.objects.create(created_by=org.supervisor, source="queue:all", format="csv")
    seen = []
    real = exports.csv_lines

    def spy(headers, rows):
        for line in real(headers, rows):
            seen.append(ExportJob.objects.get(pk=job.pk).processed_rows)
            yield line

    monkeypatch.setattr(exports, "csv_lines", spy)
    exports.export_job_run(job_id=job.pk)
    assert {2, 4} <= set(seen)  # updated every CHUNK rows while the file was written
    job.refresh_from_db()
    assert (job.status, job.processed_rows, job.total_rows) == ("done", 5, 5)


def test_dashboard_tables_can_be_exported_by_a_job(org, make_complaint, media):
    make_complaint("triaged")
    job = ExportJob.objects.create(
        created_by=org.supervisor,
        source="dashboard:teams",
        params={"period": ["7d"]},
        format="csv",
    )
    exports.export_job_run(job_id=job.pk)
    job.refresh_from_db()
    rows = list(csv.reader(io.StringIO(job.file.open("rb").read().decode("utf-8-sig"))))
    assert rows[0][0] == "Team"
    assert rows[1][:2] == [org.team.name, "1"]
    agent_job = ExportJob.objects.create(
        created_by=org.agent, source="dashboard:teams", format="csv"
    )
    exports.export_job_run(job_id=agent_job.pk)
    agent_job.refresh_from_db()
    assert agent_job.status == ExportJob.Status.FAILED


def test_old_exports_are_purged_with_their_files(
    client, org, big_queue, django_capture_on_commit_callbacks
):
    client.force_login(org.supervisor)
    _export(client, django_capture_on_commit_callbacks)
    old = ExportJob.objects.get()
    path = old.file.path
    ExportJob.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=8))
    recent = ExportJob.objects.create(created_by=org.supervisor, source="queue:all", format="csv")
    assert exports.export_jobs_purge(keep_days=7) == 1
    assert list(ExportJob.objects.all()) == [recent]
    assert not os.path.exists(path)
