"""Trend warnings: a product or a category whose complaints rise above its own
baseline.

Per product and per category, the complaints received in a week (Monday to Sunday,
local time; merged duplicates left out) are compared with the same item's previous
BASELINE_WEEKS weeks: a warning is recorded when this week's count is at least
COMPLAINT_TREND_MIN_COUNT and above mean + COMPLAINT_TREND_K × standard deviation
(population) of those weeks. Weeks without complaints count as 0, so an item new to
complaints warns as soon as it reaches the minimum count.

Detection is idempotent: one warning per week and item (database constraints); run
again during the same week, it raises the recorded count when it grew and tells
nobody twice. The current week is checked by default, so a rise shows before the
week is over. Each new warning is sent in-app to the supervisor of the team owning
the category (the product's category for a product).

A supervisor turns a warning into an improvement action in one step
(`trend_warning_to_improvement`); a second click returns the same action.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints import permissions, roles
from complaints.errors import ActionForbidden, InvalidInput, NotFound
from complaints.models import (
    Category,
    Complaint,
    ImprovementAction,
    Notification,
    Product,
    Team,
    TrendWarning,
)
from complaints.services import improvements, inapp
from complaints.workflow import ComplaintStatus

BASELINE_WEEKS = 8
DEFAULT_K = 3.0
DEFAULT_MIN_COUNT = 5
# Complaints of the warning's week linked to the improvement action created from it.
LINK_MAX = 100
IMPROVEMENT_DAYS = 30


def trend_k() -> float:
    return float(getattr(settings, "COMPLAINT_TREND_K", DEFAULT_K))


def trend_min_count() -> int:
    return int(getattr(settings, "COMPLAINT_TREND_MIN_COUNT", DEFAULT_MIN_COUNT))


def week_of(day: date) -> date:
    """The Monday of `day`'s week."""
    return day - timedelta(days=day.weekday())


