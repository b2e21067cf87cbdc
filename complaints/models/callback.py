"""Call-backs (回访): when the customer has not answered the survey after a few days,
an agent calls them and records the outcome."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class CallbackResult(models.TextChoices):
    REACHED_SATISFIED = "reached_satisfied", _("Reached, satisfied")
    REACHED_UNSATISFIED = "reached_unsatisfied", _("Reached, not satisfied")
    NOT_REACHED = "not_reached", _("Not reached")


class CallbackTask(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("status", "Open")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    class Outcome(models.TextChoices):
        SATISFIED = "satisfied", _("Customer satisfied")
        UNSATISFIED = "unsatisfied", _("Customer not satisfied")
        NO_RESPONSE = "no_response", _("No response")
        # The customer answered the survey, or the complaint was reopened, meanwhile.
        OVERTAKEN = "overtaken", _("No longer needed")

    complaint = models.ForeignKey(
        "complaints.Complaint",
        verbose_name=_("complaint"),
        on_delete=models.CASCADE,
        related_name="callbacks",
    )
    # The complaint's handling round (reopen_count) this call-back is for.
    cycle = models.PositiveSmallIntegerField(_("handling round"))
    status = models.CharField(
        _("status"), max_length=20, choices=Status, default=Status.OPEN, db_index=True
    )
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome, blank=True)
    attempts = models.PositiveSmallIntegerField(_("failed attempts"), default=0)
    # Who is on it now (blank: anyone in the team may take it).
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="callbacks",
    )
    created_at = models.DateTimeField(_("created"), db_index=True)
    # The next attempt is not due before this (after a failed one).
    next_attempt_at = models.DateTimeField(_("next attempt"), db_index=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["next_attempt_at", "pk"]
        verbose_name = _("call-back")
        verbose_name_plural = _("call-backs")
        constraints = [
            models.UniqueConstraint(fields=["complaint", "cycle"], name="one_callback_per_cycle"),
            models.CheckConstraint(
                condition=Q(status="open", outcome="") | (~Q(status="open") & ~Q(outcome="")),
                name="callback_outcome_when_finished",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.complaint_id}#{self.cycle} {self.status}"


class CallbackAttempt(models.Model):
    task = models.ForeignKey(
        CallbackTask,
        verbose_name=_("call-back"),
        on_delete=models.CASCADE,
        related_name="attempt_log",
    )
    result = models.CharField(_("result"), max_length=30, choices=CallbackResult)
    note = models.TextField(_("note"), blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("called by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField(_("time"))

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("call-back attempt")
        verbose_name_plural = _("call-back attempts")

    def __str__(self) -> str:
        return f"{self.task_id}: {self.result}"
