"""The sweep's candidate queries are served by their partial indexes (migration 0027):
on PostgreSQL an index-only scan of the complaints whose clock runs, not a visit to
every open complaint."""

import pytest
from django.db import connection
from django.utils import timezone

from complaints.services import sweep

pytestmark = pytest.mark.django_db

INDEX_OF = {
    "response_warning": "complaint_sla_response_warn",
    "response_breach": "complaint_sla_response_due",
    "resolution_warning": "complaint_sla_resolution_warn",
    "resolution_breach": "complaint_sla_resolution_due",
}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL plans")
@pytest.mark.parametrize("rule", sweep.RULES, ids=lambda r: r.kind)
def test_each_rule_reads_its_partial_index_only(rule):
    qs = sweep.crossing_candidates(rule, timezone.now()).values_list(
        "pk", rule.deadline, "reopen_count"
    )
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        # On a nearly empty table every plan costs about the same: the planner gets no
        # sequential or bitmap scans, and the other rules' indexes are dropped (in the
        # test's transaction), so the plan shows whether this rule's index matches
        # the query (its predicate implied, the columns read all in it).
        for kind in ("seqscan", "bitmapscan"):
            cursor.execute(f"SET LOCAL enable_{kind} = off")
        for other in set(INDEX_OF.values()) - {INDEX_OF[rule.kind]}:
            cursor.execute(f'DROP INDEX "{other}"')
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert f"Index Only Scan using {INDEX_OF[rule.kind]} on complaints_complaint" in plan, plan


def test_the_warning_moments_are_indexed_only_where_the_clock_runs():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "complaints_complaint")
    # Indexes led by a warning moment: only the sweep's partial ones (no index over
    # every complaint: nothing else reads these columns).
    for column in ("response_warn_at", "resolution_warn_at"):
        leading = {
            name for name, c in constraints.items() if c["index"] and c["columns"][0] == column
        }
        assert leading == {INDEX_OF[column.replace("_warn_at", "_warning")]}
    assert set(INDEX_OF.values()) <= set(constraints)
