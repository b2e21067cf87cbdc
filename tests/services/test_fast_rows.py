"""insert_rows: what bulk_create would store, the keys back, conflicts skipped."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from complaints.models import ComplaintEvent, Notification, SlaCrossing
from complaints.services.fast_rows import insert_rows

pytestmark = pytest.mark.django_db


def test_rows_are_stored_as_given_and_the_rest_defaulted(make_complaint, org):
    complaint = make_complaint("in_progress")
    at = timezone.now() - timedelta(days=3)
    data = {"sla": "x", "nested": {"n": 1, "text": "中文 'quoted' \\ back"}, "list": [1, None]}
    keys = insert_rows(
        ComplaintEvent,
        ["complaint", "kind", "body", "data", "created_at"],
        [(complaint.pk, ComplaintEvent.Kind.NOTE_ADDED, "正文 <b>", data, at)],
    )
    (pk,) = keys[0]
    event = ComplaintEvent.objects.get(pk=pk)
    assert event.complaint_id == complaint.pk
    assert event.kind == "note_added"
    assert event.body == "正文 <b>"
    assert event.data == data
    assert event.created_at == at
    assert event.actor_id is None
    assert event.is_internal is True  # the field's default


def test_auto_now_add_is_filled_and_keys_come_back_for_every_row(make_complaint, org):
    complaint = make_complaint("in_progress")
    before = timezone.now()
    rows = [(org.agent.pk, "escalated", complaint.pk, f"text {i}") for i in range(2500)]
    keys = insert_rows(
        Notification, ["user", "kind", "complaint", "text"], rows, returning=["pk", "text"]
    )
    assert len(keys) == 2500
    assert {text for _pk, text in keys} == {f"text {i}" for i in range(2500)}
    stored = Notification.objects.filter(pk__in=[pk for pk, _t in keys])
    assert stored.count() == 2500
    assert all(n.created_at >= before and n.read_at is None for n in stored)


def test_conflicting_rows_are_skipped_and_left_out(make_complaint, org):
    first, second = make_complaint("in_progress"), make_complaint("in_progress")
    due = timezone.now()
    fields = ["complaint", "kind", "cycle", "due_at", "sweep_id"]
    kind = SlaCrossing.Kind.RESPONSE_BREACH
    one = insert_rows(SlaCrossing, fields, [(first.pk, kind, 0, due, uuid.uuid4())],
                      returning=["complaint"], ignore_conflicts=True)  # fmt: skip
    assert one == [(first.pk,)]
    sweep = uuid.uuid4()
    both = insert_rows(
        SlaCrossing,
        fields,
        [(first.pk, kind, 0, due, sweep), (second.pk, kind, 0, due, sweep)],
        returning=["complaint"],
        ignore_conflicts=True,
    )
    assert both == [(second.pk,)]
    assert SlaCrossing.objects.filter(sweep_id=sweep).get().complaint_id == second.pk
    assert SlaCrossing.objects.count() == 2


def test_nothing_to_insert_is_no_statement(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert insert_rows(Notification, ["user", "kind", "text"], []) == []
