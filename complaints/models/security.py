"""The access log: logins, refusals and reads of personal data, for security reviews."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AccessLog(models.Model):
    class Event(models.TextChoices):
        LOGIN = "login", _("Logged in")
        LOGIN_FAILED = "login_failed", _("Login failed")
        LOCKED_OUT = "locked_out", _("Locked out")
        LOGOUT = "logout", _("Logged out")
        DENIED = "denied", _("Access denied")
        PERSONAL_DATA_VIEWED = "personal_data_viewed", _("Personal data viewed")
        CUSTOMER_EXPORTED = "customer_exported", _("Customer data exported")
        CUSTOMER_ERASED = "customer_erased", _("Customer data erased")

    at = models.DateTimeField(_("time"), db_index=True)
    event = models.CharField(_("event"), max_length=30, choices=Event)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # As typed at the login form (failed logins have no user).
    username = models.CharField(_("username"), max_length=150, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    path = models.CharField(_("path"), max_length=500, blank=True)
    # What was touched, e.g. "customer:42", "complaint:7".
    target = models.CharField(_("object"), max_length=100, blank=True, db_index=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        indexes = [models.Index(fields=["event", "at"], name="accesslog_event_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.event} {self.username or self.user_id or ''}"
