"""The SLA clock of a complaint: which policy applies, its deadlines and warning
moments in business time, the pause while the complaint waits for the customer,
and where the clock stands for the screens.

`set_deadlines` and `resume_clock` are called by services/transitions.py inside its
transaction, on the in-memory complaint (the service saves it once afterwards); they
change only the complaint's own fields. The arithmetic is complaints.businesstime's.

Without an applicable SLA policy the clock falls back to wall-clock hours per priority
(settings.COMPLAINT_DEFAULT_SLA_HOURS or DEFAULT_HOURS), so a fresh installation
without configuration still has deadlines.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from complaints import config_cache
from complaints.businesstime import Calendar
from complaints.config_choices import category_chain
from complaints.models import Complaint, SlaPolicy

DEFAULT_HOURS = {  # priority code -> (first response, resolution), wall-clock hours
    "P1": (1, 24),
    "P2": (4, 48),
    "P3": (8, 72),
    "P4": (24, 120),
}
# Warning moment of the wall-clock fallback, in % of the target.
DEFAULT_WARNING_PERCENT = 80


# --- Which policy ----------------------------------------------------------------------


def _category_chain(category_id: int | None) -> list[int]:
    """The category and its ancestors, nearest first (one query for the whole tree:
    the tree is small and walking `.parent` costs a query per level)."""
    if category_id is None:
        return []
    return category_chain(category_id)


def policy_for(complaint: Complaint) -> SlaPolicy | None:
    """The most specific active policy for the complaint's category and priority.

    Ranking, best first: (category or an ancestor, priority), (category or an
    ancestor, any priority), (any category, priority), (any, any); among policies of
    the same rank a nearer ancestor beats a farther one.
    """
    chain = _category_chain(complaint.category_id)
    candidates = [
        policy
        for policy in active_policies()
        if (policy.category_id is None or policy.category_id in chain)
        and (policy.priority_id is None or policy.priority_id == complaint.priority_id)
    ]

    def rank(policy: SlaPolicy) -> tuple[bool, bool, int, int]:
        any_category = policy.category_id is None
        depth = len(chain) if any_category else chain.index(policy.category_id)
        # The pk only makes a tie (two catch-all defaults) deterministic.
        return (any_category, policy.priority_id is None, depth, policy.pk)

    return min(candidates, key=rank, default=None)


def active_policies() -> list[SlaPolicy]:
    """Every active policy with its calendar, kept by config_cache (a handful of rows)."""
    return config_cache.lookup(
        "sla-policies",
        lambda: list(SlaPolicy.objects.filter(is_active=True).select_related("calendar")),
    )


def calendar_for(policy: SlaPolicy, cache: dict[int, Calendar] | None = None) -> Calendar:
    """The policy's business calendar as a `Calendar`: kept by config_cache (which
    listens to calendars and their days), and per `cache` when one is given."""
    if cache is not None and policy.calendar_id in cache:
        return cache[policy.calendar_id]
    calendar = config_cache.lookup(
        f"calendar:{policy.calendar_id}", lambda: Calendar.from_model(policy.calendar)
    )
    if cache is not None:
        cache[policy.calendar_id] = calendar
    return calendar


# --- Deadlines -------------------------------------------------------------------------


def _fallback_targets(complaint: Complaint) -> tuple[timedelta, timedelta] | None:
    if complaint.priority_id is None:
        return None
    table = getattr(settings, "COMPLAINT_DEFAULT_SLA_HOURS", DEFAULT_HOURS)
    hours = table.get(complaint.priority.code)
    if hours is None:
        return None
    return timedelta(hours=hours[0]), timedelta(hours=hours[1])


def targets_for(complaint: Complaint) -> tuple[timedelta, timedelta] | None:
    """The first-response and resolution targets: business time with a policy,
    wall-clock hours without one."""
    policy = policy_for(complaint)
    if policy is not None:
        return (
            timedelta(minutes=policy.first_response_minutes),
            timedelta(minutes=policy.resolution_minutes),
        )
    return _fallback_targets(complaint)


def _share(target: timedelta, percent: int) -> timedelta:
    # Whole seconds: deadlines shown to the minute need no microseconds.
    return timedelta(seconds=int(target.total_seconds()) * percent // 100)


def _apply_targets(complaint: Complaint, start: datetime, *, response: bool) -> bool:
    """Set the resolution (and with `response` the first-response) deadline and warning
    moment from `start`. False when there is neither a policy nor a fallback target."""
    policy = policy_for(complaint)
    complaint.sla_policy = policy
    if policy is not None:
        calendar = calendar_for(policy)
        percent = policy.warning_percent

        def at(target: timedelta) -> datetime:
            return calendar.add(start, target)

        respond = timedelta(minutes=policy.first_response_minutes)
        resolve = timedelta(minutes=policy.resolution_minutes)
    else:
        targets = _fallback_targets(complaint)
        if targets is None:
            return False
        percent = DEFAULT_WARNING_PERCENT

        def at(target: timedelta) -> datetime:
            return start + target

        respond, resolve = targets
    if response:
        complaint.response_due_at = at(respond)
        complaint.response_warn_at = at(_share(respond, percent))
    complaint.resolution_due_at = at(resolve)
    complaint.resolution_warn_at = at(_share(resolve, percent))
    return True


def set_deadlines(complaint: Complaint) -> None:
    """Stage the deadlines and warning moments from the complaint's received time
    (in memory): in business time on the policy's calendar, or the wall-clock
    fallback without a policy."""
    _apply_targets(complaint, complaint.received_at, response=True)


def restart_clock(complaint: Complaint, now: datetime) -> None:
    """A new handling cycle (reopen): the resolution clock starts again from `now`;
    the first-response clock too while nobody has answered (in memory)."""
    _apply_targets(complaint, now, response=complaint.first_response_at is None)


def paused_time(complaint: Complaint, now: datetime, *, calendar: Calendar | None = None):
    """The business time (wall-clock without a policy) the complaint has waited for the
    customer, from `awaiting_since` to `now`."""
    if complaint.awaiting_since is None or now <= complaint.awaiting_since:
        return timedelta(0)
    if complaint.sla_policy_id is None:
        return now - complaint.awaiting_since
    calendar = calendar or calendar_for(complaint.sla_policy)
    return calendar.between(complaint.awaiting_since, now)


def resume_clock(complaint: Complaint, now: datetime) -> None:
    """Move the deadlines and warning moments later by the business time spent
    waiting for the customer (in memory); the first-response ones only while nobody
    has answered."""
    if complaint.awaiting_since is None:
        return
    fields = ["resolution_due_at", "resolution_warn_at"]
    if complaint.first_response_at is None:
        fields += ["response_due_at", "response_warn_at"]
    if complaint.sla_policy_id is None:
        paused = paused_time(complaint, now)
        if paused:
            for name in fields:
                if getattr(complaint, name) is not None:
                    setattr(complaint, name, getattr(complaint, name) + paused)
        return
    calendar = calendar_for(complaint.sla_policy)
    paused = paused_time(complaint, now, calendar=calendar)
    if not paused:
        # Adding nothing could still move a moment that the calendar no longer
        # counts as working time (edited since); leave it.
        return
    for name in fields:
        moment = getattr(complaint, name)
        if moment is not None:
            setattr(complaint, name, calendar.add(moment, paused))


# --- Where the clock stands ------------------------------------------------------------


@dataclass(frozen=True)
class ClockState:
    """One clock (first response or resolution) as of a moment."""

    due_at: datetime
    # Business time left (wall-clock without a policy); negative: overdue by that much.
    remaining: timedelta
    warned: bool
    breached: bool
    # The clock stopped: answered (first response) or resolved/closed (resolution).
    stopped: bool


@dataclass(frozen=True)
class SlaState:
    paused: bool
    response: ClockState | None
    resolution: ClockState | None

    @property
    def breached(self) -> bool:
        return any(c is not None and c.breached for c in (self.response, self.resolution))

    @property
    def warned(self) -> bool:
        return any(c is not None and c.warned for c in (self.response, self.resolution))


def _clock(
    due: datetime | None, warn: datetime | None, at: datetime, stopped: bool, calendar
) -> ClockState | None:
    if due is None:
        return None

    def span(a: datetime, b: datetime) -> timedelta:
        return calendar.between(a, b) if calendar is not None else max(b - a, timedelta(0))

    remaining = span(at, due) if at < due else -span(due, at)
    return ClockState(
        due_at=due,
        remaining=remaining,
        warned=warn is not None and at >= warn,
        breached=at >= due,
        stopped=stopped,
    )


def sla_state(
    complaint: Complaint, now: datetime, *, calendars: dict[int, Calendar] | None = None
) -> SlaState:
    """Where the complaint's clocks stand at `now`, for the screens.

    While the complaint waits for the customer the clocks stand still where they
    were when it started waiting (resuming moves the deadlines by the pause). A
    clock that stopped (answered, resolved) is judged at the moment it stopped.
    Pass the same `calendars` dict for every complaint of a list: each calendar is
    then read once.
    """
    paused = complaint.awaiting_since is not None and complaint.is_open
    at = min(now, complaint.awaiting_since) if paused else now
    calendar = calendar_for(complaint.sla_policy, calendars) if complaint.sla_policy_id else None
    finished = complaint.resolved_at or complaint.closed_at
    resolution_at = min(at, finished) if finished else at
    response_at = min(at, complaint.first_response_at) if complaint.first_response_at else at
    return SlaState(
        paused=paused,
        response=_clock(
            complaint.response_due_at,
            complaint.response_warn_at,
            response_at,
            complaint.first_response_at is not None,
            calendar,
        ),
        resolution=_clock(
            complaint.resolution_due_at,
            complaint.resolution_warn_at,
            resolution_at,
            finished is not None,
            calendar,
        ),
    )
