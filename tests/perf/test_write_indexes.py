"""The write path's indexes (migration 0026): covered single-column indexes are gone,
the composite ones that cover them are there and used, and on PostgreSQL complaint
pages keep room for updates that stay on their page."""

import pytest
from django.db import connection

from complaints.models import ComplaintEvent, Notification, SlaCrossing

pytestmark = pytest.mark.django_db


def _indexes(table: str) -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    # Indexes, unique constraints and the primary key: each is an index to update.
    return {
        name: c["columns"]
        for name, c in constraints.items()
        if c["index"] or c["unique"] or c["primary_key"]
    }


@pytest.mark.parametrize(
    ("model", "column", "covering"),
    [
        (ComplaintEvent, "complaint_id", ["complaint_id", "created_at"]),
        (SlaCrossing, "complaint_id", ["complaint_id", "kind", "cycle"]),
        (Notification, "user_id", ["user_id", "read_at"]),
    ],
)
def test_a_covered_foreign_key_has_only_its_covering_index(model, column, covering):
    indexes = _indexes(model._meta.db_table)
    assert [column] not in indexes.values()
    assert covering in indexes.values()


def test_escalation_history_keeps_only_its_own_indexes():
    from complaints.models import Escalation

    table = Escalation.history.model._meta.db_table
    indexed = {tuple(columns) for columns in _indexes(table).values()}
    assert ("complaint_id",) not in indexed
    assert ("opened_at",) not in indexed
    assert {("history_id",), ("id",), ("history_date",)} <= indexed


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL storage")
def test_complaint_pages_keep_room_and_no_pattern_indexes():
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'complaints_complaint'")
        assert "fillfactor=90" in cursor.fetchone()[0]
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'complaints_complaint' "
            "AND indexdef LIKE '%%varchar_pattern_ops%%'"
        )
        assert cursor.fetchall() == []
