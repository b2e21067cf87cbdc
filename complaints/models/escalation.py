"""Escalations (orthogonal to the lifecycle) and collaboration requests to departments."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Escalation(models.Model):
    class Reason(models.TextChoices):
        SLA_BREACH = "sla_breach", _("SLA breached")
        UNSATISFIED = "unsatisfied", _("Customer unsatisfied")
        MANUAL = "manual", _("Raised by staff")
        VIP = "vip", _("VIP customer")
        REPEAT = "repeat", _("Repeat complaint")
        COLLABORATION = "collaboration", _("Collaboration request overdue")

    class Level(models.IntegerChoices):
        SUPERVISOR = 1, _("Team supervisor")
        HEAD = 2, _("Department head")
        MANAGEMENT = 3, _("Management")

    complaint = models.ForeignKey(
        "complaints.Complaint",
        verbose_name=_("complaint"),
        on_delete=models.CASCADE,
        related_name="escalations",
    )
    reason = models.CharField(_("reason"), max_length=20, choices=Reason)
    level = models.PositiveSmallIntegerField(_("level"), choices=Level, default=Level.SUPERVISOR)
    note = models.TextField(_("note"), blank=True)
    opened_at = models.DateTimeField(_("opened"), db_index=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("opened by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # When it climbs to the next level if nobody has settled it.
    climb_at = models.DateTimeField(_("climbs at"), null=True, blank=True, db_index=True)
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acknowledged by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    settled_at = models.DateTimeField(_("settled"), null=True, blank=True, db_index=True)
    settled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("settled by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    settlement = models.TextField(_("settlement"), blank=True)
    # The history is read by escalation id and date only: its copies of the other
    # indexes were seven more to update on every escalation write.
    history = HistoricalRecords(
        no_db_index=[
            "complaint",
            "opened_at",
            "opened_by",
            "climb_at",
            "acknowledged_by",
            "settled_at",
            "settled_by",
        ]
    )

    class Meta:
        ordering = ["-opened_at", "-pk"]
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        constraints = [
            # At most one open escalation per complaint and reason.
            models.UniqueConstraint(
                fields=["complaint", "reason"],
                condition=models.Q(settled_at__isnull=True),
                name="one_open_escalation_per_reason",
            )
        ]

    def __str__(self) -> str:
        return f"{self.complaint_id} L{self.level} {self.reason}"

    @property
    def is_open(self) -> bool:
        return self.settled_at is None


class EscalationStep(models.Model):
    """How long an unsettled escalation of a priority stays at a level before it climbs."""

    priority = models.ForeignKey(
        "complaints.Priority",
        verbose_name=_("priority"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    level = models.PositiveSmallIntegerField(_("level"), choices=Escalation.Level)
    climb_after_minutes = models.PositiveIntegerField(_("climbs after (minutes)"))
    history = HistoricalRecords()

    class Meta:
        ordering = ["priority__level", "level"]
        verbose_name = _("escalation step")
        verbose_name_plural = _("escalation ladder")
        constraints = [
            models.UniqueConstraint(fields=["priority", "level"], name="unique_escalation_step")
        ]

    def __str__(self) -> str:
        return f"{self.priority} L{self.level}: {self.climb_after_minutes} min"


class CollaborationRequest(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for the department")
        ANSWERED = "answered", _("Answered")
        CANCELLED = "cancelled", _("Cancelled")

    complaint = models.ForeignKey(
        "complaints.Complaint",
        verbose_name=_("complaint"),
        on_delete=models.CASCADE,
        related_name="collaboration_requests",
    )
    department = models.ForeignKey(
        "complaints.Team",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="collaboration_requests",
    )
    question = models.TextField(_("question"))
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("asked by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    asked_at = models.DateTimeField(_("asked"))
    due_at = models.DateTimeField(_("answer due"), db_index=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status, default=Status.OPEN, db_index=True
    )
    answer = models.TextField(_("answer"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("answered by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    # Set once by the sweep when the deadline passed unanswered (escalated then).
    overdue_at = models.DateTimeField(_("marked overdue"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords(excluded_fields=["version"])

    class Meta:
        ordering = ["due_at", "pk"]
        verbose_name = _("collaboration request")
        verbose_name_plural = _("collaboration requests")

    def __str__(self) -> str:
        return f"{self.complaint_id} → {self.department}"
