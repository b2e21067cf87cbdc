"""Improvement actions (纠正预防措施): the cause behind complaints, fixed."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords


class ImprovementAction(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("status", "Open")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        VERIFIED = "verified", _("Verified")

    title = models.CharField(_("title"), max_length=200)
    problem = models.TextField(_("problem statement"))
    owner_team = models.ForeignKey(
        "complaints.Team",
        verbose_name=_("owner team"),
        on_delete=models.PROTECT,
        related_name="improvement_actions",
    )
    due_date = models.DateField(_("due date"), db_index=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status, default=Status.OPEN, db_index=True
    )
    complaints = models.ManyToManyField(
        "complaints.Complaint",
        verbose_name=_("complaints"),
        related_name="improvement_actions",
        blank=True,
    )
    outcome = models.TextField(_("what was done"), blank=True)
    # When done: tell the linked customers (the message is a template, see services).
    notify_customers = models.BooleanField(_("tell the customers when done"), default=False)
    customer_message = models.TextField(_("message to the customers"), blank=True)
    customers_notified_at = models.DateTimeField(_("customers told"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    verified_at = models.DateTimeField(_("verified"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("verified by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    history = HistoricalRecords(m2m_fields=[complaints])

    class Meta:
        ordering = ["due_date", "pk"]
        verbose_name = _("improvement action")
        verbose_name_plural = _("improvement actions")
        constraints = [
            models.CheckConstraint(
                condition=~Q(status__in=["done", "verified"]) | Q(done_at__isnull=False),
                name="improvement_done_has_date",
            ),
        ]

    def __str__(self) -> str:
        return self.title
