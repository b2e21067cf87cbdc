"""The dashboard's charts and tables, each element with a link to the staff queue
filtered to the complaints it counts.

A chart is a plain dict for Chart.js (passed to the page with json_script):
{"labels": [...], "datasets": [{"label", "data", "links"}], "stacked": bool}.
Trends are by the day complaints were *received* (cohorts), so a point's link —
the queue filtered to that day's received complaints — lists exactly what it counts.

Supervisors' links open the "all" queue; other users' the "mine" queue (which lists
only their open complaints: closed ones are not in any agent queue).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from django.db.models import Q, Sum
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints.analytics.figures import duration_percentiles, share, stats
from complaints.analytics.filters import DashboardFilter, sees_everything
from complaints.models import Category, Channel, DailyDurationBuckets, Team, User
from complaints.workflow import OPEN_STATES

TOP = 10
# Categories beyond this many get one "other" series in the stacked chart.
STACKED_CATEGORIES = 8


@lru_cache(maxsize=16)
def _queue_path(slug: str, prefix: str, urlconf: Any) -> str:
    return reverse("complaints:staff-queue", args=[slug], urlconf=urlconf)


class QueueLinks:
    """Links to the staff queue with a filter's dimensions, for one user: the path
    and the filter's parameters are worked out once (a dashboard makes hundreds of
    links, one per point), each link then encodes its own `params` (lists repeat)."""

    def __init__(self, user: Any, f: DashboardFilter):
        slug = "all" if sees_everything(user) else "mine"
        self.path = _queue_path(slug, get_script_prefix(), get_urlconf())
        self.base = f.query_params()

    def __call__(self, **params: Any) -> str:
        query = {**self.base, **{k: v for k, v in params.items() if v is not None}}
        pairs = []
        for key, value in query.items():
            for item in value if isinstance(value, list | tuple) else [value]:
                pairs.append((key, str(item)))
        return f"{self.path}?{urlencode(pairs)}" if pairs else self.path


def queue_url(user: Any, f: DashboardFilter, **params: Any) -> str:
    """The staff queue with the filter's dimensions and `params` (lists repeat)."""
    return QueueLinks(user, f)(**params)


def _day_range(f: DashboardFilter, day) -> dict[str, str]:
    return {"received_after": day.isoformat(), "received_before": day.isoformat()}


def _period(f: DashboardFilter) -> dict[str, str]:
    return {"received_after": f.start.isoformat(), "received_before": f.end.isoformat()}


def _received_by_day(f: DashboardFilter, user: Any, *fields: str) -> dict[tuple, int]:
    """{(day, *fields): complaints received} from the rollup (one query)."""
    rows = (
        stats(f, user, by=fields)
        .filter(received__gt=0)
        .values("day", *fields)
        .annotate(n=Sum("received"))
        .order_by()
    )
    return {(row["day"], *(row[x] for x in fields)): row["n"] for row in rows}


def volume_by_channel(f: DashboardFilter, user: Any) -> dict[str, Any]:
    """Complaints received per day, stacked by channel (one query)."""
    days, link = f.days, QueueLinks(user, f)
    counts = _received_by_day(f, user, "channel")
    datasets = []
    for channel in Channel:
        if f.channel and channel != f.channel:
            continue
        data = [counts.get((day, channel.value), 0) for day in days]
        if not any(data):
            continue
        links = [link(channel=channel.value, **_day_range(f, d)) for d in days]
        datasets.append({"label": str(channel.label), "data": data, "links": links})
    return {"labels": [d.isoformat() for d in days], "datasets": datasets, "stacked": True}


