"""What intake keeps besides the complaint: raw inbound messages (stored before they
are parsed, so nothing is lost), the Message-IDs of mail we sent (for threading
replies), idempotency keys (one complaint per double-submitted form or retried API
call) and possible-duplicate flags."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class InboundMessage(models.Model):
    class Source(models.TextChoices):
        IMAP = "imap", _("IMAP mailbox")
        PIPE = "pipe", _("Mail server pipe")

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received, not yet processed")
        CREATED = "created", _("Created a complaint")
        APPENDED = "appended", _("Added to a complaint")
        REVIEW = "review", _("Needs review")
        IGNORED = "ignored", _("Ignored (auto-reply, bounce or loop)")
        QUARANTINED = "quarantined", _("Quarantined (could not be processed)")
        REVIEWED = "reviewed", _("Reviewed")

    source = models.CharField(_("source"), max_length=10, choices=Source)
    # Message-ID, or a hash of the raw bytes when there is none: storing the same
    # message twice (a fetch retried after a crash) is a no-op.
    dedupe_key = models.CharField(max_length=255, unique=True)
    raw = models.BinaryField(_("raw message"))
    size = models.PositiveIntegerField(_("size"))
    message_id = models.CharField(_("Message-ID"), max_length=255, blank=True, db_index=True)
    from_address = models.CharField(_("from"), max_length=255, blank=True)
    subject = models.CharField(_("subject"), max_length=500, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status, default=Status.RECEIVED, db_index=True
    )
    note = models.TextField(_("note"), blank=True, help_text=_("Why it ended in this status."))
    complaint = models.ForeignKey(
        "complaints.Complaint",
        verbose_name=_("complaint"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inbound_messages",
    )
    received_at = models.DateTimeField(_("received"), auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-received_at", "-pk"]
        verbose_name = _("inbound message")
        verbose_name_plural = _("inbound messages")

    def __str__(self) -> str:
        return f"{self.from_address}: {self.subject}"


class MailThread(models.Model):
    """A Message-ID of mail we sent (or received) on a complaint: replies that quote
    it in In-Reply-To or References land on that complaint."""

    message_id = models.CharField(max_length=255, unique=True)
    complaint = models.ForeignKey(
        "complaints.Complaint", on_delete=models.CASCADE, related_name="mail_threads"
    )
    outgoing = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("mail thread id")
        verbose_name_plural = _("mail thread ids")

    def __str__(self) -> str:
        return self.message_id


class IdempotencyKey(models.Model):
    """One creation per key: a re-posted form or a retried API call returns the
    complaint the first one created."""

    scope = models.CharField(max_length=30)
    key = models.CharField(max_length=200)
    # A hash of the request body (API) so the same key with another body is refused.
    fingerprint = models.CharField(max_length=64, blank=True)
    complaint = models.ForeignKey(
        "complaints.Complaint", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="unique_idempotency_key")
        ]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}"


class DuplicateFlag(models.Model):
    """`complaint` may be the same problem as `other` (shown on both)."""

    class Reason(models.TextChoices):
        SAME_SUBJECT_OPEN = (
            "same_subject_open",
            _("Same customer, same product or category, still open"),
        )
        SIMILAR_TEXT = "similar_text", _("Same customer, similar text")

    class Decision(models.TextChoices):
        OPEN = "open", _("Not decided")
        MERGED = "merged", _("Merged")
        DISMISSED = "dismissed", _("Not a duplicate")

    complaint = models.ForeignKey(
        "complaints.Complaint", on_delete=models.CASCADE, related_name="duplicate_flags"
    )
    other = models.ForeignKey("complaints.Complaint", on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(_("reason"), max_length=30, choices=Reason)
    score = models.FloatField(_("similarity"), default=0)
    decision = models.CharField(
        _("decision"), max_length=20, choices=Decision, default=Decision.OPEN
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("possible duplicate")
        verbose_name_plural = _("possible duplicates")
        constraints = [
            models.UniqueConstraint(fields=["complaint", "other"], name="unique_duplicate_flag")
        ]

    def __str__(self) -> str:
        return f"{self.complaint_id} ~ {self.other_id}"
