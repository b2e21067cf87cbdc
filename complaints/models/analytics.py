"""What the dashboard reads besides the complaints themselves: each complaint's
durations in business time (analytics/durations.py), the daily rollup
(analytics/rollup.py) and the trend warnings (services/trends.py)."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


def _dimension(model: str, name: str):
    """A dimension of the rollups: a plain reference (no constraint, nothing
    cascades): a rollup is rebuilt from the complaints, it never owns anything. No
    index of its own either: the models' composite indexes serve the reads, and
    each index costs every row of a rebuild."""
    return models.ForeignKey(
        model,
        verbose_name=name,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        blank=True,
        related_name="+",
    )


DURATION_DIMENSIONS = ("team", "category", "product", "channel", "assignee")


class ComplaintDurations(models.Model):
    """A complaint's first-response and resolution times in business minutes, with the
    moments and dimensions they are counted by.

    Business time depends on the complaint's calendar (holidays, make-up days,
    working hours), which SQL cannot evaluate; so the minutes are computed in Python
    once per change of the complaint and stored here, and the dashboard computes
    medians and percentiles over this column in the database. `source_version` is the
    complaint's `version` the row was computed from: a row with a smaller one is stale
    and is recomputed by the next refresh (analytics.durations.durations_refresh).

    The moments (`first_response_at`, `resolved_at`) and the dimensions (team,
    category, product, channel, assignee) are copies of the complaint's as of that
    version: a percentile for one product or one agent, or per agent, reads this
    narrow table alone through its covering indexes instead of the complaints.
    """

    complaint = models.OneToOneField(
        "complaints.Complaint",
        verbose_name=_("complaint"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="durations",
    )
    source_version = models.PositiveIntegerField()
    # Received → first response (business minutes); NULL while nobody has answered.
    first_response_minutes = models.PositiveIntegerField(
        _("first response (business minutes)"), null=True, blank=True
    )
    # Received → resolved, without the time spent waiting for the customer; NULL while
    # unresolved (a reopened complaint counts again from its next resolution).
    resolution_minutes = models.PositiveIntegerField(
        _("resolution (business minutes)"), null=True, blank=True
    )
    # Whether the minutes come from a business calendar (else wall-clock minutes).
    business_calendar = models.BooleanField(default=True)
    computed_at = models.DateTimeField(_("computed"))
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    team = _dimension("complaints.Team", _("team"))
    category = _dimension("complaints.Category", _("category"))
    product = _dimension("complaints.Product", _("product"))
    channel = models.CharField(_("channel"), max_length=20, blank=True)
    assignee = _dimension("complaints.User", _("assignee"))

    class Meta:
        verbose_name = _("complaint durations")
        verbose_name_plural = _("complaint durations")
        # Covering: a period's minutes with every dimension, read from the index
        # alone (the trailing columns are keys only so that SQLite keeps them too).
        indexes = [
            models.Index(
                fields=["first_response_at", *DURATION_DIMENSIONS, "first_response_minutes"],
                condition=Q(first_response_minutes__isnull=False),
                name="durations_answered",
            ),
            models.Index(
                fields=["resolved_at", *DURATION_DIMENSIONS, "resolution_minutes"],
                condition=Q(resolution_minutes__isnull=False),
                name="durations_resolved",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.complaint_id}: {self.first_response_minutes}/{self.resolution_minutes}"


class TrendWarning(models.Model):
    """A product or a category received significantly more complaints in a week than
    its own baseline (the previous weeks). One per week and item."""

    class Kind(models.TextChoices):
        PRODUCT = "product", _("Product")
        CATEGORY = "category", _("Category")

    week = models.DateField(_("week starting"), db_index=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind)
    product = models.ForeignKey(
        "complaints.Product",
        verbose_name=_("product"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="trend_warnings",
    )
    category = models.ForeignKey(
        "complaints.Category",
        verbose_name=_("category"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="trend_warnings",
    )
    # The team told (the category's default team, or the product's category's).
    team = models.ForeignKey(
        "complaints.Team",
        verbose_name=_("owning team"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="trend_warnings",
    )
    count = models.PositiveIntegerField(_("complaints this week"))
    baseline_weeks = models.PositiveSmallIntegerField(_("baseline weeks"))
    baseline_mean = models.FloatField(_("baseline mean"))
    baseline_std = models.FloatField(_("baseline standard deviation"))
    threshold = models.FloatField(_("threshold"))
    created_at = models.DateTimeField(_("detected"), auto_now_add=True)
    notified_at = models.DateTimeField(_("supervisor told"), null=True, blank=True)
    improvement_action = models.ForeignKey(
        "complaints.ImprovementAction",
        verbose_name=_("improvement action"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="trend_warnings",
    )

    class Meta:
        ordering = ["-week", "-count", "pk"]
        verbose_name = _("trend warning")
        verbose_name_plural = _("trend warnings")
        constraints = [
            models.UniqueConstraint(
                fields=["week", "product"],
                condition=Q(product__isnull=False),
                name="unique_trend_warning_product",
            ),
            models.UniqueConstraint(
                fields=["week", "category"],
                condition=Q(category__isnull=False),
                name="unique_trend_warning_category",
            ),
            models.CheckConstraint(
                condition=(Q(kind="product", product__isnull=False, category__isnull=True))
                | Q(kind="category", category__isnull=False, product__isnull=True),
                name="trend_warning_one_item",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.week} {self.item}: {self.count}"

    @property
    def item(self):
        return self.product if self.kind == self.Kind.PRODUCT else self.category


class DailyComplaintStats(models.Model):
    """The dashboard's additive counts per local day (site time zone) and slice,
    kept by analytics/rollup.py.

    Each `grain` holds the same counts at one level of detail (GRAIN_DIMENSIONS):
    the full one per (team, category, product, channel, assignee) — nearly one row
    per complaint and day — and coarser ones summed from it, which a dashboard reads
    when its filter and grouping need no more: a 30-day view over every complaint
    sums a few thousand rows instead of a hundred thousand. A dimension outside a
    row's grain is empty (NULL, channel "").

    Each count is attached to the day of the moment it is about: `received*`,
    `trend_*`, `open_*`, `csat_cohort_*` and `escalations_open` to the day the
    complaint was received; `response_*` to the day of the first response;
    `resolved`, `surveyed`, `resolution_*` to the day of the resolution;
    `*_overdue` to the day of the missed deadline; `answers`/`rating_sum`/
    `satisfied` to the day of the survey answer; `reopens`/`resolutions` to the day
    of the transition; escalations to the day opened / settled. `open_*` and
    `escalations_open` are snapshots of the state at `RollupState.as_of`.
    """

    class Grain(models.IntegerChoices):
        FULL = 0
        SLICE = 1
        PRODUCT = 2
        AGENT = 3
        TEAM = 4
        PRODUCT_SLICE = 5

    grain = models.PositiveSmallIntegerField(choices=Grain, default=Grain.FULL)
    day = models.DateField(_("day"))
    team = _dimension("complaints.Team", _("team"))
    category = _dimension("complaints.Category", _("category"))
    product = _dimension("complaints.Product", _("product"))
    channel = models.CharField(_("channel"), max_length=20, blank=True)
    assignee = _dimension("complaints.User", _("assignee"))
    received = models.PositiveIntegerField(default=0)
    received_distinct = models.PositiveIntegerField(default=0)
    repeats = models.PositiveIntegerField(default=0)
    trend_response_met = models.PositiveIntegerField(default=0)
    trend_response_total = models.PositiveIntegerField(default=0)
    trend_resolution_met = models.PositiveIntegerField(default=0)
    trend_resolution_total = models.PositiveIntegerField(default=0)
    open_new = models.PositiveIntegerField(default=0)
    open_triaged = models.PositiveIntegerField(default=0)
    open_reopened = models.PositiveIntegerField(default=0)
    open_assigned = models.PositiveIntegerField(default=0)
    open_in_progress = models.PositiveIntegerField(default=0)
    open_awaiting_customer = models.PositiveIntegerField(default=0)
    open_total = models.PositiveIntegerField(default=0)
    csat_cohort_answers = models.PositiveIntegerField(default=0)
    csat_cohort_rating_sum = models.PositiveIntegerField(default=0)
    escalations_open = models.PositiveIntegerField(default=0)
    response_met = models.PositiveIntegerField(default=0)
    response_stopped = models.PositiveIntegerField(default=0)
    response_overdue = models.PositiveIntegerField(default=0)
    resolved = models.PositiveIntegerField(default=0)
    surveyed = models.PositiveIntegerField(default=0)
    resolution_met = models.PositiveIntegerField(default=0)
    resolution_stopped = models.PositiveIntegerField(default=0)
    resolution_overdue = models.PositiveIntegerField(default=0)
    answers = models.PositiveIntegerField(default=0)
    rating_sum = models.PositiveIntegerField(default=0)
    satisfied = models.PositiveIntegerField(default=0)
    reopens = models.PositiveIntegerField(default=0)
    resolutions = models.PositiveIntegerField(default=0)
    escalations_opened = models.PositiveIntegerField(default=0)
    escalations_settled = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("daily complaint statistics")
        verbose_name_plural = _("daily complaint statistics")
        # Every read names its grain. A period's rows, the filters checked inside the
        # index (the full grain is read without an agent only to group by agent, so
        # it needs no more); an agent's own rows; the snapshots (backlog, escalations
        # open), which read every day's rows with something open, likewise.
        indexes = [
            models.Index(
                fields=["grain", "day", "team", "category", "product", "channel"],
                name="daily_stats_day",
            ),
            models.Index(fields=["grain", "assignee", "day"], name="daily_stats_assignee"),
            models.Index(
                fields=["grain", "team", "category", "product", "channel", "day"],
                condition=Q(open_total__gt=0) | Q(escalations_open__gt=0),
                name="daily_stats_open",
            ),
            models.Index(
                fields=["grain", "assignee", "day"],
                condition=Q(open_total__gt=0) | Q(escalations_open__gt=0),
                name="daily_stats_open_assignee",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.day} [{self.grain}] {self.team_id}/{self.category_id}/{self.product_id}/"
            f"{self.channel}/{self.assignee_id}"
        )


# The dimensions each grain keeps (attribute names), smallest grains first (rows a
# day on a million complaints a year: about 3, 30, 70, 200, 1,100 and 6,500): a
# query reads the first grain that has every dimension it filters or groups by.
GRAIN_DIMENSIONS = {
    DailyComplaintStats.Grain.TEAM: ("team_id",),
    DailyComplaintStats.Grain.PRODUCT: ("team_id", "product_id"),
    DailyComplaintStats.Grain.SLICE: ("team_id", "category_id", "channel"),
    DailyComplaintStats.Grain.AGENT: ("team_id", "assignee_id"),
    # Everything but the agent: the full grain is read only for an agent.
    DailyComplaintStats.Grain.PRODUCT_SLICE: ("team_id", "category_id", "product_id", "channel"),
    DailyComplaintStats.Grain.FULL: (
        "team_id",
        "category_id",
        "product_id",
        "channel",
        "assignee_id",
    ),
}


class DailyDurationBuckets(models.Model):
    """How many complaints of a day and team took `minutes` business minutes to
    the first response (`kind` first, by the day answered) or to the resolution
    (`kind` resolution, by the day resolved). Minutes are exact under 2 hours, in
    10-minute steps under a day, in hours beyond: medians and percentiles come out
    of these counts exactly to that step.

    Only the team is kept: with finer slices there would be about one row per
    complaint (a day's complaints spread over a few hundred steps), no smaller than
    ComplaintDurations, which answers every other filter and the per-agent medians
    (analytics/figures.py `duration_percentiles`, the same steps)."""

    class Kind(models.TextChoices):
        FIRST_RESPONSE = "first", _("First response")
        RESOLUTION = "resolution", _("Resolution")

    day = models.DateField(_("day"))
    team = _dimension("complaints.Team", _("team"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind)
    minutes = models.PositiveIntegerField(_("business minutes"))
    count = models.PositiveIntegerField(_("complaints"))

    class Meta:
        verbose_name = _("daily duration bucket")
        verbose_name_plural = _("daily duration buckets")
        indexes = [models.Index(fields=["kind", "day"], name="daily_buckets_kind_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.kind} {self.minutes}: {self.count}"


class RollupMark(models.Model):
    """The complaint `version` the rollup last counted, and the days it counted it
    on: when the complaint changes, both its old and its new days are recomputed."""

    complaint = models.OneToOneField(
        "complaints.Complaint",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="rollup_mark",
    )
    version = models.PositiveIntegerField()
    received_day = models.DateField(null=True)
    answered_day = models.DateField(null=True)
    resolved_day = models.DateField(null=True)
    response_due_day = models.DateField(null=True)
    resolution_due_day = models.DateField(null=True)

    class Meta:
        verbose_name = _("rollup mark")
        verbose_name_plural = _("rollup marks")

    def __str__(self) -> str:
        return f"{self.complaint_id}@{self.version}"


class RollupState(models.Model):
    """One row: when the rollup was last brought up to date (the dashboard's
    "figures as of"); locked by every refresh so two runs never interleave."""

    as_of = models.DateTimeField(_("figures as of"), null=True, blank=True)
    # Complaints changed from here on (less a margin) are compared with their marks;
    # every FULL_CHECK_EVERY all of them are (complaints/analytics/rollup.py).
    changes_since = models.DateTimeField(null=True, blank=True, editable=False)
    full_check_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("rollup state")
        verbose_name_plural = _("rollup state")

    def __str__(self) -> str:
        return f"rollup as of {self.as_of}"
