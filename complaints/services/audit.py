"""Tamper evidence for the status log: each StatusChange carries a SHA-256 hash of
its own content chained to the previous row's hash for the same complaint.

Editing a row (a reason rewritten, an actor swapped) or deleting one from the middle
breaks the chain from there on; deleting the newest rows leaves the complaint's
status disagreeing with the last row (`audit_verify` checks both).

Order: a complaint's chain follows insertion order (primary key), not `created_at`:
intake back-dates the first row to the receipt time, and clocks may step back.

What this does not stop: someone with write access to the database and this source
can recompute every hash. Against that, keep the output of `audit_verify --heads`
(one hash per complaint) somewhere they cannot write.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db import transaction

from complaints.models import Complaint, StatusChange

_FIELDS = (
    "pk",
    "complaint_id",
    "transition",
    "from_status",
    "to_status",
    "actor_id",
    "reason",
    "created_at",
    "chain_hash",
)


def _iso(value: datetime) -> str:
    # UTC and microseconds: the same text before and after a database round trip.
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def canonical(change: StatusChange) -> str:
    """The row's content as canonical JSON (sorted keys, no spaces, UTF-8)."""
    return json.dumps(
        {
            "complaint": change.complaint_id,
            "transition": change.transition,
            "from": change.from_status,
            "to": change.to_status,
            "actor": change.actor_id,
            "reason": change.reason,
            "created_at": _iso(change.created_at),
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


def chain_hash_for(change: StatusChange, previous_hash: str) -> str:
    """SHA-256 (hex) of the row's canonical JSON followed by the previous row's hash
    ("" for the first row of a complaint)."""
    digest = hashlib.sha256()
    digest.update(canonical(change).encode())
    digest.update(b"\n")
    digest.update(previous_hash.encode())
    return digest.hexdigest()


def _chain_of(complaint_id: int) -> list[StatusChange]:
    return list(
        StatusChange.objects.filter(complaint_id=complaint_id).order_by("pk").only(*_FIELDS)
    )


def _seal_rows(rows: list[StatusChange], previous_hash: str) -> int:
    """Fill empty hashes in `rows` (in order), chaining from previous_hash."""
    sealed = 0
    for row in rows:
        if not row.chain_hash:
            row.chain_hash = chain_hash_for(row, previous_hash)
            # A plain UPDATE of one column: StatusChange has no history or save() logic.
            StatusChange.objects.filter(pk=row.pk).update(chain_hash=row.chain_hash)
            sealed += 1
        previous_hash = row.chain_hash
    return sealed


def status_change_seal(change: StatusChange) -> None:
    """Set `change.chain_hash` (before it is saved) from the complaint's newest row.

    The caller holds the complaint's row lock (services.base.locked), so no other
    row of this complaint is written between reading the previous hash and saving
    this one. Older rows still without a hash (written before the chain existed)
    are sealed first, so a sealed row never follows an unsealed one.
    """
    assert transaction.get_connection().in_atomic_block, "seal under the complaint's lock"
    previous = (
        StatusChange.objects.filter(complaint_id=change.complaint_id)
        .order_by("-pk")
        .values_list("chain_hash", flat=True)
        .first()
    )
    if previous == "":
        rows = _chain_of(change.complaint_id)
        _seal_rows(rows, "")
        previous = rows[-1].chain_hash
    change.chain_hash = chain_hash_for(change, previous or "")


@dataclass
class ChainReport:
    complaint_id: int
    rows: int = 0
    head: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def chain_verify(complaint: Complaint) -> ChainReport:
    """Recompute the chain of one complaint and say where it breaks."""
    report = ChainReport(complaint_id=complaint.pk)
    rows = _chain_of(complaint.pk)
    report.rows = len(rows)
    previous_hash = ""
    for row in rows:
        if not row.chain_hash:
            report.problems.append(f"status change {row.pk}: no hash (run --backfill)")
        elif row.chain_hash != chain_hash_for(row, previous_hash):
            report.problems.append(
                f"status change {row.pk}: hash does not match "
                "(this row was changed, or the row before it was changed or deleted)"
            )
        previous_hash = row.chain_hash
    report.head = previous_hash
    if not rows:
        report.problems.append("no status change at all (its rows were deleted)")
    elif rows[-1].to_status != complaint.status:
        report.problems.append(
            f"the last status change leads to “{rows[-1].to_status}” but the complaint is "
            f"“{complaint.status}” (newer rows were deleted)"
        )
    return report


def chains_verify() -> list[ChainReport]:
    """Every complaint's chain, in id order."""
    return [
        chain_verify(complaint)
        for complaint in Complaint.objects.order_by("pk").only("pk", "status").iterator()
    ]


def chains_backfill() -> int:
    """Seal rows written before the chain existed (an empty hash). Rows already
    sealed are never rehashed, so a backfill cannot hide an edit of a sealed row.
    Returns the number of rows sealed."""
    sealed = 0
    complaint_ids = (
        StatusChange.objects.filter(chain_hash="")
        .values_list("complaint_id", flat=True)
        .distinct()
        .order_by("complaint_id")
    )
    for complaint_id in list(complaint_ids):
        with transaction.atomic():
            # The same lock transitions take: no new row appears while we seal.
            Complaint.objects.select_for_update().filter(pk=complaint_id).exists()
            sealed += _seal_rows(_chain_of(complaint_id), "")
    return sealed


def chain_reseal_from(*, complaint_id: int, first_pk: int) -> None:
    """Recompute the hashes from row `first_pk` on, after a legitimate rewrite of
    those rows (erasure of personal data): called under the complaint's lock, and
    recorded in the access log by the caller."""
    rows = _chain_of(complaint_id)
    previous_hash = ""
    for row in rows:
        if row.pk >= first_pk:
            row.chain_hash = chain_hash_for(row, previous_hash)
            StatusChange.objects.filter(pk=row.pk).update(chain_hash=row.chain_hash)
        previous_hash = row.chain_hash