def _aware(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


@dataclass(frozen=True)
class Rise:
    kind: str
    item_id: int
    count: int
    mean: float
    std: float
    threshold: float


def _weekly_counts(field: str, week: date) -> dict[int, dict[date, int]]:
    """{item id: {Monday: complaints}} over the baseline weeks and `week`. One query,
    grouped by item and day (rows bounded by items × days, not by complaints)."""
    since = week - timedelta(weeks=BASELINE_WEEKS)
    rows = (
        Complaint.objects.filter(
            received_at__gte=_aware(since),
            received_at__lt=_aware(week + timedelta(days=7)),
            **{f"{field}__isnull": False},
        )
        .exclude(status=ComplaintStatus.MERGED)
        .annotate(day=TruncDate("received_at", tzinfo=timezone.get_current_timezone()))
        .values(field, "day")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts: dict[int, dict[date, int]] = {}
    for row in rows:
        weeks = counts.setdefault(row[field], {})
        monday = week_of(row["day"])
        weeks[monday] = weeks.get(monday, 0) + row["n"]
    return counts


def rises(*, week: date) -> list[Rise]:
    """The items whose count in `week` is significantly above their baseline."""
    k, minimum = trend_k(), trend_min_count()
    found = []
    for kind, field in (
        (TrendWarning.Kind.PRODUCT, "product_id"),
        (TrendWarning.Kind.CATEGORY, "category_id"),
    ):
        for item_id, weeks in _weekly_counts(field, week).items():
            count = weeks.get(week, 0)
            if count < minimum:
                continue
            baseline = [
                weeks.get(week - timedelta(weeks=i), 0) for i in range(1, BASELINE_WEEKS + 1)
            ]
            mean = statistics.fmean(baseline)
            std = statistics.pstdev(baseline)
            threshold = mean + k * std
            if count > threshold:
                found.append(Rise(kind, item_id, count, mean, std, threshold))
    return found


def _owning_team(kind: str, item_id: int) -> Team | None:
    if kind == TrendWarning.Kind.PRODUCT:
        product = Product.objects.select_related("category__default_team").get(pk=item_id)
        category = product.category
    else:
        category = Category.objects.select_related("default_team").get(pk=item_id)
    return category.default_team if category is not None else None


def _item_name(warning: TrendWarning) -> str:
    return str(warning.item)


def trend_warnings_detect(
    *, week_start: date | None = None, now: datetime | None = None
) -> list[TrendWarning]:
    """Record this week's rises (or `week_start`'s week) and tell the owning teams'
    supervisors; returns the warnings recorded by this run."""
    now = now or timezone.now()
    week = week_of(week_start or timezone.localdate(now))
    created_warnings = []
    for rise in rises(week=week):
        item = {
            "product_id" if rise.kind == TrendWarning.Kind.PRODUCT else "category_id": rise.item_id
        }
        values = {
            "count": rise.count,
            "baseline_weeks": BASELINE_WEEKS,
            "baseline_mean": rise.mean,
            "baseline_std": rise.std,
            "threshold": rise.threshold,
        }
        with transaction.atomic():
            warning, created = TrendWarning.objects.get_or_create(
                week=week,
                **item,
                defaults={
                    "kind": rise.kind,
                    "team": _owning_team(rise.kind, rise.item_id),
                    **values,
                },
            )
            if not created:
                # Later in the same week: the count grew; nobody is told again.
                TrendWarning.objects.filter(pk=warning.pk, count__lt=rise.count).update(**values)
                continue
            created_warnings.append(warning)
            supervisor = warning.team.supervisor if warning.team_id else None
            if supervisor is not None:
                inapp.notify(
                    user=supervisor,
                    kind=Notification.Kind.IMPROVEMENT,
                    complaint=None,
                    text=_(
                        "Complaints about %(item)s are rising: %(count)d this week, "
                        "against %(mean).1f a week before."
                    )
                    % {"item": _item_name(warning), "count": rise.count, "mean": rise.mean},
                )
                warning.notified_at = now
                warning.save(update_fields=["notified_at"])
    return created_warnings


def trend_warnings_recent(*, user: Any, weeks: int = 4, today: date | None = None):
    """The warnings of the last `weeks` weeks, for supervisors (none for others)."""
    if not roles.is_supervisor(user):
        return TrendWarning.objects.none()
    since = week_of(today or timezone.localdate()) - timedelta(weeks=weeks - 1)
    return TrendWarning.objects.filter(week__gte=since).select_related(
        "product", "category", "team", "improvement_action"
    )


def _week_complaints(warning: TrendWarning) -> list[Complaint]:
    condition = (
        Q(product_id=warning.product_id)
        if warning.kind == TrendWarning.Kind.PRODUCT
        else Q(category_id=warning.category_id)
    )
    return list(
        Complaint.objects.filter(
            condition,
            received_at__gte=_aware(warning.week),
            received_at__lt=_aware(warning.week + timedelta(days=7)),
        )
        .exclude(status=ComplaintStatus.MERGED)
        .order_by("received_at", "pk")[:LINK_MAX]
    )


def trend_warning_to_improvement(
    *, warning_id: int | str, actor: Any, owner_team: Team | None = None
) -> ImprovementAction:
    """Open an improvement action for a warning, linked to that week's complaints of
    the item and owned by the warning's team (or `owner_team`, or the actor's first
    team). Supervisors only. Twice (a double click) gives the same action."""
    if not roles.is_supervisor(actor):
        raise ActionForbidden(_("Only supervisors may act on trend warnings."))
    try:
        pk = int(warning_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    with transaction.atomic():
        warning = TrendWarning.objects.select_for_update().filter(pk=pk).first()
        if warning is None:
            raise NotFound()
        if warning.improvement_action_id is not None:
            return warning.improvement_action
        team = owner_team or warning.team
        if team is None:
            first = sorted(permissions.team_ids_of(actor))
            team = Team.objects.filter(pk__in=first[:1], is_active=True).first()
        if team is None:
            raise InvalidInput(
                _("The warning has no owning team: choose one."), fields={"owner_team": []}
            )
        name = _item_name(warning)
        action = improvements.improvement_create(
            actor=actor,
            title=_("Rising complaints: %(item)s (week of %(week)s)")
            % {"item": name[:120], "week": warning.week.isoformat()},
            problem=_(
                "%(count)d complaints about %(item)s in the week of %(week)s, against "
                "%(mean).1f ± %(std).1f a week over the %(weeks)d weeks before."
            )
            % {
                "count": warning.count,
                "item": name,
                "week": warning.week.isoformat(),
                "mean": warning.baseline_mean,
                "std": warning.baseline_std,
                "weeks": warning.baseline_weeks,
            },
            owner_team=team,
            due_date=improvements.today() + timedelta(days=IMPROVEMENT_DAYS),
            complaints=_week_complaints(warning),
        )
        warning.improvement_action = action
        warning.save(update_fields=["improvement_action"])
    return action
