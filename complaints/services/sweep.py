"""The SLA sweep: record each complaint that crossed a warning moment or a deadline,
once, put it on the complaint's timeline, and escalate at a breach.

Set-based: one query per kind finds the complaints that crossed and have no crossing
recorded for their current handling cycle (indexes on the four moments keep it
cheap however many complaints are open); only those rows come into Python.

Once, even with two sweeps at once: every sweep tags the SlaCrossing rows it inserts
with its own `sweep_id`, inserts with ON CONFLICT DO NOTHING against the unique
(complaint, kind, cycle), and acts only on the rows that statement returns (the ones
it inserted).
On PostgreSQL a second sweep's conflicting insert waits for the first one's
transaction and then inserts nothing; on SQLite the write lock serialises them.
Candidates are taken in primary-key order, so two sweeps lock rows in one order.

Each batch is one transaction: crossings, timeline events and escalations commit
together or not at all (a failed escalation leaves the crossing unrecorded, and the
next sweep tries again).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from itertools import batched

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

from complaints.models import Complaint, ComplaintEvent, SlaCrossing
from complaints.services.fast_rows import insert_rows
from complaints.workflow import CLOCK_STATES

logger = logging.getLogger(__name__)

CrossingKind = SlaCrossing.Kind
# The clock runs in these states (the partial indexes `complaint_sla_*` hold them).
SWEPT_STATES = sorted(CLOCK_STATES)
BATCH_SIZE = 1000
BREACHES = frozenset({CrossingKind.RESPONSE_BREACH, CrossingKind.RESOLUTION_BREACH})
# The timeline kind of a crossing: its own kind once the timeline model has one,
# an internal note from the system until then.
EVENT_KIND = getattr(ComplaintEvent.Kind, "SLA_CROSSED", ComplaintEvent.Kind.NOTE_ADDED)


@dataclass(frozen=True)
class _Rule:
    kind: str
    moment: str  # the field whose passing is the crossing
    deadline: str  # the deadline the crossing is about (recorded as due_at)
    response: bool  # a first-response clock: stops at the first response


RULES = (  # warnings first: on the timeline a warning comes before its breach
    _Rule(CrossingKind.RESPONSE_WARNING.value, "response_warn_at", "response_due_at", True),
    _Rule(CrossingKind.RESPONSE_BREACH.value, "response_due_at", "response_due_at", True),
    _Rule(CrossingKind.RESOLUTION_WARNING.value, "resolution_warn_at", "resolution_due_at", False),
    _Rule(CrossingKind.RESOLUTION_BREACH.value, "resolution_due_at", "resolution_due_at", False),
)


@dataclass
class SweepResult:
    sweep_id: uuid.UUID
    now: datetime
    # kind -> crossings recorded by this sweep
    counts: dict[str, int] = field(default_factory=lambda: {r.kind: 0 for r in RULES})
    # escalations opened for this sweep's breaches
    escalated: int = 0

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def summary(self) -> str:
        parts = [f"{kind}={n}" for kind, n in self.counts.items()]
        return " ".join([*parts, f"escalated={self.escalated}"])


def crossing_candidates(rule: _Rule, now: datetime):
    """Complaints whose clock of `rule` runs, whose moment passed, and that have no
    crossing of this kind recorded for their current cycle."""
    recorded = SlaCrossing.objects.filter(
        complaint_id=OuterRef("pk"), kind=rule.kind, cycle=OuterRef("reopen_count")
    )
    qs = Complaint.objects.filter(
        status__in=SWEPT_STATES,
        **{f"{rule.moment}__lte": now, f"{rule.deadline}__isnull": False},
    )
    if rule.response:
        qs = qs.filter(first_response_at__isnull=True)
    return qs.filter(~Exists(recorded)).order_by("pk")


# Translated when used, in the language active then (the sweep's default language).
_EVENT_TEXTS = {
    CrossingKind.RESPONSE_WARNING: gettext_lazy("SLA: first response due soon (due %(due)s)."),
    CrossingKind.RESPONSE_BREACH: gettext_lazy("SLA: first response overdue (was due %(due)s)."),
    CrossingKind.RESOLUTION_WARNING: gettext_lazy("SLA: resolution due soon (due %(due)s)."),
    CrossingKind.RESOLUTION_BREACH: gettext_lazy("SLA: resolution overdue (was due %(due)s)."),
}


def _event_text(kind: str, due_at: datetime) -> str:
    # Only the one text a row needs: twenty thousand crossings are twenty thousand calls.
    due = timezone.localtime(due_at).strftime("%Y-%m-%d %H:%M")
    return str(_EVENT_TEXTS[kind]) % {"due": due}


def _escalate(complaint_ids: list[int], now: datetime) -> int:
    # Imported here: the escalation service imports much of the app, and the sweep
    # must stay importable on its own (commands, tasks, the benchmark).
    from complaints.services.escalation import escalation_open_for_sla_breach

    return escalation_open_for_sla_breach(complaint_ids=complaint_ids, now=now)


def _record_batch(
    rule: _Rule, rows: tuple[tuple[int, datetime, int], ...], *, sweep_id, now
) -> tuple[int, int]:
    """Record one batch of crossings of one kind; act on the ones this sweep inserted.
    Returns (recorded, escalated)."""
    with transaction.atomic():
        _relax_commit()
        # ON CONFLICT DO NOTHING … RETURNING answers with the rows this statement
        # inserted: another sweep's rows (inserted first) are not ours to act on.
        mine = insert_rows(
            SlaCrossing,
            # created_at (auto_now_add) is the moment of recording, as before, even
            # for a sweep run "as of" another time.
            ["complaint", "kind", "cycle", "due_at", "sweep_id"],
            [(pk, rule.kind, cycle, due, sweep_id) for pk, due, cycle in rows],
            returning=["pk", "complaint"],
            ignore_conflicts=True,
        )
        if not mine:
            return 0, 0
        crossing_of = {complaint_id: pk for pk, complaint_id in mine}
        with translation.override(settings.LANGUAGE_CODE):
            events = [
                (
                    complaint_id,
                    EVENT_KIND,
                    True,
                    _event_text(rule.kind, due_at),
                    {
                        "sla": rule.kind,
                        "due_at": due_at.isoformat(),
                        "cycle": cycle,
                        "crossing": crossing_of[complaint_id],
                    },
                    now,
                )
                for complaint_id, due_at, cycle in rows
                if complaint_id in crossing_of
            ]
        insert_rows(
            ComplaintEvent,
            ["complaint", "kind", "is_internal", "body", "data", "created_at"],
            events,
        )
        escalated = 0
        if rule.kind in BREACHES:
            escalated = _escalate(sorted(crossing_of), now)
    return len(mine), escalated


def _relax_commit() -> None:
    """On PostgreSQL, let this transaction's commit return before its WAL is flushed
    to disk (a few hundred milliseconds later). A batch's commit was a tenth of the
    pass at 10,000 breaches. Safe here because the batch is idempotent: if the server
    crashes in that window the crossings vanish with their events and escalations,
    and the next sweep records them again; a webhook task queued for a delivery that
    vanished finds nothing to send."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def sla_sweep(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> SweepResult:
    """One pass of the SLA sweep (every minute from Celery beat; `manage.py sla_sweep`
    runs one by hand). Safe to run twice, or twice at once."""
    result = SweepResult(sweep_id=uuid.uuid4(), now=now or timezone.now())
    for rule in RULES:
        candidates = list(
            crossing_candidates(rule, result.now).values_list("pk", rule.deadline, "reopen_count")
        )
        for rows in batched(candidates, batch_size):
            recorded, escalated = _record_batch(
                rule, rows, sweep_id=result.sweep_id, now=result.now
            )
            result.counts[rule.kind] += recorded
            result.escalated += escalated
    if result.total:
        logger.info("SLA sweep %s: %s", result.sweep_id, result.summary())
    return result
