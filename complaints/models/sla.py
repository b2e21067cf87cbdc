"""SLA configuration: business calendars (working hours, holidays, make-up working
days) and SLA policies per category × priority; the crossings the sweep records."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


def default_working_hours() -> dict:
    """Monday to Friday, 09:00–12:00 and 13:00–18:00 (weekday 0 is Monday)."""
    day = [["09:00", "12:00"], ["13:00", "18:00"]]
    return {str(weekday): day for weekday in range(5)}


class BusinessCalendar(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default=settings.TIME_ZONE)
    # {"0": [["09:00", "12:00"], ["13:00", "18:00"]], …}: weekday → working periods.
    working_hours = models.JSONField(_("working hours"), default=default_working_hours)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")

    def __str__(self) -> str:
        return self.name


class CalendarDay(models.Model):
    """A public holiday, or a make-up working day (调休) on a weekend."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Holiday (no work)")
        WORKDAY = "workday", _("Make-up working day")

    calendar = models.ForeignKey(
        BusinessCalendar, verbose_name=_("calendar"), on_delete=models.CASCADE, related_name="days"
    )
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind)
    name = models.CharField(_("name"), max_length=100, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["date"]
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="unique_calendar_day")
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()} {self.name}".strip()


class SlaPolicy(models.Model):
    """Targets for complaints of a category (and its sub-categories) and a priority.

    An empty category or priority matches any; the most specific policy wins.
    """

    name = models.CharField(_("name"), max_length=100)
    category = models.ForeignKey(
        "complaints.Category",
        verbose_name=_("category"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sla_policies",
    )
    priority = models.ForeignKey(
        "complaints.Priority",
        verbose_name=_("priority"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sla_policies",
    )
    calendar = models.ForeignKey(
        BusinessCalendar, verbose_name=_("calendar"), on_delete=models.PROTECT, related_name="+"
    )
    first_response_minutes = models.PositiveIntegerField(
        _("first response within (business minutes)")
    )
    resolution_minutes = models.PositiveIntegerField(_("resolution within (business minutes)"))
    warning_percent = models.PositiveSmallIntegerField(
        _("warn at (percent of the time)"), default=80
    )
    is_active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        constraints = [
            # One policy per (category, priority), an empty one meaning "any"; SQLite
            # lacks NULLS NOT DISTINCT, hence one partial constraint per case (the
            # catch-all default is checked in clean()).
            models.UniqueConstraint(
                fields=["category", "priority"],
                condition=models.Q(category__isnull=False, priority__isnull=False),
                name="unique_sla_policy",
            ),
            models.UniqueConstraint(
                fields=["category"],
                condition=models.Q(category__isnull=False, priority__isnull=True),
                name="unique_sla_policy_any_priority",
            ),
            models.UniqueConstraint(
                fields=["priority"],
                condition=models.Q(category__isnull=True, priority__isnull=False),
                name="unique_sla_policy_any_category",
            ),
            models.CheckConstraint(
                condition=models.Q(warning_percent__gte=1, warning_percent__lte=100),
                name="sla_warning_percent_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.category_id is None and self.priority_id is None:
            others = SlaPolicy.objects.filter(category__isnull=True, priority__isnull=True)
            if others.exclude(pk=self.pk).exists():
                raise ValidationError(
                    _("There is already a default policy (any category, any priority).")
                )


class SlaCrossing(models.Model):
    """A complaint crossed a warning or a deadline. Unique per complaint, kind and
    handling cycle (a reopened complaint starts a new cycle), so a sweep run twice —
    or twice at once — records and escalates each crossing once."""

    class Kind(models.TextChoices):
        RESPONSE_WARNING = "response_warning", _("First response due soon")
        RESPONSE_BREACH = "response_breach", _("First response overdue")
        RESOLUTION_WARNING = "resolution_warning", _("Resolution due soon")
        RESOLUTION_BREACH = "resolution_breach", _("Resolution overdue")

    # Indexed by unique_sla_crossing, which leads with it.
    complaint = models.ForeignKey(
        "complaints.Complaint",
        on_delete=models.CASCADE,
        related_name="sla_crossings",
        db_index=False,
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Kind)
    cycle = models.PositiveSmallIntegerField(default=0)
    due_at = models.DateTimeField(_("deadline"))
    # Which sweep inserted the row: the one that inserted it acts on it.
    sweep_id = models.UUIDField()
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("SLA crossing")
        verbose_name_plural = _("SLA crossings")
        constraints = [
            models.UniqueConstraint(
                fields=["complaint", "kind", "cycle"], name="unique_sla_crossing"
            )
        ]

    def __str__(self) -> str:
        return f"{self.complaint_id} {self.kind}"
