"""`manage.py seed_demo`: refused when DEBUG is off, idempotent, and every demo
complaint put into its state by the services (status log, history and timeline
consistent with its status)."""

import random
import re
from datetime import timedelta
from io import StringIO
from itertools import pairwise

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group
from django.core import mail
from django.core.management import CommandError, call_command
from django.db.models import Count
from django.test import RequestFactory
from django.utils import timezone

from complaints import roles
from complaints.demo_data import plan_complaints
from complaints.models import (
    CallbackTask,
    Category,
    Channel,
    Complaint,
    ComplaintEvent,
    Customer,
    LoopOutcome,
    Priority,
    Product,
    StatusChange,
    SurveyResponse,
    Team,
    User,
)
from complaints.workflow import OPEN_STATES, ComplaintStatus

pytestmark = pytest.mark.django_db

N = 40
HAN = re.compile(r"[\u4e00-\u9fff]")
USERS = {
    "admin": roles.ADMIN,
    "supervisor": roles.SUPERVISOR,
    "agent": roles.AGENT,
    "agent2": roles.AGENT,
    "tech": roles.RESPONDER,
}


def seed(*args: str, **options) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def seeded() -> str:
    return seed("--force", "--complaints", str(N))


def _counts() -> dict[str, int]:
    models = (User, Team, Category, Product, Customer, Complaint, StatusChange, ComplaintEvent)
    return {m.__name__: m.objects.count() for m in models} | {"history": Complaint.history.count()}


# --- Refusal --------------------------------------------------------------------------


def test_refused_when_debug_is_off_without_force(settings):
    assert settings.DEBUG is False  # the test settings
    with pytest.raises(CommandError, match=r"DEBUG is off.*--force"):
        seed("--complaints", "3")
    assert not User.objects.filter(username__in=USERS).exists()
    assert Complaint.objects.count() == 0


def test_runs_without_force_when_debug_is_on(settings):
    settings.DEBUG = True
    output = seed("--complaints", "3")
    assert "complaints +3" in output
    assert Complaint.objects.count() == 3


def test_negative_count_is_refused():
    with pytest.raises(CommandError, match="--complaints"):
        seed("--force", "--complaints", "-1")


# --- Configuration --------------------------------------------------------------------


def test_creates_the_five_users_with_roles_and_passwords(seeded):
    for username, role in USERS.items():
        user = User.objects.get(username=username)
        # django-axes checks every authentication against its request.
        request = RequestFactory().post("/accounts/login/")
        assert authenticate(request, username=username, password=username) == user
        assert list(user.groups.values_list("name", flat=True)) == [role]
        assert HAN.search(user.display_name) and f"({username})" in user.display_name
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    supervisor = User.objects.get(username="supervisor")
    assert supervisor.is_staff and not supervisor.is_superuser
    assert roles.is_supervisor(supervisor)
    for username in ("agent", "agent2", "tech"):
        user = User.objects.get(username=username)
        assert not user.is_superuser and not user.is_staff


def test_creates_teams_departments_categories_and_products(seeded):
    front = Team.objects.get(code="front-1")
    assert front.kind == Team.Kind.FRONT_LINE
    assert front.supervisor.username == "supervisor"
    assert set(front.members.values_list("username", flat=True)) == {
        "agent",
        "agent2",
        "supervisor",
    }
    assert Team.objects.filter(kind=Team.Kind.FRONT_LINE).count() == 2
    departments = Team.objects.filter(kind=Team.Kind.DEPARTMENT)
    assert departments.count() == 3
    assert "tech" in departments.values_list("members__username", flat=True)

    quality = Category.objects.get(code="quality", parent=None)
    assert {"quality-malfunction", "quality-damage"} <= set(
        quality.children.values_list("code", flat=True)
    )
    assert set(Category.objects.filter(parent=None).values_list("code", flat=True)) == {
        "quality",
        "service",
        "logistics",
        "billing",
        "safety",
    }
    assert not Category.objects.filter(default_team=None).exists()
    assert all(HAN.search(c.name) for c in Category.objects.all())

    assert Product.objects.count() >= 12
    assert Product.objects.values("sku").distinct().count() == Product.objects.count()


