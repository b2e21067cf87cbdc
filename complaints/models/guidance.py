"""Handling aids: the standard operating procedure (SOP) of a category, versioned, with
the checklist a complaint records against it; and reply templates."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Sop(models.Model):
    """One version of a category's SOP. Editing makes a new version; the checks a
    complaint recorded stay bound to the version they were made against."""

    category = models.ForeignKey(
        "complaints.Category",
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        related_name="sops",
    )
    version = models.PositiveIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=200)
    # The standard steps, in order: a list of strings.
    steps = models.JSONField(_("steps"), default=list)
    # The remedy types (RemedyKind values) this category allows.
    allowed_remedies = models.JSONField(_("allowed remedies"), default=list, blank=True)
    time_limit_hours = models.PositiveIntegerField(_("time limit (hours)"), null=True, blank=True)
    standard_wording = models.TextField(_("standard wording"), blank=True)
    is_current = models.BooleanField(_("current version"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["category", "-version"]
        verbose_name = _("SOP")
        verbose_name_plural = _("SOPs")
        constraints = [
            models.UniqueConstraint(fields=["category", "version"], name="sop_version_unique"),
            models.UniqueConstraint(
                fields=["category"], condition=Q(is_current=True), name="one_current_sop"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"


class SopCheck(models.Model):
    """A step of an SOP version done on a complaint."""

    complaint = models.ForeignKey(
        "complaints.Complaint",
        verbose_name=_("complaint"),
        on_delete=models.CASCADE,
        related_name="sop_checks",
    )
    sop = models.ForeignKey(
        Sop, verbose_name=_("SOP"), on_delete=models.PROTECT, related_name="checks"
    )
    step = models.PositiveSmallIntegerField(_("step"))
    step_text = models.TextField(_("step text"))
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("checked by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    checked_at = models.DateTimeField(_("checked"))

    class Meta:
        ordering = ["sop", "step"]
        verbose_name = _("SOP step done")
        verbose_name_plural = _("SOP steps done")
        constraints = [
            models.UniqueConstraint(
                fields=["complaint", "sop", "step"], name="sop_step_checked_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.complaint_id}: {self.sop_id}#{self.step}"


class ReplyTemplate(models.Model):
    """Wording an agent inserts into a reply. Placeholders in braces, e.g.
    {customer_name}, {tracking_number}, {deadline}: see services/reply_templates.py."""

    name = models.CharField(_("name"), max_length=120)
    # Blank: every category. A template of a category serves its subcategories too.
    category = models.ForeignKey(
        "complaints.Category",
        verbose_name=_("category"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reply_templates",
    )
    # Blank: every language.
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, blank=True
    )
    body = models.TextField(_("text"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("reply template")
        verbose_name_plural = _("reply templates")

    def __str__(self) -> str:
        return self.name
