"""Multi-row INSERTs for the batch writers (the SLA sweep, breach escalations) that
write thousands of rows at once: the values go through each field's own
`get_db_prep_save`, as `bulk_create` would store them, but without building a model
instance per row, and the new primary keys come back in the same statement.

Only for plain rows: no `save()`, no signals, no history. Columns left out get their
field's default (`auto_now`/`auto_now_add`: the time of the call). Works on
PostgreSQL and SQLite (≥ 3.35 for RETURNING).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import batched
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model
from django.utils import timezone

# Field types whose prepared value is the value itself when it is exactly of these
# Python types (their get_prep_value converts to int, str or bool, nothing more).
_PLAIN_TYPES: dict[str, tuple[type, ...]] = {
    **dict.fromkeys(
        [
            "AutoField",
            "BigAutoField",
            "SmallAutoField",
            "IntegerField",
            "BigIntegerField",
            "SmallIntegerField",
            "PositiveIntegerField",
            "PositiveBigIntegerField",
            "PositiveSmallIntegerField",
        ],
        (int,),
    ),
    "CharField": (str,),
    "TextField": (str,),
    "BooleanField": (bool,),
}


def _preparer(field: Field, conn: BaseDatabaseWrapper) -> Callable[[Any], Any]:
    """`field.get_db_prep_save` bound to `conn`, skipped for the plain values it
    would return unchanged (a foreign key's value is its target field's)."""
    slow = field.get_db_prep_save
    target = field.target_field if field.is_relation else field
    plain = _PLAIN_TYPES.get(target.get_internal_type())
    if plain is None:
        return lambda value: slow(value, conn)
    return lambda value: value if value is None or type(value) in plain else slow(value, conn)


def insert_rows(
    model: type[Model],
    fields: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    returning: Sequence[str] = ("pk",),
    ignore_conflicts: bool = False,
) -> list[tuple]:
    """Insert `rows` (values in the order of `fields`) into `model`'s table and return
    the `returning` columns of each row inserted, as the database gives them (ask for
    keys and integers: no `from_db_value` conversion is applied).

    With `ignore_conflicts` a row that conflicts with a unique constraint is skipped
    and left out of the result: the result is what this call inserted, not what was
    already there, so return a column that tells which row it was.
    """
    opts = model._meta
    given = [opts.get_field(name) for name in fields]
    back = [opts.pk if name == "pk" else opts.get_field(name) for name in returning]
    # Every other column gets what a new instance would hold: its default, or now for
    # `auto_now(_add)` (as bulk_create stores them), so a field added later is filled.
    now = timezone.now()
    rest = [f for f in opts.concrete_fields if f not in given and f is not opts.pk]
    filler = tuple(
        now
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        else f.get_default()
        for f in rest
    )
    concrete = [*given, *rest]
    rows = [(*row, *filler) for row in rows]
    if not rows:
        return []
    qn = connection.ops.quote_name
    columns = ", ".join(qn(f.column) for f in concrete)
    conflict = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    returned = ", ".join(qn(f.column) for f in back)
    # The connection itself, not the thread-local proxy: prepared values are asked
    # for hundreds of thousands of times.
    conn = connections[DEFAULT_DB_ALIAS]
    prep = [_preparer(f, conn) for f in concrete]
    unnest = connection.vendor == "postgresql"
    if unnest:
        # One array per column, as Django's own bulk insert does on PostgreSQL: a
        # thousand-row VALUES list took two to three times as long to parse and plan.
        # The types lose their parameters (varchar, not varchar(30)): no truncation.
        arrays = ", ".join(f"%s::{f.db_type(connection).split('(')[0]}[]" for f in concrete)
        size = 1000
    else:
        placeholders = "(" + ", ".join(["%s"] * len(concrete)) + ")"
        # Parameters per statement well under SQLite's limit (32766).
        size = max(1, min(1000, 20000 // len(concrete)))
    inserted: list[tuple] = []
    with connection.cursor() as cursor:
        for chunk in batched(rows, size):
            prepared = [[p(v) for p, v in zip(prep, row, strict=True)] for row in chunk]
            # Table, column and type names come from the model's meta; values are
            # parameters.
            if unnest:
                source = "SELECT * FROM UNNEST(" + arrays + ")"  # noqa: S608
                params = [list(column) for column in zip(*prepared, strict=True)]
            else:
                source = "VALUES " + ", ".join([placeholders] * len(chunk))
                params = [v for row in prepared for v in row]
            head = f"INSERT INTO {qn(opts.db_table)} ({columns}) "
            cursor.execute(f"{head}{source}{conflict} RETURNING {returned}", params)
            inserted.extend(tuple(row) for row in cursor.fetchall())
    return inserted
