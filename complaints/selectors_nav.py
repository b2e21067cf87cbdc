"""The navigation's badges: every count a staff page shows in its header, in one
SQL statement.

The queue counts come from one pass over the open complaints the user may see (a
0/1 column per queue, summed); the call-backs due, overdue improvement actions,
unread notifications and remedies awaiting the user's approval are scalar
subqueries of the same statement. Each part is the queryset the matching screen
lists, compiled by Django, so the badges and the screens cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Case, IntegerField, QuerySet, When
from django.utils import timezone

from complaints import config_cache, roles, selectors
from complaints.models import Notification
from complaints.workflow import OPEN_STATES


@dataclass(frozen=True)
class NavBadges:
    queues: dict[str, int | None] = field(default_factory=dict)
    callbacks: int = 0
    improvements: int = 0
    unread: int = 0
    approvals: int = 0


def _scalars(user: Any) -> dict[str, QuerySet]:
    from complaints import selectors_improvements, selectors_remedies
    from complaints.services import callbacks

    now = timezone.now()
    counts: dict[str, QuerySet] = {
        "unread": Notification.objects.filter(user_id=user.pk, read_at__isnull=True)
    }
    if callbacks.can_record_callbacks(user):
        counts["callbacks"] = callbacks.callbacks_visible_to(user).filter(
            status=callbacks.Status.OPEN, next_attempt_at__lte=now
        )
    if roles.is_staff_member(user):
        counts["improvements"] = selectors_improvements.improvements_overdue(user)
    if roles.is_supervisor(user) and user.is_active:
        counts["approvals"] = selectors_remedies.remedies_awaiting_approval(
            user, limits=selectors_remedies.authority_limits_for_display()
        )
    return counts


def _compiled(qs: QuerySet) -> tuple[str, list] | None:
    """The SQL of the queryset's primary keys, or None when it can match nothing."""
    try:
        sql, params = qs.order_by().prefetch_related(None).values("pk").query.sql_with_params()
    except EmptyResultSet:
        return None
    return sql, list(params)


def nav_badges_recent(user: Any) -> NavBadges:
    """nav_badges, kept per user for NAV_BADGES_SECONDS in the shared cache: a page
    reloaded or opened right after another one shows the same badges without asking
    the database again (on a large backlog the queue counts are the costliest query
    of a page). 0 seconds: always fresh."""
    seconds = getattr(settings, "NAV_BADGES_SECONDS", 0)
    if seconds <= 0 or getattr(user, "pk", None) is None:
        return nav_badges(user)
    # The configuration generation is in the key: a changed role or team (which
    # changes what the user may see) is not answered with the old counts.
    key = f"nav-badges:{user.pk}:{config_cache.generation()}"
    badges = cache.get(key)
    if badges is None:
        badges = nav_badges(user)
        cache.set(key, badges, timeout=seconds)
    return badges


def nav_badges(user: Any) -> NavBadges:
    now = timezone.now()
    queues = selectors.queues_for(user)
    counted = [q.slug for q in queues if q.slug not in selectors.UNCOUNTED]
    columns, params = [], []
    scalars = _scalars(user)
    for name, qs in scalars.items():
        compiled = _compiled(qs)
        if compiled is None:
            columns.append("0")
        else:
            # SQL compiled by Django from a queryset: every value is a bound parameter.
            columns.append(f"(SELECT COUNT(*) FROM ({compiled[0]}) {name}_rows)")  # noqa: S608
            params += compiled[1]
    flags = (
        selectors.complaints_visible_to(user)
        .filter(status__in=list(OPEN_STATES))
        .order_by()
        .annotate(
            **{
                f"q_{slug}": Case(
                    When(selectors.queue_condition(slug, user, now), then=1),
                    default=0,
                    output_field=IntegerField(),
                )
                for slug in counted
            }
        )
        .values(*(f"q_{slug}" for slug in counted))
    )
    try:
        flags_sql, flags_params = flags.query.sql_with_params() if counted else ("", ())
    except EmptyResultSet:
        flags_sql, flags_params = "", ()
    if flags_sql:
        columns += [f"COALESCE(SUM(f.q_{slug}), 0)" for slug in counted]
        sql = f"SELECT {', '.join(columns)} FROM ({flags_sql}) f"  # noqa: S608 (as above)
        params += list(flags_params)
    else:
        columns += ["0" for _ in counted]
        sql = f"SELECT {', '.join(columns)}"
    with connections[flags.db].cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    values = dict(zip([*scalars, *(f"q_{s}" for s in counted)], row, strict=True))
    return NavBadges(
        queues={q.slug: values.get(f"q_{q.slug}") for q in queues},
        callbacks=values.get("callbacks", 0),
        improvements=values.get("improvements", 0),
        unread=values.get("unread", 0),
        approvals=values.get("approvals", 0),
    )
