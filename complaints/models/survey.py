"""The satisfaction survey (满意度回访): the customer's answer after a resolution.

One answer per complaint and handling round (`cycle` = the complaint's reopen_count
when it was resolved), enforced by the database.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

MAX_COMMENT = 2000


class SurveyResponse(models.Model):
    complaint = models.ForeignKey(
        "complaints.Complaint",
        verbose_name=_("complaint"),
        on_delete=models.CASCADE,
        related_name="survey_responses",
    )
    cycle = models.PositiveSmallIntegerField(_("handling round"))
    rating = models.PositiveSmallIntegerField(_("rating"))
    solved = models.BooleanField(_("problem solved"))
    comment = models.TextField(_("comment"), max_length=MAX_COMMENT, blank=True)
    answered_at = models.DateTimeField(_("answered"), db_index=True)

    class Meta:
        ordering = ["-answered_at", "-pk"]
        verbose_name = _("survey response")
        verbose_name_plural = _("survey responses")
        constraints = [
            models.UniqueConstraint(
                fields=["complaint", "cycle"], name="one_survey_response_per_cycle"
            ),
            models.CheckConstraint(
                condition=Q(rating__gte=1) & Q(rating__lte=5),
                name="survey_rating_1_to_5",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.complaint_id}#{self.cycle} {self.rating}/5"