# --- Complaints -------------------------------------------------------------------------


def test_complaints_cover_every_status_and_channel_over_ninety_days(seeded):
    assert Complaint.objects.count() == N
    assert set(Complaint.objects.values_list("status", flat=True)) == set(ComplaintStatus.values)
    # Every channel except imports (the demo imports nothing).
    channels = set(Complaint.objects.values_list("channel", flat=True))
    assert channels == set(Channel.values) - {Channel.IMPORTED}
    now = timezone.now()
    received = list(Complaint.objects.values_list("received_at", flat=True))
    assert all(now - timedelta(days=91) <= r <= now for r in received)
    assert max(received) - min(received) > timedelta(days=30)
    assert f"complaints +{N} (new " in seeded


def test_every_complaint_has_a_consistent_status_log_and_history(seeded):
    for complaint in Complaint.objects.all():
        changes = list(complaint.status_changes.order_by("created_at", "pk"))
        assert changes, complaint
        assert changes[0].transition == "receive"
        assert changes[0].created_at == complaint.received_at
        # Each change starts where the previous one ended, and the last is the status.
        for before, after in pairwise(changes):
            assert before.to_status == after.from_status, complaint
        assert changes[-1].to_status == complaint.status, complaint
        # One history row per save: at least one per status change.
        assert complaint.history.count() >= len(changes)
        assert complaint.events.filter(kind=ComplaintEvent.Kind.RECEIVED).count() == 1
        if complaint.merged_into_id is not None:
            assert complaint.merged_into.status in OPEN_STATES
    # The history names who did it.
    agents = User.objects.filter(username__in=["agent", "agent2"])
    assert Complaint.history.filter(history_user__in=agents).exists()


def test_transitions_are_made_by_the_actors_the_rules_expect(seeded):
    supervisor = User.objects.get(username="supervisor")
    by_transition = {}
    for change in StatusChange.objects.select_related("actor").exclude(transition="receive"):
        by_transition.setdefault(change.transition, set()).add(
            change.actor.username if change.actor else None
        )
    assert by_transition["reject"] == {supervisor.username}
    assert by_transition["close"] <= {None, supervisor.username}
    assert by_transition["triage"] <= {None, "agent", "agent2"}
    assert by_transition["start"] <= {"agent", "agent2"}
    assert by_transition["assign"] <= {"agent", "agent2", supervisor.username}
    assert None in by_transition["close"]  # the system closes after the survey


def test_complaints_have_replies_notes_customer_messages_and_repeat_customers(seeded):
    kinds = set(ComplaintEvent.objects.values_list("kind", flat=True))
    assert {
        ComplaintEvent.Kind.REPLY_SENT,
        ComplaintEvent.Kind.NOTE_ADDED,
        ComplaintEvent.Kind.CUSTOMER_MESSAGE,
    } <= kinds
    repeaters = Customer.objects.annotate(n=Count("complaints")).filter(n__gt=1)
    assert repeaters.exists()


def test_texts_are_in_chinese_and_english(seeded):
    titles = list(Complaint.objects.values_list("title", flat=True))
    chinese = [t for t in titles if HAN.search(t)]
    english = [t for t in titles if t.isascii()]
    assert chinese and english
    assert len(chinese) + len(english) == N
    assert len(chinese) > len(english)  # about two thirds
    assert {"zh-hans", "en"} == set(Complaint.objects.values_list("language", flat=True))


def test_second_run_creates_nothing(seeded):
    before = _counts()
    output = seed("--force", "--complaints", str(N))
    assert _counts() == before
    assert "already present" in output
    assert "users +0, teams +0, categories +0, products +0" in output


