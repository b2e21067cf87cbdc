"""`manage.py seed_demo`: demo data for a laptop or a throwaway database.

Users whose password is their user name (admin, supervisor, agent, agent2, tech),
teams and departments, a category tree, products, and a few hundred complaints in
Chinese and English in every state of the lifecycle. Every complaint is received
and moved through its states by the real services, with the actors the rules
expect, so its status changes, timeline and history are what real use leaves
behind. The service timestamps are "now"; only `received_at` lies in the past.

Idempotent: configuration rows are found by their natural keys, and complaints are
created only while no demo complaint exists (demo customers carry an external id
of the system "seed_demo"). Refused when DEBUG is off, unless --force (for tests
and throwaway databases).
"""

from __future__ import annotations

import random
import time
from collections import Counter
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from complaints import demo_data as data
from complaints import permissions, roles
from complaints.demo_data import DEMO_SYSTEM, Plan, plan_complaints
from complaints.errors import ServiceError
from complaints.models import (
    CallbackResult,
    Category,
    Complaint,
    Customer,
    CustomerExternalId,
    Priority,
    Product,
    Team,
    TeamMembership,
    User,
)
from complaints.services import callbacks, intake, messages, notifications, survey, triage
from complaints.services import transitions as t
from complaints.workflow import OPEN_STATES, ComplaintStatus

S = ComplaintStatus
DEFAULT_SEED = 20261123

# Demo customers are invented: without --notify nothing is queued for them (a
# laptop's worker would otherwise print ~2,000 mails).


def demo_complaints():
    return Complaint.objects.filter(customer__external_ids__system=DEMO_SYSTEM).distinct()


class Command(BaseCommand):
    help = (
        "Create demo users (password = user name), teams, categories, products and "
        "complaints in every state. Idempotent. Refused when DEBUG is off unless --force."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--complaints",
            type=int,
            default=300,
            metavar="N",
            help="How many demo complaints to create when there are none yet (default 300).",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=DEFAULT_SEED,
            help="Seed of the random generator, for reproducible data.",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even when DEBUG is off: for tests and throwaway databases only.",
        )
        parser.add_argument(
            "--notify",
            action="store_true",
            help="Queue the customer notifications (acknowledgments, status mails, replies) "
            "as real use does. Off by default: demo customers are invented.",
        )

    def handle(self, *args, complaints: int, seed: int, force: bool, notify: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates users whose password is their user name, so it refuses "
                "to run when DEBUG is off. Use --force only for tests and throwaway databases."
            )
        if complaints < 0:
            raise CommandError("--complaints must be 0 or more.")
        started = time.monotonic()
        with transaction.atomic():
            org = Organisation.ensure()
            # Starter keyword rules and the urgency × impact grid (idempotent).
            triage.triage_install_defaults()
        created = ", ".join(f"{kind} +{n}" for kind, n in org.created.items())

        existing = demo_complaints().count()
        if existing:
            self.stdout.write(
                f"Demo data already present ({created}); {existing} demo complaints exist, "
                f"none created ({_per_status()}) in {time.monotonic() - started:.1f} s."
            )
            return
        plans = plan_complaints(complaints, rng=random.Random(seed), now=timezone.now())
        with nullcontext() if notify else notifications.muted():
            Seeder(org, rng=random.Random(seed + 1)).run(plans)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data seeded ({created}); complaints +{demo_complaints().count()} "
                f"({_per_status()}) in {time.monotonic() - started:.1f} s."
            )
        )


def _per_status() -> str:
    counts = dict(
        demo_complaints().order_by().values_list("status").annotate(n=Count("pk", distinct=True))
    )
    return ", ".join(f"{status} {counts.get(status, 0)}" for status in S.values)


# --- Configuration ----------------------------------------------------------------------

# Business-minute targets per priority: (first response, resolution).
SLA_TARGETS = {
    "P1": (60, 8 * 60),
    "P2": (4 * 60, 2 * 9 * 60),
    "P3": (9 * 60, 3 * 9 * 60),
    "P4": (2 * 9 * 60, 5 * 9 * 60),
}
# Minutes an unsettled escalation stays at a level before it climbs, per priority.
LADDER = {"P1": (30, 120), "P2": (120, 480), "P3": (480, 1440), "P4": (1440, 2880)}


