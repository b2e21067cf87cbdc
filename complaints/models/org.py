"""People and teams: users, front-line teams and collaborating departments."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class User(AbstractUser):
    """A staff user. Customers have no account (see Customer)."""

    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    language = models.CharField(
        _("language"),
        max_length=10,
        choices=settings.LANGUAGES,
        blank=True,
        help_text=_("The interface language; empty follows the browser."),
    )
    is_away = models.BooleanField(
        _("away"), default=False, help_text=_("Away agents get no automatic assignments.")
    )
    # Role, team and activation changes are audited; secrets and log-in times are not.
    history = HistoricalRecords(excluded_fields=["password", "last_login"], m2m_fields=["groups"])

    class Meta(AbstractUser.Meta):
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username


class Team(models.Model):
    class Kind(models.TextChoices):
        FRONT_LINE = "front_line", _("Front-line team")
        DEPARTMENT = "department", _("Collaborating department")

    class Strategy(models.TextChoices):
        MANUAL = "manual", _("Manual")
        ROUND_ROBIN = "round_robin", _("Round-robin")
        LEAST_LOADED = "least_loaded", _("Least loaded")

    class Visibility(models.TextChoices):
        OWN_TEAM = "own_team", _("Their team's complaints only")
        ALL = "all", _("All complaints")

    name = models.CharField(_("name"), max_length=100, unique=True)
    code = models.SlugField(_("code"), max_length=50, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind, default=Kind.FRONT_LINE)
    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("supervisor"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="supervised_teams",
    )
    # Level 2 of the escalation ladder for this team's complaints.
    head = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("department head"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="headed_teams",
    )
    calendar = models.ForeignKey(
        "complaints.BusinessCalendar",
        verbose_name=_("business calendar"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # Departments: how long they have to answer a collaboration request.
    collaboration_minutes = models.PositiveIntegerField(
        _("answers collaboration requests within (business minutes)"), default=240
    )
    assignment_strategy = models.CharField(
        _("assignment strategy"), max_length=20, choices=Strategy, default=Strategy.MANUAL
    )
    visibility = models.CharField(
        _("members see"), max_length=20, choices=Visibility, default=Visibility.OWN_TEAM
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="TeamMembership",
        related_name="teams",
        verbose_name=_("members"),
    )
    is_active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class TeamMembership(models.Model):
    team = models.ForeignKey(
        Team, verbose_name=_("team"), on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    joined_at = models.DateTimeField(_("joined"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("team membership")
        verbose_name_plural = _("team memberships")
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="unique_team_membership")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.team}"
