"""Customers: people who complain. They have no account; identity is matched on
normalised phone, email and external ids."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Customer(models.Model):
    class Tier(models.TextChoices):
        STANDARD = "standard", _("Standard")
        SILVER = "silver", _("Silver")
        GOLD = "gold", _("Gold")
        VIP = "vip", _("VIP")

    name = models.CharField(_("name"), max_length=200, blank=True)
    # E.164-style: "+8613800138000". See complaints.contacts.normalize_phone.
    phone = models.CharField(_("phone"), max_length=32, blank=True, db_index=True)
    # Lower-cased. See complaints.contacts.normalize_email.
    email = models.EmailField(_("email"), blank=True, db_index=True)
    tier = models.CharField(_("tier"), max_length=20, choices=Tier, default=Tier.STANDARD)
    language = models.CharField(_("language"), max_length=10, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # Set when an agent merged this record into another (the same person).
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_customers",
    )
    # Set when the person's data was erased (anonymised) on request; the complaints
    # stay for the statistics.
    erased_at = models.DateTimeField(_("erased"), null=True, blank=True)
    # History rows are read by customer (`id`) only (the erasure scrubs them so).
    history = HistoricalRecords(no_db_index=["phone", "email", "merged_into"])

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        permissions = [
            ("view_personal_data", _("Can see customers' full phone numbers and emails")),
        ]

    def __str__(self) -> str:
        return self.name or self.email or self.phone or f"#{self.pk}"

    @property
    def is_vip(self) -> bool:
        return self.tier == self.Tier.VIP


class CustomerExternalId(models.Model):
    """An id of the customer in another system (an IM account, a shop's member id)."""

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="external_ids",
    )
    system = models.CharField(_("system"), max_length=50)
    value = models.CharField(_("id"), max_length=200)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("external id")
        verbose_name_plural = _("external ids")
        constraints = [
            models.UniqueConstraint(fields=["system", "value"], name="unique_external_id")
        ]

    def __str__(self) -> str:
        return f"{self.system}:{self.value}"