def _ensure_sla(teams: dict) -> int:
    """A China mainland calendar with 2026's official holidays and make-up days, SLA
    policies per priority, the escalation ladder; departments answer within 2 hours."""
    from complaints.models import BusinessCalendar, EscalationStep, SlaPolicy
    from complaints.services.calendars import calendar_load_holidays

    calendar, new_calendar = BusinessCalendar.objects.get_or_create(name="中国大陆 China mainland")
    if new_calendar:
        for year in (2026, 2027):
            calendar_load_holidays(calendar=calendar, country="CN", year=year)
    created = 0
    for code, (respond, resolve) in SLA_TARGETS.items():
        priority = Priority.objects.get(code=code)
        _, new = SlaPolicy.objects.get_or_create(
            category=None,
            priority=priority,
            defaults={
                "name": f"{code} 标准 standard",
                "calendar": calendar,
                "first_response_minutes": respond,
                "resolution_minutes": resolve,
                "warning_percent": 80,
            },
        )
        created += new
        for level, minutes in enumerate(LADDER[code], start=1):
            EscalationStep.objects.get_or_create(
                priority=priority, level=level, defaults={"climb_after_minutes": minutes}
            )
    for team in teams.values():
        if team.calendar_id is None:
            team.calendar = calendar
            if team.kind == Team.Kind.DEPARTMENT:
                team.collaboration_minutes = 120
            team.save(update_fields=["calendar", "collaboration_minutes"])
    return created


@dataclass
class Organisation:
    users: dict[str, User]
    teams: dict[str, Team]
    categories: dict[str, Category]
    products: dict[str, Product]
    priorities: dict[str, Priority]
    created: Counter = field(default_factory=Counter)

    @classmethod
    def ensure(cls) -> Organisation:
        """Find or create every configuration row of the demo, by natural key."""
        created: Counter = Counter({"users": 0, "teams": 0, "categories": 0, "products": 0})
        priorities = {p.code: p for p in Priority.objects.all()}
        groups = {g.name: g for g in Group.objects.filter(name__in=roles.ALL_ROLES)}
        missing = ({"P1", "P2", "P3", "P4"} - set(priorities)) | (
            set(roles.ALL_ROLES) - set(groups)
        )
        if missing:
            raise CommandError(
                f"Missing {', '.join(sorted(missing))} (created by migrations): run migrate first."
            )

        users = {}
        for spec in data.USERS:
            user, new = User.objects.get_or_create(
                username=spec.username,
                defaults={
                    "display_name": spec.display_name,
                    "email": f"{spec.username}@example.com",
                    "is_staff": spec.is_staff,
                    "is_superuser": spec.is_superuser,
                },
            )
            if new:
                # Deliberately weak (password = user name): no validators for demo users.
                user.set_password(spec.username)
                user.save(update_fields=["password"])
            user.groups.add(groups[spec.role])
            users[spec.username] = user
            created["users"] += new

        teams = {}
        for spec in data.TEAMS:
            team, new = Team.objects.get_or_create(
                code=spec.code,
                defaults={
                    "name": spec.name,
                    "kind": spec.kind,
                    "supervisor": users[spec.supervisor] if spec.supervisor else None,
                },
            )
            for username in spec.members:
                TeamMembership.objects.get_or_create(team=team, user=users[username])
            teams[spec.code] = team
            created["teams"] += new

        categories: dict[str, Category] = {}
        for order, spec in enumerate(data.CATEGORIES):
            category, new = Category.objects.get_or_create(
                code=spec.code,
                defaults={
                    "name": spec.name,
                    "parent": categories[spec.parent] if spec.parent else None,
                    "default_team": teams[spec.default_team],
                    "sort_order": order,
                },
            )
            categories[spec.code] = category
            created["categories"] += new

        products = {}
        for spec in data.PRODUCTS:
            product, new = Product.objects.get_or_create(
                sku=spec.sku,
                defaults={"name": spec.name, "category": categories[data.PRODUCT_CATEGORY]},
            )
            products[spec.sku] = product
            created["products"] += new

        created["SLA policies"] += _ensure_sla(teams)
        return cls(users, teams, categories, products, priorities, created)


