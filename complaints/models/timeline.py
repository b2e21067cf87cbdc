"""The explicit log of a complaint: status changes and the timeline.

Written only by services (complaints/services/), never edited or deleted in the UI.
Reports (reopen rate, time in state) read StatusChange.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class StatusChange(models.Model):
    complaint = models.ForeignKey(
        "complaints.Complaint",
        verbose_name=_("complaint"),
        on_delete=models.CASCADE,
        related_name="status_changes",
    )
    transition = models.CharField(_("transition"), max_length=30)
    from_status = models.CharField(_("from"), max_length=20, blank=True)
    to_status = models.CharField(_("to"), max_length=20)
    # NULL actor: the system (automation, schedules, customer-driven changes).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("time"), db_index=True)
    # Tamper evidence: SHA-256 over this row and the previous row's hash for the
    # same complaint (services/audit.py computes and verifies the chains).
    chain_hash = models.CharField(_("chain hash"), max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")
        indexes = [models.Index(fields=["complaint", "created_at"], name="statuschange_complaint")]

    def __str__(self) -> str:
        return f"{self.complaint_id}: {self.from_status or '∅'} → {self.to_status}"

    @property
    def by_system(self) -> bool:
        return self.actor_id is None


class ComplaintEvent(models.Model):
    class Kind(models.TextChoices):
        RECEIVED = "received", _("Complaint received")
        CUSTOMER_MESSAGE = "customer_message", _("Customer message")
        REPLY_SENT = "reply_sent", _("Reply sent")
        NOTE_ADDED = "note_added", _("Internal note")
        STATUS_CHANGED = "status_changed", _("Status changed")
        ASSIGNED = "assigned", _("Assigned")
        REASSIGNED = "reassigned", _("Reassigned")
        FIELD_CHANGED = "field_changed", _("Fields changed")
        ESCALATED = "escalated", _("Escalated")
        MERGED = "merged", _("Merged")
        ATTACHMENT_ADDED = "attachment_added", _("Attachment added")
        SLA_CROSSED = "sla_crossed", _("SLA warning or deadline")
        REMEDY = "remedy", _("Remedy")
        SOP_STEP = "sop_step", _("SOP checklist")
        CALLBACK = "callback", _("Call-back")
        IMPROVEMENT = "improvement", _("Improvement action")

    # Indexed by event_complaint (complaint, created_at), which leads with it: one
    # index fewer to update on the busiest insert path (twelve million rows at scale).
    complaint = models.ForeignKey(
        "complaints.Complaint",
        verbose_name=_("complaint"),
        on_delete=models.CASCADE,
        related_name="events",
        db_index=False,
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Kind)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # Internal events are never shown to the customer (notes, field changes…).
    is_internal = models.BooleanField(_("internal"), default=True)
    body = models.TextField(_("text"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    created_at = models.DateTimeField(_("time"), db_index=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("timeline event")
        verbose_name_plural = _("timeline events")
        indexes = [models.Index(fields=["complaint", "created_at"], name="event_complaint")]

    def __str__(self) -> str:
        return f"{self.complaint_id}: {self.get_kind_display()}"
