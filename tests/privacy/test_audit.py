"""The tamper-evident chain of status changes and `audit_verify`."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from complaints.models import StatusChange
from complaints.services import audit


def _verify() -> tuple[int, str, str]:
    import io

    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("audit_verify", stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


def _sealed_complaint(make_complaint, state="in_progress"):
    complaint = make_complaint(state)
    # Intake's first row is sealed by the lead's one-line change in intake.py; the
    # first transition seals it otherwise. Either way the chain is complete here.
    audit.chains_backfill()
    return complaint


def test_every_transition_writes_a_hash_chained_to_the_previous_row(org, make_complaint):
    complaint = make_complaint("in_progress")
    rows = list(StatusChange.objects.filter(complaint=complaint).order_by("pk"))
    assert [r.transition for r in rows] == ["receive", "triage", "assign", "start"]
    previous = ""
    for row in rows:
        assert row.chain_hash == audit.chain_hash_for(row, previous)
        previous = row.chain_hash
    assert audit.chain_verify(complaint).ok


def test_the_hash_covers_each_field_and_the_previous_hash(org, make_complaint):
    row = make_complaint("triaged").status_changes.order_by("pk").last()
    base = audit.chain_hash_for(row, "abc")
    assert len(base) == 64
    assert audit.chain_hash_for(row, "abd") != base
    for name, value in (("reason", "x"), ("to_status", "closed"), ("actor_id", None)):
        original = getattr(row, name)
        setattr(row, name, value)
        assert audit.chain_hash_for(row, "abc") != base, name
        setattr(row, name, original)
    assert audit.chain_hash_for(row, "abc") == base


def test_a_clean_database_verifies(org, make_complaint):
    _sealed_complaint(make_complaint, "closed")
    _sealed_complaint(make_complaint, "rejected")
    code, out, err = _verify()
    assert code == 0, err
    assert "2 complaint(s) checked, 0 broken" in out


def test_a_tampered_reason_is_detected(org, make_complaint):
    complaint = _sealed_complaint(make_complaint, "rejected")
    row = complaint.status_changes.get(transition="reject")
    StatusChange.objects.filter(pk=row.pk).update(reason="Nothing to see")
    code, out, err = _verify()
    assert code == 1
    assert f"complaint {complaint.pk}: status change {row.pk}: hash does not match" in err
    assert "1 broken" in out


def test_a_deleted_row_in_the_middle_is_detected(org, make_complaint):
    complaint = _sealed_complaint(make_complaint, "in_progress")
    assign = complaint.status_changes.get(transition="assign")
    start = complaint.status_changes.get(transition="start")
    assign.delete()
    code, _out, err = _verify()
    assert code == 1
    assert f"status change {start.pk}: hash does not match" in err


def test_deleting_the_newest_rows_is_detected(org, make_complaint):
    complaint = _sealed_complaint(make_complaint, "in_progress")
    complaint.status_changes.get(transition="start").delete()
    report = audit.chain_verify(complaint)
    assert not report.ok
    assert "newer rows were deleted" in report.problems[0]


def test_rows_without_a_hash_are_reported_then_backfilled(org, make_complaint):
    complaint = make_complaint("in_progress")
    StatusChange.objects.update(chain_hash="")
    code, _out, err = _verify()
    assert code == 1 and "no hash (run --backfill)" in err
    import io

    out = io.StringIO()
    call_command("audit_verify", "--backfill", stdout=out)
    assert "sealed 4 status change(s)" in out.getvalue()
    assert audit.chain_verify(complaint).ok


def test_backfill_never_rehashes_a_sealed_row(org, make_complaint):
    complaint = _sealed_complaint(make_complaint, "in_progress")
    row = complaint.status_changes.get(transition="assign")
    StatusChange.objects.filter(pk=row.pk).update(reason="rewritten")
    assert audit.chains_backfill() == 0
    assert not audit.chain_verify(complaint).ok


def test_a_transition_after_unsealed_rows_seals_them_first(org, make_complaint):
    from complaints.services import transitions as t

    complaint = make_complaint("assigned")
    StatusChange.objects.update(chain_hash="")
    t.complaint_start(complaint=complaint, actor=org.agent)
    assert not StatusChange.objects.filter(chain_hash="").exists()
    assert audit.chain_verify(complaint).ok


def test_heads_are_printed(org, make_complaint):
    import io

    complaint = _sealed_complaint(make_complaint, "triaged")
    out = io.StringIO()
    call_command("audit_verify", "--heads", stdout=out)
    head = complaint.status_changes.order_by("pk").last().chain_hash
    assert f"{complaint.pk} {head}" in out.getvalue()


@pytest.mark.parametrize("moment", ["2026-03-01T08:00:00+08:00", "2026-03-01T00:00:00+00:00"])
def test_the_hash_survives_a_database_round_trip_in_any_time_zone(org, make_complaint, moment):
    from datetime import datetime

    complaint = make_complaint("new")
    row = complaint.status_changes.get()
    row.created_at = datetime.fromisoformat(moment)
    expected = audit.chain_hash_for(row, "")
    StatusChange.objects.filter(pk=row.pk).update(created_at=row.created_at, chain_hash=expected)
    assert audit.chain_verify(complaint).ok
