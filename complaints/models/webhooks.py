"""What the REST API keeps for integrations: webhooks (URLs told of events, each
delivery a row of the webhook outbox, signed and retried) and the answers of
idempotent POSTs (a retried request with the same Idempotency-Key gets the first
answer instead of creating a second object)."""

import secrets

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _


def new_secret() -> str:
    return secrets.token_urlsafe(32)


class WebhookEvent(models.TextChoices):
    COMPLAINT_CREATED = "complaint.created", _("Complaint created")
    STATUS_CHANGED = "complaint.status_changed", _("Status changed")
    ESCALATED = "complaint.escalated", _("Complaint escalated")
    SURVEY_ANSWERED = "survey.answered", _("Survey answered")


class Webhook(models.Model):
    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(
        _("secret"),
        max_length=100,
        default=new_secret,
        help_text=_("Signs every delivery (HMAC-SHA256); the receiver checks the signature."),
    )
    events = models.JSONField(
        _("events"), default=list, blank=True, help_text=_("The events sent to this URL.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(models.Model):
    """One event for one webhook: written in the transaction of the change (the
    outbox), sent after commit by a task, retried with backoff, logged."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENT = "sent", _("Delivered")
        FAILED = "failed", _("Gave up")

    webhook = models.ForeignKey(
        Webhook, verbose_name=_("webhook"), on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(_("event"), max_length=40, choices=WebhookEvent)
    # Sent as X-Webhook-Id: receivers drop a delivery they have already processed.
    delivery_id = models.UUIDField(_("delivery id"), unique=True)
    payload = models.JSONField(_("payload"), encoder=DjangoJSONEncoder)
    state = models.CharField(
        _("state"), max_length=10, choices=State, default=State.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), db_index=True)
    response_status = models.PositiveSmallIntegerField(_("response status"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="webhook_delivery_due")]

    def __str__(self) -> str:
        return f"{self.event} → {self.webhook}"


class IdempotentRequest(models.Model):
    """The first answer to a creating API request sent with an Idempotency-Key.

    Stored in the same transaction as what the request created (so a refused
    request does not use its key up); the unique index makes a concurrent retry wait
    for the first and then replay it.
    """

    scope = models.CharField(max_length=60)
    key = models.CharField(max_length=200)
    # sha256 of the method, the path and the body: the same key for another request
    # is refused.
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("idempotent API request")
        verbose_name_plural = _("idempotent API requests")
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="unique_idempotent_request")
        ]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}"
