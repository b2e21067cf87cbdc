"""What the dashboard reads besides the complaints themselves: each complaint's
durations in business time (a rollup kept by services/analytics.py) and the trend
warnings (services/trends.py)."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ComplaintDurations(models.Model):
    """A complaint's first-response and resolution times in business minutes.

    Business time depends on the complaint's calendar (holidays, make-up days,
    working hours), which SQL cannot evaluate; so the minutes are computed in Python
    once per change of the complaint and stored here, and the dashboard computes
    medians and percentiles over this column in the database. `source_version` is the
    complaint's `version` the row was computed from: a row with a smaller one is stale
    and is recomputed by the next refresh (services.analytics.durations_refresh).
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

    class Meta:
        verbose_name = _("complaint durations")
        verbose_name_plural = _("complaint durations")

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


def _dimension(model: str, name: str):
    """A dimension of the daily rollup: a plain reference (no constraint, nothing
    cascades): the rollup is rebuilt from the complaints, it never owns anything."""
    return models.ForeignKey(
        model,
        verbose_name=name,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )


class DailyComplaintStats(models.Model):
    """The dashboard's additive counts per local day (site time zone) and slice
    (team, category, product, channel, assignee), kept by analytics/rollup.py.

    Each count is attached to the day of the moment it is about: `received*`,
    `trend_*`, `open_*`, `csat_cohort_*` and `escalations_open` to the day the
    complaint was received; `response_*` to the day of the first response;
    `resolved`, `surveyed`, `resolution_*` to the day of the resolution;
    `*_overdue` to the day of the missed deadline; `answers`/`rating_sum`/
    `satisfied` to the day of the survey answer; `reopens`/`resolutions` to the day
    of the transition; escalations to the day opened / settled. `open_*` and
    `escalations_open` are snapshots of the state at `RollupState.as_of`.
    """

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
        indexes = [
            models.Index(fields=["day", "team"], name="daily_stats_day_team"),
            models.Index(fields=["day"], condition=Q(open_total__gt=0), name="daily_stats_open"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.team_id}/{self.category_id}/{self.product_id}/{self.channel}"


class DailyDurationBuckets(models.Model):
    """How many complaints of a day and slice took `minutes` business minutes to
    the first response (`kind` first, by the day answered) or to the resolution
    (`kind` resolution, by the day resolved). Minutes are exact under 2 hours, in
    10-minute steps under a day, in hours beyond: medians and percentiles come out
    of these counts exactly to that step."""

    class Kind(models.TextChoices):
        FIRST_RESPONSE = "first", _("First response")
        RESOLUTION = "resolution", _("Resolution")

    day = models.DateField(_("day"))
    team = _dimension("complaints.Team", _("team"))
    category = _dimension("complaints.Category", _("category"))
    product = _dimension("complaints.Product", _("product"))
    channel = models.CharField(_("channel"), max_length=20, blank=True)
    assignee = _dimension("complaints.User", _("assignee"))
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

    class Meta:
        verbose_name = _("rollup state")
        verbose_name_plural = _("rollup state")

    def __str__(self) -> str:
        return f"rollup as of {self.as_of}"
