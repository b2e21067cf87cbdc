"""The complaint and its state machine.

Transition methods change only the complaint's own fields in memory; the services
in complaints/services/transitions.py are their only callers and do the rest
(access, save, logs, notifications). See STYLE.md, "three tiers".
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from simple_history.models import HistoricalRecords

from complaints.workflow import CLOCK_STATES, OPEN_STATES, TRANSITIONS, ComplaintStatus


class Channel(models.TextChoices):
    WEB = "web", _("Web form")
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")
    IN_STORE = "in_store", _("In store")
    SOCIAL = "social", _("Social media / IM")
    API = "api", _("API")
    IMPORTED = "imported", _("Imported")


class Demand(models.TextChoices):
    REFUND = "refund", _("Refund")
    REPLACEMENT = "replacement", _("Replacement")
    REPAIR = "repair", _("Repair")
    COMPENSATION = "compensation", _("Compensation")
    APOLOGY = "apology", _("Apology")
    EXPLANATION = "explanation", _("Explanation")
    OTHER = "other", _("Other")


class LoopOutcome(models.TextChoices):
    """How the loop closed: the customer's answer, or a supervisor's override."""

    SURVEY = "survey", _("Survey: satisfied")
    CALLBACK = "callback", _("Call-back: satisfied")
    NO_RESPONSE = "no_response", _("No response after call-backs")
    OVERRIDE = "override", _("Closed by a supervisor")


class RootCause(models.TextChoices):
    PRODUCT_DEFECT = "product_defect", _("Product defect")
    SERVICE = "service", _("Service failure")
    LOGISTICS = "logistics", _("Logistics")
    BILLING = "billing", _("Billing error")
    POLICY = "policy", _("Policy or process")
    THIRD_PARTY = "third_party", _("Third party")
    MISUNDERSTANDING = "misunderstanding", _("Customer misunderstanding")
    OTHER = "other", _("Other")


def _rule_kwargs(name: str) -> dict:
    rule = TRANSITIONS[name]
    return {
        "field": "status",
        "source": list(rule.sources),
        "target": rule.target,
        "conditions": rule.conditions,
        "permission": rule.permission,
        "custom": {"label": rule.label},
    }


class Complaint(ConcurrentTransitionMixin, models.Model):
    tracking_number = models.CharField(_("tracking number"), max_length=40, unique=True)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"))
    demand = models.CharField(_("customer demand"), max_length=20, choices=Demand)
    demand_detail = models.TextField(_("demand details"), blank=True)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel)
    order_number = models.CharField(_("order number"), max_length=64, blank=True)
    language = models.CharField(_("customer language"), max_length=10, blank=True)

    customer = models.ForeignKey(
        "complaints.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="complaints",
        db_index=False,  # complaint_customer_received leads with it
    )
    category = models.ForeignKey(
        "complaints.Category",
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints",
        db_index=False,  # complaint_category_received leads with it
    )
    product = models.ForeignKey(
        "complaints.Product",
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints",
    )
    priority = models.ForeignKey(
        "complaints.Priority",
        verbose_name=_("priority"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints",
    )
    team = models.ForeignKey(
        "complaints.Team",
        verbose_name=_("team"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints",
        db_index=False,  # complaint_team_status and complaint_team_received lead with it
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_complaints",
        db_index=False,  # complaint_assignee_status leads with it
    )

    # Only the transition methods below change this (protected=True raises on assignment).
    status = FSMField(
        _("status"),
        max_length=20,
        choices=ComplaintStatus,
        default=ComplaintStatus.NEW,
        protected=True,
        db_index=True,
    )
    # Why the complaint is in its current status (reassign/reopen/close reason,
    # the question put to the customer…). Set by the service before each transition.
    status_reason = models.TextField(_("status reason"), blank=True)
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0)

    resolution_summary = models.TextField(_("resolution summary"), blank=True)
    root_cause = models.CharField(_("root cause"), max_length=20, choices=RootCause, blank=True)
    remedy_decision = models.TextField(_("remedy decided"), blank=True)
    recourse = models.TextField(
        _("recourse offered"),
        blank=True,
        help_text=_("Where the customer may turn if they disagree (e.g. 12315)."),
    )
    # When the customer was told the result of the current handling round.
    customer_notified_at = models.DateTimeField(_("customer told"), null=True, blank=True)
    loop_outcome = models.CharField(
        _("how the loop closed"), max_length=20, choices=LoopOutcome, blank=True
    )
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_complaints",
    )
    reopen_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    # A new complaint about a problem the customer complained about before (closed).
    repeat_of = models.ForeignKey(
        "self",
        verbose_name=_("repeat of"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="repeats",
    )

    received_at = models.DateTimeField(_("received"), default=timezone.now, db_index=True)
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    # Deadlines of the SLA clock; moved later while the clock is paused (awaiting customer).
    response_due_at = models.DateTimeField(_("respond by"), null=True, blank=True, db_index=True)
    resolution_due_at = models.DateTimeField(_("resolve by"), null=True, blank=True, db_index=True)
    sla_policy = models.ForeignKey(
        "complaints.SlaPolicy",
        verbose_name=_("SLA policy"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # When the sweep warns (a share of the time elapsed); moved with the deadlines.
    # Indexed only where the sweep looks (the partial indexes `complaint_sla_*`).
    response_warn_at = models.DateTimeField(_("warn on response at"), null=True, blank=True)
    resolution_warn_at = models.DateTimeField(_("warn on resolution at"), null=True, blank=True)
    awaiting_since = models.DateTimeField(_("awaiting customer since"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # Imports: the source row's key (source system id, or a hash of the row), so a
    # file imported twice creates nothing the second time.
    import_key = models.CharField(_("import key"), max_length=100, blank=True, editable=False)
    # Bumped by every service save: a stale copy is refused (optimistic concurrency),
    # also for edits that do not change the status.
    version = models.PositiveIntegerField(default=1, editable=False)

    # History rows are read by complaint (`id`) and by `history_date` only: the copies
    # of the other indexes would cost every save of a complaint ~18 index updates.
    history = HistoricalRecords(
        excluded_fields=["version", "updated_at"],
        no_db_index=[
            "tracking_number",
            "status",
            "received_at",
            "response_due_at",
            "resolution_due_at",
            "response_warn_at",
            "resolution_warn_at",
            "customer",
            "category",
            "product",
            "priority",
            "team",
            "assignee",
            "merged_into",
            "repeat_of",
            "sla_policy",
        ],
    )

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        indexes = [
            models.Index(fields=["team", "status"], name="complaint_team_status"),
            models.Index(fields=["assignee", "status"], name="complaint_assignee_status"),
            # The dashboard's periods and filters, and the 30-day repeat check.
            models.Index(fields=["resolved_at"], name="complaint_resolved_at"),
            models.Index(fields=["first_response_at"], name="complaint_first_response_at"),
            models.Index(fields=["team", "received_at"], name="complaint_team_received"),
            models.Index(fields=["category", "received_at"], name="complaint_category_received"),
            models.Index(fields=["customer", "received_at"], name="complaint_customer_received"),
            # The queues of open work, in their default order (soonest deadline first).
            models.Index(
                "team",
                "resolution_due_at",  # ascending: NULLs last on PostgreSQL, as the queue sorts
                "received_at",
                name="complaint_open_team_due",
                condition=Q(status__in=sorted(OPEN_STATES)),
            ),
            models.Index(
                "assignee",
                "resolution_due_at",  # ascending: NULLs last on PostgreSQL, as the queue sorts
                "received_at",
                name="complaint_open_assignee_due",
                condition=Q(status__in=sorted(OPEN_STATES)),
            ),
            # The SLA sweep, one per rule (services/sweep.py:crossing_candidates): only
            # complaints whose clock runs, with what the sweep reads, so its every-minute
            # look is an index-only range scan instead of a visit to every open row.
            *(
                models.Index(
                    fields=[moment],
                    name=f"complaint_sla_{name}",
                    include=["id", "reopen_count", *([deadline] if moment != deadline else [])],
                    condition=Q(status__in=sorted(CLOCK_STATES), **{f"{deadline}__isnull": False})
                    & (Q(first_response_at__isnull=True) if response else Q()),
                )
                for name, moment, deadline, response in (
                    ("response_warn", "response_warn_at", "response_due_at", True),
                    ("response_due", "response_due_at", "response_due_at", True),
                    ("resolution_warn", "resolution_warn_at", "resolution_due_at", False),
                    ("resolution_due", "resolution_due_at", "resolution_due_at", False),
                )
            ),
        ]
        constraints = [
            # An owner exactly while someone must be working on it.
            models.CheckConstraint(
                condition=~Q(status__in=["assigned", "in_progress", "awaiting_customer"])
                | Q(assignee__isnull=False),
                name="complaint_owned_states_have_assignee",
            ),
            models.CheckConstraint(
                condition=~Q(status="merged") | Q(merged_into__isnull=False),
                name="complaint_merged_has_target",
            ),
            models.CheckConstraint(
                condition=~Q(merged_into=models.F("id")),
                name="complaint_not_merged_into_itself",
            ),
            models.UniqueConstraint(
                fields=["import_key"], condition=~Q(import_key=""), name="complaint_import_once"
            ),
            # The loop is closed only when the customer was told the result and
            # answered (survey, call-back), or a supervisor overrode with a reason.
            models.CheckConstraint(
                condition=~Q(status="closed")
                | (
                    ~Q(resolution_summary="")
                    & ~Q(root_cause="")
                    & Q(customer_notified_at__isnull=False)
                    & ~Q(loop_outcome="")
                    & ~Q(status_reason="")
                ),
                name="complaint_closed_loop_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tracking_number} {self.title}"

    # --- Transitions: own fields only, no I/O (see the module docstring) ---------------

    @transition(**_rule_kwargs("triage"))
    def triage(self) -> None:
        pass

    @transition(**_rule_kwargs("assign"))
    def assign(self) -> None:
        pass

    @transition(**_rule_kwargs("start"))
    def start(self) -> None:
        pass

    @transition(**_rule_kwargs("await_customer"))
    def await_customer(self) -> None:
        self.awaiting_since = timezone.now()

    @transition(**_rule_kwargs("resume"))
    def resume(self) -> None:
        self.awaiting_since = None

    @transition(**_rule_kwargs("reassign"))
    def reassign(self) -> None:
        self.awaiting_since = None

    @transition(**_rule_kwargs("release"))
    def release(self) -> None:
        self.assignee = None
        self.awaiting_since = None

    @transition(**_rule_kwargs("resolve"))
    def resolve(self) -> None:
        self.resolved_at = timezone.now()
        self.loop_outcome = ""

    @transition(**_rule_kwargs("close"))
    def close(self) -> None:
        self.closed_at = timezone.now()

    @transition(**_rule_kwargs("reopen"))
    def reopen(self) -> None:
        # Second handling starts from the queue: someone is assigned again (the
        # timeline keeps who handled it before).
        self.assignee = None
        self.reopen_count += 1
        self.resolved_at = None
        self.closed_at = None
        self.customer_notified_at = None
        self.loop_outcome = ""

    @transition(**_rule_kwargs("reject"))
    def reject(self) -> None:
        self.closed_at = timezone.now()

    @transition(**_rule_kwargs("merge"))
    def merge(self) -> None:
        self.awaiting_since = None
        self.closed_at = timezone.now()

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATES
