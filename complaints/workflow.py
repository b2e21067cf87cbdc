"""What is ALLOWED in a complaint's life: states, the transition table, and the
conditions and permission predicates the state machine checks.

The table below is the single source of truth: the @transition decorators on
`Complaint` read it, the services explain refusals from it, and the screens
draw their buttons from it. Nothing here writes to the database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from complaints import roles

if TYPE_CHECKING:
    from complaints.models import Complaint


class ComplaintStatus(models.TextChoices):
    NEW = "new", _("New")
    TRIAGED = "triaged", _("Triaged")
    ASSIGNED = "assigned", _("Assigned")
    IN_PROGRESS = "in_progress", _("In progress")
    AWAITING_CUSTOMER = "awaiting_customer", _("Awaiting customer")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    REOPENED = "reopened", _("Reopened")
    REJECTED = "rejected", _("Rejected")
    MERGED = "merged", _("Merged")


S = ComplaintStatus
# Work is still owed on these; merge targets and queues use them.
OPEN_STATES = frozenset(
    {S.NEW, S.TRIAGED, S.ASSIGNED, S.IN_PROGRESS, S.AWAITING_CUSTOMER, S.REOPENED}
)
# No transition leaves these.
TERMINAL_STATES = frozenset({S.REJECTED, S.MERGED})
# A complaint in these states has an owner.
OWNED_STATES = frozenset({S.ASSIGNED, S.IN_PROGRESS, S.AWAITING_CUSTOMER})
# The SLA clocks run in these states: awaiting_customer is paused, the rest stopped.
CLOCK_STATES = frozenset(OPEN_STATES - {S.AWAITING_CUSTOMER})


# --- Conditions ---------------------------------------------------------------------
# Each condition is a predicate on the complaint alone; its message is the sentence a
# refused user reads ("… is required: a reason is given").


def condition(message: Promise) -> Callable[[Callable], Callable]:
    def decorate(func: Callable) -> Callable:
        func.message = message
        func.__doc__ = str(message)
        return func

    return decorate


@condition(_("a category and a priority are set"))
def has_category_and_priority(complaint: Complaint) -> bool:
    return complaint.category_id is not None and complaint.priority_id is not None


@condition(_("the assignee is an active member of the complaint's team"))
def has_assignee_in_team(complaint: Complaint) -> bool:
    if complaint.assignee_id is None or complaint.team_id is None:
        return False
    return complaint.team.memberships.filter(
        user_id=complaint.assignee_id, user__is_active=True
    ).exists()


@condition(_("a resolution summary and a root cause are recorded"))
def has_resolution(complaint: Complaint) -> bool:
    return bool(complaint.resolution_summary.strip()) and bool(complaint.root_cause)


@condition(_("the remedy offered to the customer is decided"))
def has_remedy_decision(complaint: Complaint) -> bool:
    return bool(complaint.remedy_decision.strip())


@condition(_("the customer is told the result (email or phone on file, or told in person)"))
def customer_was_told(complaint: Complaint) -> bool:
    return complaint.customer_notified_at is not None


@condition(_("no remedy is still waiting for a supervisor's approval"))
def no_remedy_awaiting_approval(complaint: Complaint) -> bool:
    if complaint.pk is None:
        return True
    return not complaint.remedies.filter(status="pending").exists()


@condition(
    _(
        "the customer's answer is recorded (survey or call-back), or a supervisor "
        "closes with a reason"
    )
)
def has_loop_outcome(complaint: Complaint) -> bool:
    return bool(complaint.loop_outcome)


@condition(_("a reason is given"))
def has_reason(complaint: Complaint) -> bool:
    return bool(complaint.status_reason.strip())


@condition(_("the recourse offered to the customer is recorded (e.g. 12315)"))
def has_recourse(complaint: Complaint) -> bool:
    return bool(complaint.recourse.strip())


@condition(_("a closed complaint is still within its reopen window"))
def is_within_reopen_window(complaint: Complaint) -> bool:
    if complaint.status != S.CLOSED:
        return True
    if complaint.closed_at is None:
        return False
    return timezone.now() - complaint.closed_at <= settings.COMPLAINT_REOPEN_WINDOW


@condition(_("the complaint it is merged into is another, open complaint"))
def has_open_merge_target(complaint: Complaint) -> bool:
    target = complaint.merged_into
    return (
        target is not None
        and target.pk != complaint.pk
        and target.status in OPEN_STATES
        and target.merged_into_id is None
    )


# --- Permission predicates ------------------------------------------------------------
# (complaint, user) -> bool, evaluated on the complaint as stored, before the service
# stages the transition's inputs. Visibility (may this user see the complaint at all) is
# checked first, by the service, through complaints.permissions.


def _is_assignee(complaint: Complaint, user: Any) -> bool:
    return complaint.assignee_id is not None and complaint.assignee_id == getattr(user, "pk", None)


def by_system_agent_or_supervisor(complaint: Complaint, user: Any) -> bool:
    return roles.is_system(user) or roles.is_agent(user) or roles.is_supervisor(user)


def by_agent_or_supervisor(complaint: Complaint, user: Any) -> bool:
    return roles.is_agent(user) or roles.is_supervisor(user)


def by_assignee(complaint: Complaint, user: Any) -> bool:
    return _is_assignee(complaint, user)


def by_assignee_or_system(complaint: Complaint, user: Any) -> bool:
    return roles.is_system(user) or _is_assignee(complaint, user)


def by_assignee_or_supervisor(complaint: Complaint, user: Any) -> bool:
    return roles.is_supervisor(user) or _is_assignee(complaint, user)


def by_system_or_supervisor(complaint: Complaint, user: Any) -> bool:
    return roles.is_system(user) or roles.is_supervisor(user)


def by_supervisor(complaint: Complaint, user: Any) -> bool:
    return roles.is_supervisor(user)


# --- The transition table -------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    name: str
    label: Promise
    sources: tuple[str, ...]
    target: str
    permission: Callable[[Complaint, Any], bool]
    who: Promise  # who may, in words, for a refusal message
    conditions: list[Callable[[Complaint], bool]] = field(default_factory=list)
    # The keyword arguments its service takes besides complaint and actor (forms, API).
    inputs: tuple[str, ...] = ()
    # Keyword arguments only the system passes (never a form or API field).
    system_inputs: tuple[str, ...] = ()


TRANSITIONS: dict[str, Rule] = {
    rule.name: rule
    for rule in [
        Rule(
            "triage",
            _("Triage"),
            (S.NEW,),
            S.TRIAGED,
            by_system_agent_or_supervisor,
            _("agents, supervisors and the system"),
            [has_category_and_priority],
            ("category", "priority", "product", "team", "reason"),
        ),
        Rule(
            "assign",
            _("Assign"),
            (S.TRIAGED, S.REOPENED),
            S.ASSIGNED,
            by_system_agent_or_supervisor,
            _("supervisors and the system; an agent claims for themself"),
            [has_assignee_in_team],
            ("assignee", "team", "reason"),
        ),
        Rule(
            "start",
            _("Start handling"),
            (S.ASSIGNED,),
            S.IN_PROGRESS,
            by_assignee,
            _("the assignee"),
        ),
        Rule(
            "await_customer",
            _("Ask the customer"),
            (S.IN_PROGRESS,),
            S.AWAITING_CUSTOMER,
            by_assignee,
            _("the assignee"),
            [has_reason],
            ("question",),
        ),
        Rule(
            "resume",
            _("Resume"),
            (S.AWAITING_CUSTOMER,),
            S.IN_PROGRESS,
            by_assignee_or_system,
            _("the assignee and the system"),
            inputs=("reason",),
        ),
        Rule(
            "reassign",
            _("Reassign"),
            (S.ASSIGNED, S.IN_PROGRESS, S.AWAITING_CUSTOMER),
            S.ASSIGNED,
            by_assignee_or_supervisor,
            _("supervisors and the assignee"),
            [has_reason, has_assignee_in_team],
            ("assignee", "reason"),
        ),
        Rule(
            "release",
            _("Hand back to the queue"),
            (S.ASSIGNED, S.IN_PROGRESS, S.AWAITING_CUSTOMER),
            S.TRIAGED,
            by_assignee_or_supervisor,
            _("supervisors and the assignee"),
            [has_reason],
            ("reason",),
        ),
        Rule(
            "resolve",
            _("Resolve"),
            (S.IN_PROGRESS,),
            S.RESOLVED,
            by_assignee_or_supervisor,
            _("the assignee and supervisors"),
            [has_resolution, has_remedy_decision, no_remedy_awaiting_approval, customer_was_told],
            ("summary", "root_cause", "remedy", "told_customer"),
        ),
        Rule(
            "close",
            _("Close"),
            (S.RESOLVED,),
            S.CLOSED,
            by_system_or_supervisor,
            _("the system (loop complete) and supervisors (override)"),
            [has_reason, has_resolution, customer_was_told, has_loop_outcome],
            ("reason",),
            system_inputs=("outcome",),
        ),
        Rule(
            "reopen",
            _("Reopen"),
            (S.RESOLVED, S.CLOSED),
            S.REOPENED,
            by_system_agent_or_supervisor,
            _("agents, supervisors and the system"),
            [has_reason, is_within_reopen_window],
            ("reason",),
        ),
        Rule(
            "reject",
            _("Reject"),
            (S.NEW, S.TRIAGED),
            S.REJECTED,
            by_supervisor,
            _("supervisors"),
            [has_reason, has_recourse],
            ("reason", "recourse"),
        ),
        Rule(
            "merge",
            _("Merge into another complaint"),
            tuple(sorted(OPEN_STATES)),
            S.MERGED,
            by_agent_or_supervisor,
            _("agents and supervisors"),
            [has_open_merge_target],
            ("target", "reason"),
        ),
    ]
}


def rule_for(name: str) -> Rule:
    try:
        return TRANSITIONS[name]
    except KeyError:
        raise LookupError(f"unknown transition {name!r}") from None


def failed_conditions(complaint: Complaint, name: str) -> list[str]:
    """The messages of the conditions of transition `name` that `complaint` fails."""
    return [str(cond.message) for cond in rule_for(name).conditions if not cond(complaint)]
