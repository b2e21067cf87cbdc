"""Medians and percentiles computed by the database, optionally per group.

PostgreSQL: `percentile_cont(p) WITHIN GROUP (ORDER BY x)`, one aggregate query.
Elsewhere (SQLite): one query with window functions numbers each group's values in
order and keeps only the (at most two) rows around each wanted rank; Python then
interpolates between those rows exactly as percentile_cont does. Either way one
query, and what comes back is bounded by the number of groups, not of rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from django.db import connection
from django.db.models import Aggregate, Count, F, FloatField, Q, QuerySet, Sum, Window
from django.db.models.functions import RowNumber


class PercentileCont(Aggregate):
    """PostgreSQL's ordered-set aggregate percentile_cont (continuous, interpolated)."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        if not 0 <= fraction <= 1:
            raise ValueError("fraction must be between 0 and 1")
        super().__init__(expression, fraction=repr(float(fraction)), **extra)


def _key(fraction: float) -> str:
    return f"p{round(fraction * 1000)}"


def _interpolate(values_at: dict[int, float], n: int, fraction: float) -> float:
    """percentile_cont from the values at ranks (1-based) around (n - 1)·p, in the same
    integer arithmetic as the query that picked the ranks."""
    whole, part = divmod((n - 1) * round(fraction * 1000), 1000)
    a = values_at[whole + 1]
    if not part:
        return a
    return a + (values_at[whole + 2] - a) * part / 1000


def percentiles(
    qs: QuerySet, field: str, fractions: Sequence[float], *, group: str | None = None
) -> dict:
    """{fraction: value} of `field` over `qs` (None when there is no value), or with
    `group` {group value: {fraction: value}} for the groups that have values."""
    qs = qs.filter(**{f"{field}__isnull": False}).order_by()
    if connection.vendor == "postgresql":
        aggregates = {_key(p): PercentileCont(field, p) for p in fractions}
        if group is None:
            row = qs.aggregate(**aggregates)
            return {p: row[_key(p)] for p in fractions}
        rows = qs.values(group).annotate(**aggregates)
        return {row[group]: {p: row[_key(p)] for p in fractions} for row in rows}
    return _percentiles_by_window(qs, field, fractions, group)


def _percentiles_by_window(qs, field, fractions, group) -> dict:
    partition = [F(group)] if group else []
    numbered = qs.annotate(
        _value=F(field),
        _rank=Window(RowNumber(), partition_by=partition, order_by=[F(field).asc(), F("pk")]),
        _n=Window(Count("pk"), partition_by=partition),
    )
    # The ranks percentile_cont reads: floor and ceil of 1 + (n - 1)·p. SQLite's
    # integer division floors for the non-negative numbers here; the ceiling is the
    # floor plus one unless the product is whole.
    wanted = Q()
    for p in fractions:
        # p as a fraction k/1000, so the rank arithmetic stays in integers.
        k = round(p * 1000)
        floor = (F("_n") - 1) * k / 1000 + 1
        wanted |= Q(_rank=floor) | Q(_rank=floor + 1)
    rows = numbered.filter(wanted).values(*([group] if group else []), "_value", "_rank", "_n")
    found: dict = defaultdict(dict)
    sizes: dict = {}
    for row in rows:
        key = row[group] if group else None
        found[key][row["_rank"]] = float(row["_value"])
        sizes[key] = row["_n"]
    result = {}
    for key, values_at in found.items():
        result[key] = {p: _interpolate(values_at, sizes[key], p) for p in fractions}
    if group is None:
        return result.get(None, dict.fromkeys(fractions))
    return result


def bucket_percentiles(
    qs: QuerySet, fractions: Sequence[float], *, group: str | None = None
) -> dict:
    """Like `percentiles`, from histogram rows (DailyDurationBuckets: `minutes`,
    `count`): one query returning one row per group and step, whatever the number of
    complaints counted; the ranks are then found in the cumulative counts."""
    fields = [group] if group else []
    rows = qs.values(*fields, "minutes").annotate(n=Sum("count")).order_by(*fields, "minutes")
    steps: dict = defaultdict(list)
    for row in rows:
        steps[row[group] if group else None].append((row["minutes"], row["n"]))
    result = {}
    for key, histogram in steps.items():
        n = sum(count for _value, count in histogram)
        if not n:
            continue

        def at(rank: int, histogram=histogram) -> float:
            seen = 0
            for value, count in histogram:
                seen += count
                if seen >= rank:
                    return float(value)
            return float(histogram[-1][0])

        values = {}
        for p in fractions:
            whole, part = divmod((n - 1) * round(p * 1000), 1000)
            a = at(whole + 1)
            values[p] = a if not part else a + (at(whole + 2) - a) * part / 1000
        result[key] = values
    if group is None:
        return result.get(None, dict.fromkeys(fractions))
    return result
