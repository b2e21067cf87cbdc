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
