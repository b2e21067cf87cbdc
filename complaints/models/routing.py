"""Keyword triage, the urgency × impact priority grid, and routing rules."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Urgency(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


class Impact(models.TextChoices):
    INDIVIDUAL = "individual", _("One customer")
    GROUP = "group", _("Several customers")
    PUBLIC = "public", _("Public (media, regulator, lawyer)")
    SAFETY = "safety", _("Safety (injury, fire)")


class KeywordRule(models.Model):
    """Words that propose a category, product, urgency, impact and flags.

    `terms`: one concept per line; synonyms on a line are separated by "|"
    (e.g. "起火|着火|冒烟|fire|smoke"). Chinese is matched on jieba tokens and as
    substrings, English on whole words, case-insensitively.
    """

    name = models.CharField(_("name"), max_length=100)
    terms = models.TextField(_("words and phrases"))
    category = models.ForeignKey(
        "complaints.Category",
        verbose_name=_("category"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    product = models.ForeignKey(
        "complaints.Product",
        verbose_name=_("product"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency, blank=True)
    impact = models.CharField(_("impact"), max_length=10, choices=Impact, blank=True)
    # Comma-separated labels such as "legal,media" shown to the agent.
    flags = models.CharField(_("flags"), max_length=200, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=100)
    is_active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("keyword rule")
        verbose_name_plural = _("keyword rules")

    def __str__(self) -> str:
        return self.name


class PriorityMatrix(models.Model):
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency)
    impact = models.CharField(_("impact"), max_length=10, choices=Impact)
    priority = models.ForeignKey(
        "complaints.Priority",
        verbose_name=_("priority"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["urgency", "impact"]
        verbose_name = _("priority grid cell")
        verbose_name_plural = _("priority grid")
        constraints = [
            models.UniqueConstraint(fields=["urgency", "impact"], name="unique_priority_cell")
        ]

    def __str__(self) -> str:
        return f"{self.get_urgency_display()} × {self.get_impact_display()} → {self.priority}"


class TriageProposal(models.Model):
    """What keyword triage proposed for a complaint, and whether the agent kept it."""

    complaint = models.OneToOneField(
        "complaints.Complaint", on_delete=models.CASCADE, related_name="triage_proposal"
    )
    category = models.ForeignKey(
        "complaints.Category", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    product = models.ForeignKey(
        "complaints.Product", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    priority = models.ForeignKey(
        "complaints.Priority", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    team = models.ForeignKey(
        "complaints.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    urgency = models.CharField(max_length=10, choices=Urgency, blank=True)
    impact = models.CharField(max_length=10, choices=Impact, blank=True)
    flags = models.JSONField(default=list, blank=True)
    # [{"rule": id, "name": …, "words": [...]}, …]: why, for the agent and for accuracy.
    matches = models.JSONField(default=list, blank=True)
    rules = models.ManyToManyField(KeywordRule, related_name="proposals", blank=True)
    # Set when the complaint is triaged: did the agent keep what was proposed?
    category_kept = models.BooleanField(null=True)
    priority_kept = models.BooleanField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("triage proposal")
        verbose_name_plural = _("triage proposals")

    def __str__(self) -> str:
        return f"proposal for {self.complaint_id}"


class RoutingRule(models.Model):
    """The first active rule (by order) whose set conditions all match picks the team."""

    name = models.CharField(_("name"), max_length=100)
    order = models.PositiveSmallIntegerField(_("order"), default=100)
    category = models.ForeignKey(
        "complaints.Category",
        verbose_name=_("category (and sub-categories)"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    product = models.ForeignKey(
        "complaints.Product",
        verbose_name=_("product"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    channel = models.CharField(_("channel"), max_length=20, blank=True)
    customer_tier = models.CharField(_("customer tier"), max_length=20, blank=True)
    team = models.ForeignKey(
        "complaints.Team", verbose_name=_("team"), on_delete=models.CASCADE, related_name="+"
    )
    is_active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")

    def __str__(self) -> str:
        return self.name
