"""Remedies offered to a customer, and the authority limits that decide who may grant
them without a supervisor's approval."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from complaints import roles


class RemedyKind(models.TextChoices):
    REFUND = "refund", _("Refund")
    VOUCHER = "voucher", _("Voucher")
    REPLACEMENT = "replacement", _("Replacement")
    REPAIR = "repair", _("Repair")
    COMPENSATION = "compensation", _("Compensation")
    APOLOGY = "apology", _("Apology")
    OTHER = "other", _("Other")


class Remedy(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        DELIVERED = "delivered", _("Delivered")
        CANCELLED = "cancelled", _("Cancelled")

    complaint = models.ForeignKey(
        "complaints.Complaint",
        verbose_name=_("complaint"),
        on_delete=models.CASCADE,
        related_name="remedies",
    )
    kind = models.CharField(_("type"), max_length=20, choices=RemedyKind)
    # In the installation's currency (settings.COMPLAINT_CURRENCY); 0 for apologies.
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2, default=Decimal("0"))
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status, db_index=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("proposed by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    proposed_at = models.DateTimeField(_("proposed"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_reason = models.TextField(_("reason for the decision"), blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["proposed_at", "pk"]
        verbose_name = _("remedy")
        verbose_name_plural = _("remedies")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="remedy_amount_not_negative"),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(decision_reason=""),
                name="remedy_rejection_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}"


class AuthorityLimit(models.Model):
    """The largest amount a role may grant for a type of remedy without approval.

    No row for an agent: any amount above zero needs approval. No row for a
    supervisor: no limit.
    """

    class Role(models.TextChoices):
        AGENT = roles.AGENT, _("Agent")
        SUPERVISOR = roles.SUPERVISOR, _("Supervisor")

    role = models.CharField(_("role"), max_length=40, choices=Role)
    kind = models.CharField(_("remedy type"), max_length=20, choices=RemedyKind)
    max_amount = models.DecimalField(_("largest amount"), max_digits=12, decimal_places=2)

    history = HistoricalRecords()

    class Meta:
        ordering = ["role", "kind"]
        verbose_name = _("authority limit")
        verbose_name_plural = _("authority limits")
        constraints = [
            models.UniqueConstraint(fields=["role", "kind"], name="one_authority_limit"),
            models.CheckConstraint(
                condition=Q(max_amount__gte=0), name="authority_limit_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} · {self.get_kind_display()} ≤ {self.max_amount}"