def test_the_plan_is_reproducible_for_a_seed():
    now = timezone.now()

    def plan(seed: int) -> list[tuple]:
        plans = plan_complaints(30, rng=random.Random(seed), now=now)
        return [(p.final, p.channel, p.texts["title"], p.customer.phone) for p in plans]

    assert plan(7) == plan(7)
    assert plan(7) != plan(8)


# --- Customer notifications -----------------------------------------------------------
# Only committed transactions run their on-commit callbacks, so these tests are
# transactional. Another transactional test's flush may have removed the rows the data
# migration made (no serialized rollback: it breaks on the content types that the flush
# recreates), so they are put back first.


@pytest.fixture
def committed_db(transactional_db):
    for name in roles.ALL_ROLES:
        Group.objects.get_or_create(name=name)
    for level, code in enumerate(("P1", "P2", "P3", "P4"), start=1):
        Priority.objects.get_or_create(code=code, defaults={"level": level, "name": code})
    mail.outbox.clear()


def test_demo_customers_are_sent_nothing_by_default(committed_db):
    seed("--force", "--complaints", "6")
    assert Complaint.objects.count() == 6
    assert mail.outbox == []


def test_notify_sends_customer_notifications(committed_db):
    seed("--force", "--complaints", "6", "--notify")
    mailed = {m.extra_headers["X-Complaint-Tracking"] for m in mail.outbox}
    with_email = set(
        Complaint.objects.exclude(customer__email="").values_list("tracking_number", flat=True)
    )
    assert with_email
    assert mailed == with_email


def _loop_evidence(complaint: Complaint) -> str:
    """How the loop of a closed complaint's last round was completed, from the records."""
    answer = SurveyResponse.objects.filter(
        complaint=complaint, cycle=complaint.reopen_count
    ).first()
    callback = CallbackTask.objects.filter(
        complaint=complaint, cycle=complaint.reopen_count, status=CallbackTask.Status.DONE
    ).first()
    if answer is not None and answer.solved and answer.rating > 2:
        return LoopOutcome.SURVEY
    if callback is not None and callback.outcome == CallbackTask.Outcome.SATISFIED:
        return LoopOutcome.CALLBACK
    if callback is not None and callback.outcome == CallbackTask.Outcome.NO_RESPONSE:
        return LoopOutcome.NO_RESPONSE
    last = complaint.status_changes.order_by("-created_at", "-pk").first()
    if last.to_status == ComplaintStatus.CLOSED and last.actor_id and last.reason.strip():
        return LoopOutcome.OVERRIDE
    return ""


def test_every_closed_complaint_has_a_complete_loop(seeded):
    """Resolution, root cause, the customer told, and the customer's answer (survey or
    call-back) or a supervisor's override with a reason, for every closed complaint."""
    closed = list(Complaint.objects.filter(status=ComplaintStatus.CLOSED))
    assert closed
    outcomes = set()
    for complaint in closed:
        assert complaint.resolution_summary.strip(), complaint
        assert complaint.root_cause, complaint
        assert complaint.customer_notified_at is not None, complaint
        assert complaint.customer_notified_at <= complaint.closed_at
        evidence = _loop_evidence(complaint)
        assert evidence == complaint.loop_outcome, complaint
        if evidence == LoopOutcome.OVERRIDE:
            assert roles.is_supervisor(complaint.status_changes.last().actor)
        outcomes.add(evidence)
    # The demo shows each way a loop closes.
    assert {LoopOutcome.SURVEY, LoopOutcome.CALLBACK, LoopOutcome.OVERRIDE} <= outcomes


def test_the_database_refuses_a_closed_complaint_without_a_complete_loop(seeded):
    from django.db import IntegrityError, transaction

    complaint = Complaint.objects.filter(status=ComplaintStatus.CLOSED).first()
    for field, value in [
        ("loop_outcome", ""),
        ("customer_notified_at", None),
        ("root_cause", ""),
        ("resolution_summary", ""),
    ]:
        with pytest.raises(IntegrityError), transaction.atomic():
            Complaint.objects.filter(pk=complaint.pk).update(**{field: value})