# --- Complaints ---------------------------------------------------------------------------


class Seeder:
    """Creates the planned complaints through the services, one transaction each."""

    def __init__(self, org: Organisation, *, rng: random.Random):
        self.org = org
        self.rng = rng
        self.supervisor = org.users["supervisor"]
        self.agents = [org.users["agent"], org.users["agent2"]]
        # The same user objects throughout: roles and team ids are cached on them.
        self.by_pk = {u.pk: u for u in org.users.values()}
        members = TeamMembership.objects.filter(team__in=org.teams.values())
        self.members: dict[int, list[User]] = {}
        for team_id, user_id in members.order_by("pk").values_list("team_id", "user_id"):
            self.members.setdefault(team_id, []).append(self.by_pk[user_id])
        self.created: list[tuple[Complaint, Plan]] = []
        self.marked: set[str] = set()

    def run(self, plans: list[Plan]) -> None:
        # Duplicates come last: they are merged into complaints that must exist and be open.
        regular = sorted((p for p in plans if p.final != S.MERGED), key=lambda p: p.received_at)
        for plan in regular + [p for p in plans if p.final == S.MERGED]:
            try:
                with transaction.atomic():
                    if plan.final == S.MERGED:
                        self._duplicate(plan)
                    else:
                        complaint = self._receive(plan)
                        self.created.append((complaint, plan))
                        self._drive(complaint, plan)
            except ServiceError as exc:
                raise CommandError(
                    f"A service refused a step of a demo complaint meant to end "
                    f"{plan.final!r} ({plan.texts['title']}): {exc}"
                ) from exc

    # --- Helpers ----------------------------------------------------------------------

    def _chance(self, p: float) -> bool:
        return self.rng.random() < p

    def _pick(self, items):
        return self.rng.choice(items)

    def _agents_of(self, complaint: Complaint) -> list[User]:
        team = self.members.get(complaint.team_id, [])
        return [u for u in team if roles.is_agent(u)] or team or [self.supervisor]

    def _assignee(self, complaint: Complaint) -> User:
        return self.by_pk[complaint.assignee_id]

    def _receive(self, plan: Plan) -> Complaint:
        spec = plan.customer
        customer = intake.customer_find_or_create(
            name=spec.name,
            phone=self._pick(spec.typed_phones),
            email=spec.email,
            language=spec.lang,
        )
        self._mark(customer, spec)
        product = self.org.products[plan.product.sku] if plan.product else None
        recorded_by_staff = plan.channel in ("phone", "in_store")
        return intake.complaint_create(
            actor=self._pick(self.agents) if recorded_by_staff else None,
            channel=plan.channel,
            customer=customer,
            title=plan.texts["title"],
            description=plan.texts["description"],
            demand=plan.scenario.demand,
            demand_detail=plan.texts["demand_detail"],
            order_number=plan.order if self._chance(0.6) else "",
            # Web forms and staff ask which product; other channels leave it to triage.
            product=product if plan.channel in ("web", "phone", "in_store") else None,
            language=plan.lang,
            received_at=plan.received_at,
        )

    def _mark(self, customer: Customer, spec) -> None:
        if spec.key in self.marked:
            return
        self.marked.add(spec.key)
        CustomerExternalId.objects.get_or_create(
            system=DEMO_SYSTEM, value=spec.key, defaults={"customer": customer}
        )
        if spec.tier != customer.tier and customer.tier == Customer.Tier.STANDARD:
            customer.tier = spec.tier
            customer.save(update_fields=["tier"])

    # --- The lifecycle ----------------------------------------------------------------

    def _drive(self, c: Complaint, plan: Plan) -> None:
        """Move c to plan.final along a path real work takes."""
        final, lang = plan.final, plan.lang
        if final == S.NEW:
            if self._chance(0.15):
                self._customer_says(c, data.CHASERS[lang])
            return
        if final == S.REJECTED:
            if self._chance(0.5):
                self._triage(c, plan)
            reason = (
                data.REJECT_INQUIRY[lang]
                if plan.scenario.inquiry
                else self._pick(data.REJECT_OTHER[lang])
            )
            t.complaint_reject(
                complaint=c, actor=self.supervisor, reason=reason, recourse=data.RECOURSE[lang]
            )
            return
        self._triage(c, plan)
        if final == S.TRIAGED:
            if self._chance(0.2):
                self._note(c, plan, actor=self.supervisor)
            return
        self._assign(c)
        if final == S.ASSIGNED:
            if self._chance(0.2):
                self._reassign(c, lang)
            return
        self._start(c, plan)
        if final == S.AWAITING_CUSTOMER:
            self._await(c, plan)
            return
        if self._chance(0.25):
            answer = self._await(c, plan)
            self._customer_says(c, (answer,))  # the system resumes the complaint
        if final == S.IN_PROGRESS:
            roll = self.rng.random()
            if roll < 0.12 and self._reassign(c, lang):
                t.complaint_start(complaint=c, actor=self._assignee(c))
            elif roll < 0.2:
                reason = self._pick(data.RELEASE_REASONS[lang])
                t.complaint_release(complaint=c, actor=self._assignee(c), reason=reason)
                self._assign(c)
                t.complaint_start(complaint=c, actor=self._assignee(c))
            elif roll < 0.35:
                self._customer_says(c, data.CHASERS[lang])
            return
        self._resolve(c, plan)
        if final == S.RESOLVED:
            if self._chance(0.2):
                self._customer_says(c, data.THANKS[lang])
            return
        if final == S.CLOSED:
            if self._chance(0.15):
                # Second handling (二次处理): the survey came back unsatisfied.
                t.complaint_reopen(
                    complaint=c, actor=roles.SYSTEM, reason=data.REOPEN_BY_SYSTEM[lang]
                )
                self._assign(c, by_supervisor=True)
                self._start(c, plan)
                t.complaint_resolve(
                    complaint=c,
                    actor=self._assignee(c),
                    summary=data.SECOND_RESOLUTION[lang],
                    root_cause=plan.scenario.root_cause,
                    remedy=plan.texts["remedy"],
                )
            self._close(c, lang)
            return
        # S.REOPENED
        if self._chance(0.4):
            self._close(c, lang)
            t.complaint_reopen(
                complaint=c, actor=self._assignee(c), reason=data.REOPEN_BY_AGENT[lang]
            )
        else:
            t.complaint_reopen(complaint=c, actor=roles.SYSTEM, reason=data.REOPEN_BY_SYSTEM[lang])

    def _triage(self, c: Complaint, plan: Plan) -> None:
        safety = plan.scenario.category == "safety"
        if (safety and self._chance(0.7)) or self._chance(0.15):
            actor = roles.SYSTEM
            reason = (data.TRIAGE_BY_SAFETY_RULE if safety else data.TRIAGE_BY_RULE)[plan.lang]
        else:
            actor, reason = self._pick(self.agents), ""
        product = self.org.products[plan.product.sku] if plan.product else None
        t.complaint_triage(
            complaint=c,
            actor=actor,
            category=self.org.categories[plan.scenario.category],
            priority=self.org.priorities[plan.priority],
            product=product if c.product_id is None else None,
            reason=reason,
        )

    def _assign(self, c: Complaint, *, by_supervisor: bool = False) -> None:
        assignee = self._pick(self._agents_of(c))
        if by_supervisor or not roles.is_agent(assignee) or self._chance(0.5):
            t.complaint_assign(complaint=c, actor=self.supervisor, assignee=assignee)
        else:
            t.complaint_claim(complaint=c, actor=assignee)

    def _start(self, c: Complaint, plan: Plan) -> None:
        assignee = self._assignee(c)
        t.complaint_start(complaint=c, actor=assignee)
        if self._chance(0.75):
            messages.complaint_reply(
                complaint=c, actor=assignee, body=self._pick(data.REPLIES[plan.lang])
            )
        if self._chance(0.4):
            self._note(c, plan, actor=self._pick([assignee, self.supervisor]))

    def _reassign(self, c: Complaint, lang: str) -> bool:
        """Hand c to another member of its team, if it has one."""
        others = [u for u in self.members.get(c.team_id, []) if u.pk != c.assignee_id]
        if not others:
            return False
        others.sort(key=lambda u: not roles.is_agent(u))  # agents first
        actor = self.supervisor if self._chance(0.7) else self._assignee(c)
        t.complaint_reassign(
            complaint=c,
            actor=actor,
            assignee=others[0],
            reason=self._pick(data.REASSIGN_REASONS[lang]),
        )
        return True

    def _await(self, c: Complaint, plan: Plan) -> str:
        """Ask the customer a question; returns the answer they will give."""
        question, answer = self._pick(data.QUESTIONS[plan.topic][plan.lang])
        t.complaint_await_customer(complaint=c, actor=self._assignee(c), question=question)
        return answer

    def _resolve(self, c: Complaint, plan: Plan) -> None:
        actor = self.supervisor if self._chance(0.1) else self._assignee(c)
        t.complaint_resolve(
            complaint=c,
            actor=actor,
            summary=plan.texts["resolution"],
            root_cause=plan.scenario.root_cause,
            remedy=plan.texts["remedy"],
        )

    def _close(self, c: Complaint, lang: str) -> None:
        """The loop closes: mostly the customer's survey answer, sometimes a call-back
        after no answer, sometimes a supervisor's override."""
        roll = self.rng.random()
        if roll < 0.15:
            t.complaint_close(
                complaint=c, actor=self.supervisor, reason=data.CLOSE_BY_SUPERVISOR[lang]
            )
        elif roll < 0.3:
            task = callbacks.callback_open(complaint=c)
            callbacks.callback_record(
                task=task,
                actor=self._assignee(c) or self.supervisor,
                result=CallbackResult.REACHED_SATISFIED,
                note=self._pick(data.CLOSE_BY_SYSTEM[lang]),
            )
        else:
            survey.survey_submit(complaint=c, rating=self.rng.choice([3, 4, 5, 5]), solved=True)

    def _note(self, c: Complaint, plan: Plan, *, actor: User) -> None:
        body = self._pick(data.NOTES[plan.topic][plan.lang])
        messages.complaint_add_note(complaint=c, actor=actor, body=body)

    def _customer_says(self, c: Complaint, texts: tuple[str, ...]) -> None:
        messages.complaint_record_customer_message(complaint=c, body=self._pick(texts))

    def _duplicate(self, plan: Plan) -> None:
        """The same customer's same problem again, through another channel: merged."""
        open_ones = [(c, p) for c, p in self.created if c.status in OPEN_STATES]
        if not open_ones:  # only with a handful of complaints: keep it as a new one
            self.created.append((self._receive(plan), plan))
            return
        target, original = self._pick(open_ones)
        now = timezone.now()
        earliest = target.received_at + timedelta(minutes=10)
        latest = min(target.received_at + timedelta(hours=48), now)
        received_at = earliest + (latest - earliest) * self.rng.random()
        if received_at > now:
            received_at = now
        texts = dict(original.texts)
        texts["description"] = data.DUPLICATE_PREFIX[original.lang] + texts["description"]
        duplicate_plan = original.again(channel=plan.channel, received_at=received_at, texts=texts)
        c = self._receive(duplicate_plan)
        if self._chance(0.4):
            self._triage(c, duplicate_plan)
        agents = [
            a
            for a in self.agents
            if permissions.can_view_complaint(a, c) and permissions.can_view_complaint(a, target)
        ]
        actor = self._pick(agents) if agents and self._chance(0.7) else self.supervisor
        t.complaint_merge(
            complaint=c,
            actor=actor,
            target=target,
            reason=data.MERGE_REASONS[original.lang].format(number=target.tracking_number),
        )