def volume_by_category(f: DashboardFilter, user: Any) -> dict[str, Any]:
    """Complaints received per day, stacked by category (the biggest ones; two
    queries)."""
    days, link = f.days, QueueLinks(user, f)
    counts: dict[tuple, int] = {}
    totals: dict[int | None, int] = {}
    for (day, pk), n in _received_by_day(f, user, "category_id").items():
        counts[(day, pk)] = n
        totals[pk] = totals.get(pk, 0) + n
    ranked = sorted(totals, key=lambda pk: (-totals[pk], pk is None, pk or 0))
    shown = [pk for pk in ranked if pk is not None][:STACKED_CATEGORIES]
    names = dict(Category.objects.filter(pk__in=shown).values_list("pk", "name"))
    datasets = []
    for pk in shown:
        datasets.append(
            {
                "label": names.get(pk, "?"),
                "data": [counts.get((d, pk), 0) for d in days],
                "links": [link(category=pk, **_day_range(f, d)) for d in days],
            }
        )
    rest = [pk for pk in ranked if pk not in shown]
    if rest:
        datasets.append(
            {
                "label": _("Other or none"),
                "data": [sum(counts.get((d, pk), 0) for pk in rest) for d in days],
                "links": [link(**_day_range(f, d)) for d in days],
            }
        )
    return {"labels": [d.isoformat() for d in days], "datasets": datasets, "stacked": True}


def backlog_ageing(f: DashboardFilter, user: Any, backlog: dict, now: datetime) -> dict:
    """The backlog by age (from the figures: no query)."""
    today = timezone.localdate(now)
    link = QueueLinks(user, f)
    labels, data, links = [], [], []
    for _key, label, low, high, count in backlog["by_age"]:
        labels.append(str(label))
        data.append(count)
        # Whole days in the queue's date filter: the bucket's received dates.
        params: dict[str, Any] = {"status": sorted(OPEN_STATES)}
        params["received_before"] = (today - timedelta(days=low)).isoformat()
        if high is not None:
            params["received_after"] = (today - timedelta(days=high - 1)).isoformat()
        links.append(link(**params))
    dataset = {"label": _("Open complaints"), "data": data, "links": links}
    return {"labels": labels, "datasets": [dataset], "stacked": False}


def sla_trend(f: DashboardFilter, user: Any, now: datetime) -> dict[str, Any]:
    """Per day received: the share of response and resolution clocks met among those
    decided (stopped, or past their deadline) — one query."""
    rows = {
        row["day"]: row
        for row in stats(f, user)
        .values("day")
        .annotate(
            r_met=Sum("trend_response_met"),
            r_total=Sum("trend_response_total"),
            s_met=Sum("trend_resolution_met"),
            s_total=Sum("trend_resolution_total"),
        )
        .order_by()
    }
    days, link = f.days, QueueLinks(user, f)
    links = [link(**_day_range(f, d)) for d in days]

    def series(met: str, total: str) -> list:
        return [share(rows[d][met], rows[d][total]) if d in rows else None for d in days]

    return {
        "labels": [d.isoformat() for d in days],
        "datasets": [
            {
                "label": _("First response on time %"),
                "data": series("r_met", "r_total"),
                "links": links,
            },
            {
                "label": _("Resolution on time %"),
                "data": series("s_met", "s_total"),
                "links": links,
            },
        ],
        "stacked": False,
        "percent": True,
    }


def csat_trend(f: DashboardFilter, user: Any) -> dict[str, Any]:
    """Per day received: the average rating of the survey answers (one query)."""
    rows = {
        row["day"]: row
        for row in stats(f, user)
        .filter(csat_cohort_answers__gt=0)
        .values("day")
        .annotate(total=Sum("csat_cohort_rating_sum"), n=Sum("csat_cohort_answers"))
        .order_by()
    }
    days, link = f.days, QueueLinks(user, f)
    data = [round(rows[d]["total"] / rows[d]["n"], 2) if d in rows else None for d in days]
    links = [link(**_day_range(f, d)) for d in days]
    dataset = {"label": _("Average rating (1–5)"), "data": data, "links": links}
    return {"labels": [d.isoformat() for d in days], "datasets": [dataset], "stacked": False}


def _top(f: DashboardFilter, user: Any, field: str) -> list[dict[str, Any]]:
    link = QueueLinks(user, f)
    rows = (
        stats(f, user, by=(f"{field}_id",))
        .filter(received__gt=0, **{f"{field}__isnull": False})
        .values(f"{field}_id", f"{field}__name")
        .annotate(n=Sum("received"))
        .order_by("-n", f"{field}__name")[:TOP]
    )
    return [
        {
            "pk": row[f"{field}_id"],
            "name": row[f"{field}__name"],
            "count": row["n"],
            "link": link(**{field: row[f"{field}_id"]}, **_period(f)),
        }
        for row in rows
    ]


