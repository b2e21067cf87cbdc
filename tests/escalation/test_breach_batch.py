"""The SLA sweep's escalations, set-based: the same rows as opening one escalation at a
time through `escalation_open_or_existing`, in a number of queries that does not
grow with the batch, and never twice for one complaint."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from complaints import roles, tasks_webhooks
from complaints.models import (
    Complaint,
    ComplaintEvent,
    Escalation,
    Notification,
    Webhook,
    WebhookDelivery,
)
from complaints.services import escalation as svc
from complaints.services import escalation_batch
from complaints.services import transitions as t
from complaints.workflow import OPEN_STATES

pytestmark = pytest.mark.django_db

Reason = Escalation.Reason
HistoricalComplaint = Complaint.history.model
HistoricalEscalation = Escalation.history.model


def _one_by_one(*, complaint_ids, now) -> int:
    """What escalation_open_for_sla_breach did before it was set-based: the reference."""
    opened = 0
    for pk in dict.fromkeys(complaint_ids):
        with transaction.atomic():
            complaint = Complaint.objects.select_for_update().filter(pk=pk).first()
            if complaint is None or complaint.status not in OPEN_STATES:
                continue
            _escalation, created = svc.escalation_open_or_existing(
                complaint=complaint,
                actor=roles.SYSTEM,
                reason=Reason.SLA_BREACH,
                note="The SLA deadline passed.",
                level=Escalation.Level.SUPERVISOR,
                at=now,
            )
            opened += int(created)
    return opened


def _scenario(org, make_complaint) -> list[Complaint]:
    """One complaint of each case the ladder and the level rules tell apart."""
    on_team_b = make_complaint("new")
    # Team B has no supervisor and no head (management hears of it); P1 has no step.
    t.complaint_triage(
        complaint=on_team_b, actor=org.supervisor, category=org.category_b, priority=org.p1
    )
    vip = make_complaint("in_progress")
    svc.escalation_open(complaint=vip, actor=roles.SYSTEM, reason=Reason.VIP)  # level 1 already
    breached_before = make_complaint("in_progress")
    earlier = svc.escalation_open(
        complaint=breached_before, actor=roles.SYSTEM, reason=Reason.SLA_BREACH
    )
    svc.escalation_settle(escalation=earlier, actor=org.supervisor, settlement="Called back")
    still_open = make_complaint("assigned")
    svc.escalation_open(complaint=still_open, actor=roles.SYSTEM, reason=Reason.SLA_BREACH)
    handed_over = make_complaint("in_progress")
    t.complaint_reassign(
        complaint=handed_over, actor=org.supervisor, assignee=org.agent2, reason="Holiday"
    )
    return [
        make_complaint("in_progress"),  # the team's supervisor and the assignee; climbs at 30 min
        make_complaint("triaged"),  # nobody assigned yet
        make_complaint("awaiting_customer"),  # paused, yet open: escalated like the rest
        make_complaint("new"),  # no team, no priority: management, no climb
        on_team_b,
        vip,
        breached_before,  # its earlier breach escalation was settled: a new one opens
        still_open,  # already escalated for a breach: left alone
        handed_over,  # its assignee has left (inactive): not notified
        make_complaint("resolved"),  # finished: not escalated
    ]


def _marks() -> dict:
    return {
        model: model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        for model in (
            Escalation,
            HistoricalEscalation,
            HistoricalComplaint,
            ComplaintEvent,
            Notification,
            WebhookDelivery,
        )
    }


def _fields(row, *, drop=()) -> dict:
    return {
        f.attname: getattr(row, f.attname)
        for f in row._meta.concrete_fields
        if f.attname not in drop and f.name not in drop
    }


def _written(complaint: Complaint, marks: dict) -> dict:
    """Every row the call wrote about `complaint`, without what differs between two
    equal complaints (ids, tracking numbers) and the clock of the history rows; each
    of those is checked against the complaint or the escalation instead."""
    complaint.refresh_from_db()
    new = {m: m.objects.filter(pk__gt=pk) for m, pk in marks.items()}
    escalations = list(new[Escalation].filter(complaint=complaint).order_by("pk"))
    escalation_ids = {e.pk for e in escalations}

    escalation_history = []
    for row in new[HistoricalEscalation].filter(complaint_id=complaint.pk).order_by("pk"):
        assert row.id in escalation_ids
        assert row.history_date is not None
        escalation_history.append(
            _fields(row, drop={"history_id", "id", "history_date", "complaint"})
        )

    tracked = [f.attname for f in HistoricalComplaint.tracked_fields]
    complaint_history = []
    for row in new[HistoricalComplaint].filter(id=complaint.pk).order_by("pk"):
        # The history row is the complaint as saved, field by field.
        assert {n: getattr(row, n) for n in tracked} == {n: getattr(complaint, n) for n in tracked}
        complaint_history.append((row.history_type, row.history_change_reason, row.history_user_id))

    events = []
    for event in new[ComplaintEvent].filter(complaint=complaint).order_by("pk"):
        data = {**event.data, "escalation": dict(event.data["escalation"])}
        assert data["escalation"].pop("id") in escalation_ids
        events.append({**_fields(event, drop={"id", "complaint"}), "data": data})

    notifications = [
        (n.user_id, n.kind, n.text.replace(complaint.tracking_number, "<T>"), n.read_at)
        for n in new[Notification].filter(complaint=complaint).order_by("pk")
    ]

    deliveries = []
    for delivery in new[WebhookDelivery].filter(payload__data__complaint__id=complaint.pk):
        payload = delivery.payload
        assert payload["id"] == str(delivery.delivery_id)
        created = parse_datetime(payload.pop("created_at"))
        assert abs(created - delivery.next_attempt_at) < timedelta(milliseconds=1)
        data = payload.pop("data")
        about = data["complaint"]
        assert (about.pop("id"), about.pop("tracking_number")) == (
            complaint.pk,
            complaint.tracking_number,
        )
        # The payload tells the complaint as it is after the escalation.
        assert (about["escalation_level"], about["version"]) == (
            complaint.escalation_level,
            complaint.version,
        )
        assert data["escalation"].pop("id") in escalation_ids
        payload.pop("id")
        deliveries.append(
            (delivery.webhook_id, delivery.event, delivery.state, delivery.attempts, payload, data)
        )

    return {
        "escalations": [_fields(e, drop={"id", "complaint"}) for e in escalations],
        "escalation_history": escalation_history,
        "complaint": (complaint.escalation_level, complaint.version),
        "complaint_history": complaint_history,
        "events": events,
        "notifications": notifications,
        "deliveries": deliveries,
    }


def _queued(monkeypatch, callbacks) -> list[int]:
    """The delivery ids the after-commit callbacks hand to the webhook task."""
    sent: list[int] = []
    monkeypatch.setattr(tasks_webhooks.webhook_deliver, "delay", sent.append)
    for callback in callbacks:
        callback()
    return sent


@pytest.fixture
def webhooks(db):
    subscribed = Webhook.objects.create(
        name="BI", url="https://bi.example/hook", events=["complaint.escalated"], secret="s1"
    )
    Webhook.objects.create(
        name="CRM", url="https://crm.example/hook", events=["complaint.created"], secret="s2"
    )
    Webhook.objects.create(
        name="Old",
        url="https://old.example/hook",
        events=["complaint.escalated"],
        secret="s3",
        is_active=False,
    )
    return subscribed


def test_the_batch_writes_what_one_at_a_time_writes(
    ladder, make_complaint, webhooks, monkeypatch, django_capture_on_commit_callbacks
):
    reference = _scenario(ladder, make_complaint)
    batch = _scenario(ladder, make_complaint)
    ladder.agent2.is_active = False
    ladder.agent2.save()
    now = timezone.now()

    marks = _marks()
    with django_capture_on_commit_callbacks() as reference_callbacks:
        opened_one_by_one = _one_by_one(
            complaint_ids=[c.pk for c in reference] + [999_999], now=now
        )
    reference_rows = [_written(c, marks) for c in reference]
    reference_deliveries = set(
        WebhookDelivery.objects.filter(pk__gt=marks[WebhookDelivery]).values_list("pk", flat=True)
    )

    marks = _marks()
    with django_capture_on_commit_callbacks() as batch_callbacks:
        opened = svc.escalation_open_for_sla_breach(
            complaint_ids=[c.pk for c in batch] + [batch[0].pk, 999_999], now=now
        )
    batch_rows = [_written(c, marks) for c in batch]
    batch_deliveries = set(
        WebhookDelivery.objects.filter(pk__gt=marks[WebhookDelivery]).values_list("pk", flat=True)
    )

    assert opened == opened_one_by_one == 8
    for position, (expected, got) in enumerate(zip(reference_rows, batch_rows, strict=True)):
        assert got == expected, f"complaint #{position}"
    # Every row kind was exercised (so the comparison above compared something).
    for kind in ("escalations", "escalation_history", "events", "deliveries"):
        assert sum(len(rows[kind]) for rows in batch_rows) == 8, kind
    assert sum(len(rows["complaint_history"]) for rows in batch_rows) == 7
    assert sum(len(rows["notifications"]) for rows in batch_rows) == 12
    # The level and its history row change only where the level rises (not the VIP one).
    assert batch_rows[5]["complaint_history"] == []
    assert batch_rows[0]["complaint_history"] == [("~", "Escalated: SLA breached", None)]
    # Every delivery is handed to the webhook task after commit, once.
    assert sorted(_queued(monkeypatch, reference_callbacks)) == sorted(reference_deliveries)
    assert sorted(_queued(monkeypatch, batch_callbacks)) == sorted(batch_deliveries)
    assert len(batch_deliveries) == 8


def test_the_rows_of_the_usual_case(ladder, make_complaint):
    complaint = make_complaint("in_progress")
    now = timezone.now()

    assert svc.escalation_open_for_sla_breach(complaint_ids=[complaint.pk], now=now) == 1

    escalation = Escalation.objects.get(complaint=complaint, reason=Reason.SLA_BREACH)
    assert (escalation.level, escalation.opened_by, escalation.opened_at) == (1, None, now)
    assert escalation.climb_at == now + timedelta(minutes=30)
    assert escalation.note == "The SLA deadline passed."
    [history] = escalation.history.all()
    assert (history.history_type, history.history_change_reason, history.history_user) == (
        "+",
        "Opened",
        None,
    )
    assert abs(history.history_date - timezone.now()) < timedelta(minutes=1)
    assert (history.opened_at, history.climb_at) == (now, escalation.climb_at)
    version = complaint.version
    complaint.refresh_from_db()
    assert (complaint.escalation_level, complaint.version) == (1, version + 1)
    latest = complaint.history.first()
    assert (latest.history_type, latest.history_change_reason, latest.escalation_level) == (
        "~",
        "Escalated: SLA breached",
        1,
    )
    assert latest.history_date == history.history_date
    assert (latest.tracking_number, latest.status) == (complaint.tracking_number, "in_progress")
    [event] = complaint.events.filter(kind=ComplaintEvent.Kind.ESCALATED)
    assert (event.actor, event.body, event.created_at) == (None, "The SLA deadline passed.", now)
    assert event.data["escalation"] == {
        "id": escalation.pk,
        "reason": "sla_breach",
        "reason_label": "SLA breached",
        "level": 1,
        "action": "opened",
    }
    texts = dict(
        Notification.objects.filter(complaint=complaint, kind="escalated").values_list(
            "user__username", "text"
        )
    )
    expected = f"{complaint.tracking_number} escalated to level 1 (SLA breached): {complaint.title}"
    assert texts == {"supervisor": expected, "agent": expected}


def test_queries_do_not_grow_with_the_batch(ladder, make_complaint, webhooks):
    def backlog(n):
        # One without a team (management's query), the rest alternately queued and taken.
        return [make_complaint("new")] + [
            make_complaint("triaged" if i % 2 else "in_progress") for i in range(n - 1)
        ]

    few, many = backlog(5), backlog(50)
    now = timezone.now()

    with CaptureQueriesContext(connection) as few_queries:
        assert svc.escalation_open_for_sla_breach(complaint_ids=[c.pk for c in few], now=now) == 5
    with CaptureQueriesContext(connection) as many_queries:
        assert svc.escalation_open_for_sla_breach(complaint_ids=[c.pk for c in many], now=now) == 50

    assert len(many_queries) == len(few_queries) <= 16
    assert Escalation.objects.filter(reason=Reason.SLA_BREACH).count() == 55
    assert WebhookDelivery.objects.filter(event="complaint.escalated").count() == 55
    assert Notification.objects.filter(user=ladder.admin).count() == 2


def test_an_escalated_complaint_is_not_escalated_twice(ladder, make_complaint, webhooks):
    complaints = [make_complaint("in_progress") for _ in range(3)]
    ids = [c.pk for c in complaints]
    now = timezone.now()
    assert svc.escalation_open_for_sla_breach(complaint_ids=ids, now=now) == 3
    marks = _marks()
    versions = dict(Complaint.objects.filter(pk__in=ids).values_list("pk", "version"))

    with CaptureQueriesContext(connection) as queries:
        again = svc.escalation_open_for_sla_breach(complaint_ids=ids, now=now + timedelta(hours=1))

    assert again == 0
    # The lock and the look for open escalations (in a savepoint, as the sweep calls it).
    assert len(queries) <= 4
    assert _marks() == marks  # not one row of any kind written
    assert dict(Complaint.objects.filter(pk__in=ids).values_list("pk", "version")) == versions
    assert Escalation.objects.filter(complaint_id__in=ids).count() == 3


def test_a_breach_escalation_opened_one_at_a_time_is_not_opened_again(ladder, make_complaint):
    opened_before = make_complaint("in_progress")
    fresh = make_complaint("in_progress")
    svc.escalation_open(complaint=opened_before, actor=roles.SYSTEM, reason=Reason.SLA_BREACH)
    events = ComplaintEvent.objects.filter(kind=ComplaintEvent.Kind.ESCALATED).count()

    opened = svc.escalation_open_for_sla_breach(
        complaint_ids=[opened_before.pk, fresh.pk], now=timezone.now()
    )

    assert opened == 1
    assert Escalation.objects.filter(complaint=opened_before).count() == 1
    assert Escalation.objects.filter(complaint=fresh).count() == 1
    assert ComplaintEvent.objects.filter(kind=ComplaintEvent.Kind.ESCALATED).count() == events + 1


def test_a_failure_leaves_nothing_of_the_batch(ladder, make_complaint, monkeypatch):
    complaints = [make_complaint("in_progress") for _ in range(2)]
    marks = _marks()

    def broken(complaints):
        raise RuntimeError("notifications down")

    # The last write of a batch fails: everything before it goes too.
    monkeypatch.setattr(escalation_batch, "_notify", broken)
    with pytest.raises(RuntimeError):
        svc.escalation_open_for_sla_breach(
            complaint_ids=[c.pk for c in complaints], now=timezone.now()
        )

    assert _marks() == marks
    assert set(Complaint.objects.values_list("escalation_level", flat=True)) == {0}
