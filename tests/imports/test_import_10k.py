"""Done means: a realistic 10,000-row spreadsheet (mixed Chinese/English, some bad
rows) imports its good rows exactly once and reports the bad ones."""

import time

import pytest
from django.core.management import call_command

from complaints.models import Complaint, ImportJob, StatusChange
from complaints.services import imports
from tests.imports import sheets

pytestmark = pytest.mark.django_db

N = 10_000


def test_ten_thousand_rows_import_once_and_bad_rows_are_reported(org, zh_category, upload):
    data, bad = sheets.rows(N)
    job = upload(sheets.xlsx_bytes(sheets.HEADERS_ZH, data), "历史投诉.xlsx", org.admin)
    job = imports.import_mapping_set(job=job, mapping=job.mapping, actor=org.admin)
    started = time.monotonic()
    job = imports.import_check(job=job)
    checked = time.monotonic()
    expected_bad = sum(bad.values())
    assert (job.total_rows, job.error_count) == (N, expected_bad)
    assert job.created_count == N - expected_bad
    assert Complaint.objects.count() == 0

    job = imports.import_run(job=imports.import_start(job=job, actor=org.admin), actor=org.admin)
    done = time.monotonic()
    print(f"\n10,000 rows: check {checked - started:.1f}s, import {done - checked:.1f}s")
    assert job.status == ImportJob.Status.DONE
    assert (job.processed_rows, job.created_count, job.error_count) == (
        N,
        N - expected_bad,
        expected_bad,
    )
    assert Complaint.objects.count() == N - expected_bad
    assert StatusChange.objects.filter(transition="import").count() == N - expected_bad
    assert Complaint.history.count() == N - expected_bad
    # Every row's own error, in plain words, with its spreadsheet row number.
    by_row = {e["row"] for e in job.errors}
    first_bad = sheets.BAD_EVERY + 1  # row index BAD_EVERY-1, after the header row
    assert first_bad in by_row
    assert any(e["message"] == "Unknown category “售后玄学”." for e in job.errors)
    assert any(e["message"].startswith("“上周三” is not a date") for e in job.errors)
    # Closed rows got the closed-loop fields the database demands.
    assert Complaint.objects.filter(status="closed", loop_outcome="override").exists()
    assert Complaint.objects.filter(status="in_progress", assignee=org.agent).exists()

    # The same file again, from the command line: nothing new.
    path = job.file.path
    call_command("import_complaints", path, "--user", org.admin.username)
    again = ImportJob.objects.order_by("-pk").first()
    assert again.pk != job.pk
    assert (again.created_count, again.skipped_count) == (0, N - expected_bad)
    assert Complaint.objects.count() == N - expected_bad