def top_items(f: DashboardFilter, user: Any) -> dict[str, Any]:
    """The ten products and the ten categories with the most complaints received in
    the period (two queries), as tables and bar charts."""
    result = {}
    for field in ("product", "category"):
        rows = _top(f, user, field)
        chart = {
            "labels": [r["name"] for r in rows],
            "datasets": [
                {
                    "label": _("Complaints received"),
                    "data": [r["count"] for r in rows],
                    "links": [r["link"] for r in rows],
                }
            ],
            "stacked": False,
            "horizontal": True,
        }
        result[field] = {"rows": rows, "chart": chart}
    return result


def _group_table(
    f: DashboardFilter, user: Any, now: datetime, key: str, model, name_fields: tuple[str, ...]
) -> list[dict[str, Any]]:
    """Per `key` (team_id, assignee_id): received, resolved and backlog, resolution
    compliance, average rating and median resolution time (two queries on the
    rollup, the backlog as of its last run; one for the names of `model`). The sums
    are grouped by the key alone and named afterwards: joined to the names, the
    planner may walk the rows once per name."""
    period = Q(day__gte=f.start, day__lte=f.end)
    rows = list(
        stats(f, user, period=False, by=(key,))
        .filter(**{f"{key}__isnull": False})
        .filter(period | Q(open_total__gt=0))
        .values(key)
        .annotate(
            received=Sum("received", filter=period),
            resolved=Sum("resolved", filter=period),
            backlog=Sum("open_total"),
            met=Sum("resolution_met", filter=period),
            decided=Sum("resolution_stopped", filter=period),
            answers=Sum("answers", filter=period),
            rating_sum=Sum("rating_sum", filter=period),
        )
        .filter(Q(received__gt=0) | Q(resolved__gt=0) | Q(backlog__gt=0))
        .order_by()
    )
    if not rows:
        return []
    names = {
        pk: next((name for name in found if name), str(pk))
        for pk, *found in model.objects.filter(pk__in=[row[key] for row in rows]).values_list(
            "pk", *name_fields
        )
    }
    medians = duration_percentiles(f, user, DailyDurationBuckets.Kind.RESOLUTION, (0.5,), group=key)
    link = QueueLinks(user, f)
    table = []
    for row in rows:
        pk = row[key]
        answers = row["answers"] or 0
        table.append(
            {
                "pk": pk,
                "name": names.get(pk, str(pk)),
                "received": row["received"] or 0,
                "resolved": row["resolved"] or 0,
                "backlog": row["backlog"] or 0,
                "resolution_compliance": share(row["met"], row["decided"]),
                "csat": round(row["rating_sum"] / answers, 2) if answers else None,
                "answers": answers,
                "resolution_median": medians.get(pk, {}).get(0.5),
                "link": link(**{key.removesuffix("_id"): pk}, **_period(f)),
            }
        )
    return sorted(table, key=lambda row: (row["name"], row["pk"]))


def team_table(f: DashboardFilter, user: Any, now: datetime) -> list[dict[str, Any]]:
    return _group_table(f, user, now, "team_id", Team, ("name",))


def agent_table(f: DashboardFilter, user: Any, now: datetime) -> list[dict[str, Any]]:
    return _group_table(f, user, now, "assignee_id", User, ("display_name", "username"))


def as_table(chart: dict[str, Any]) -> dict[str, Any]:
    """A chart's data as a table (one row per label, one column per series), each
    cell with the same queue link as its bar or point: for keyboard and
    screen-reader users, and anyone who prefers numbers (no query)."""
    datasets = chart["datasets"]
    rows = []
    for i, label in enumerate(chart["labels"]):
        cells = []
        for ds in datasets:
            links = ds.get("links") or []
            cells.append({"value": ds["data"][i], "link": links[i] if i < len(links) else None})
        rows.append({"label": label, "cells": cells})
    return {
        "columns": [ds["label"] for ds in datasets],
        "rows": rows,
        "percent": bool(chart.get("percent")),
    }
