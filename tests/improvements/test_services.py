"""Improvement actions: creating, linking, the status moves, telling the customers
and the selectors."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import translation

from complaints import roles
from complaints.errors import ActionForbidden, InvalidInput, NotFound, TransitionRefused
from complaints.models import ComplaintEvent, ImprovementAction, Notification, OutboxMessage
from complaints.services import improvements, notifications
from tests.factories import CustomerFactory, TeamFactory

pytestmark = pytest.mark.django_db

Status = ImprovementAction.Status
KIND = ComplaintEvent.Kind.IMPROVEMENT


def _events(complaint):
    return list(complaint.events.filter(kind=KIND).order_by("pk"))


def _to(action, status, actor, **kwargs):
    return improvements.improvement_set_status(action=action, actor=actor, status=status, **kwargs)


def _done(org, action, outcome="Thermostat supplier changed for batch 43 onwards."):
    _to(action, Status.IN_PROGRESS, org.supervisor)
    return _to(action, Status.DONE, org.responder, outcome=outcome)


# --- Creating -----------------------------------------------------------------------------


def test_a_supervisor_creates_an_action_from_one_complaint(org, make_complaint, create_action):
    complaint = make_complaint("in_progress")

    action = create_action(complaint)

    action.refresh_from_db()
    assert action.status == Status.OPEN
    assert action.created_by == org.supervisor
    assert action.owner_team == org.department
    assert list(action.complaints.all()) == [complaint]
    assert list(complaint.improvement_actions.all()) == [action]
    [event] = _events(complaint)
    assert event.actor == org.supervisor
    assert event.is_internal
    assert "Fix the kettle thermostat" in event.body
    assert event.data["improvement"] == {
        "id": action.pk,
        "title": "Fix the kettle thermostat",
        "action": "created",
    }
    first = action.history.order_by("history_id").first()
    assert first.history_user == org.supervisor
    assert first.status == Status.OPEN


def test_an_agent_creates_one_from_several_complaints_and_the_owner_supervisor_hears(
    org, make_complaint, create_action
):
    first, second = make_complaint("triaged"), make_complaint("in_progress")

    action = create_action(first, second, first, actor=org.agent, owner_team=org.team)

    assert set(action.complaints.all()) == {first, second}
    assert len(_events(first)) == 1
    assert len(_events(second)) == 1
    [note] = Notification.objects.filter(kind=Notification.Kind.IMPROVEMENT)
    assert note.user == org.supervisor
    assert action.title in note.text


def test_no_notification_to_the_creator_who_supervises_the_owner_team(org, create_action):
    create_action(actor=org.supervisor, owner_team=org.team)
    assert not Notification.objects.filter(kind=Notification.Kind.IMPROVEMENT).exists()


def test_a_complaint_the_creator_may_not_see_is_not_found(org, make_complaint, create_action):
    theirs = make_complaint("triaged")  # team A's
    with pytest.raises(NotFound):
        create_action(theirs, actor=org.agent_b, owner_team=org.team_b)
    assert not ImprovementAction.objects.exists()
    assert _events(theirs) == []


@pytest.mark.parametrize("who", ["responder", "outsider"])
def test_only_agents_and_supervisors_create(org, create_action, who):
    with pytest.raises(ActionForbidden):
        create_action(actor=getattr(org, who))
    assert not ImprovementAction.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"title": "  "}, "title", "Give the action a title."),
        ({"problem": ""}, "problem", "Describe the problem to fix."),
        ({"due_date": None}, "due_date", "Give a due date."),
        ({"owner_team": None}, "owner_team", "Choose an active team to own the action."),
        ({"title": "x" * 201}, "title", "At most 200 characters."),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(org, create_action, overrides, field, message):
    with pytest.raises(InvalidInput) as refused:
        create_action(**overrides)
    assert refused.value.fields[field] == [message]
    assert not ImprovementAction.objects.exists()


def test_the_due_date_may_be_today_but_not_yesterday(org, create_action):
    today = improvements.today()
    with pytest.raises(InvalidInput) as refused:
        create_action(due_date=today - timedelta(days=1))
    assert refused.value.fields["due_date"] == ["The due date cannot be in the past."]
    assert create_action(due_date=today).due_date == today


def test_an_inactive_team_cannot_own_an_action(org, create_action):
    gone = TeamFactory(is_active=False)
    with pytest.raises(InvalidInput) as refused:
        create_action(owner_team=gone)
    assert "owner_team" in refused.value.fields


# --- Linking ------------------------------------------------------------------------------


def test_an_agent_links_a_complaint_once(org, make_complaint, create_action):
    action = create_action(make_complaint("in_progress"))
    other = make_complaint("triaged")

    assert improvements.improvement_link(action=action, complaint=other, actor=org.agent) is True
    assert improvements.improvement_link(action=action, complaint=other, actor=org.agent) is False

    assert action.complaints.filter(pk=other.pk).count() == 1
    [event] = _events(other)
    assert event.data["improvement"]["action"] == "linked"
    assert event.actor == org.agent
    latest = action.history.order_by("-history_id").first()
    assert latest.history_user == org.agent
    assert {c.complaint_id for c in latest.complaints.all()} == {
        c.pk for c in action.complaints.all()
    }


def test_linking_a_complaint_the_agent_may_not_see_is_not_found(org, make_complaint, create_action):
    action = create_action()
    theirs = make_complaint("triaged")  # team A
    with pytest.raises(NotFound):
        improvements.improvement_link(action=action, complaint=theirs, actor=org.agent_b)
    assert not action.complaints.exists()


def test_a_responder_may_not_link(org, make_complaint, create_action):
    action = create_action()
    complaint = make_complaint("triaged")
    with pytest.raises(NotFound):
        improvements.improvement_link(action=action, complaint=complaint, actor=org.responder)


def test_no_linking_to_a_done_action(org, make_complaint, create_action):
    action = create_action(make_complaint("in_progress"))
    _done(org, action)
    other = make_complaint("triaged")
    with pytest.raises(TransitionRefused) as refused:
        improvements.improvement_link(action=action, complaint=other, actor=org.agent)
    assert "open or in-progress" in refused.value.message
    assert not action.complaints.filter(pk=other.pk).exists()
    assert _events(other) == []


def test_unlink_is_idempotent_too(org, make_complaint, create_action):
    complaint = make_complaint("in_progress")
    action = create_action(complaint)
    assert improvements.improvement_unlink(action=action, complaint=complaint, actor=org.agent)
    assert not improvements.improvement_unlink(action=action, complaint=complaint, actor=org.agent)
    assert not action.complaints.exists()
    assert [e.data["improvement"]["action"] for e in _events(complaint)] == [
        "created",
        "unlinked",
    ]


# --- Status -------------------------------------------------------------------------------


def test_the_full_round_open_started_done_verified(org, make_complaint, create_action):
    complaint = make_complaint("in_progress")
    action = create_action(complaint)

    _to(action, Status.IN_PROGRESS, org.responder)  # a member of the owner department
    _to(action, Status.DONE, org.responder, outcome="  Supplier changed.  ")
    assert action.status == Status.DONE
    assert action.outcome == "Supplier changed."
    assert action.done_at is not None
    _to(action, Status.VERIFIED, org.supervisor)

    action.refresh_from_db()
    assert action.status == Status.VERIFIED
    assert action.verified_by == org.supervisor
    assert action.verified_at is not None
    changes = improvements.status_changes(action)
    assert [(c["from_status"], c["to_status"], c["user"]) for c in changes] == [
        (None, "open", org.supervisor),
        ("open", "in_progress", org.responder),
        ("in_progress", "done", org.responder),
        ("done", "verified", org.supervisor),
    ]
    assert changes[2]["reason"] == "Supplier changed."
    assert [e.data["improvement"]["action"] for e in _events(complaint)] == [
        "created",
        "in_progress",
        "done",
        "verified",
    ]


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ([], Status.DONE),
        ([], Status.VERIFIED),
        ([Status.IN_PROGRESS], Status.OPEN),
        ([Status.IN_PROGRESS], Status.VERIFIED),
        ([Status.IN_PROGRESS, Status.DONE, Status.VERIFIED], Status.IN_PROGRESS),
        ([Status.IN_PROGRESS, Status.DONE, Status.VERIFIED], Status.DONE),
    ],
)
def test_moves_outside_the_table_are_refused(org, create_action, path, target):
    action = create_action()
    for step in path:
        actor = org.admin if step == Status.VERIFIED else org.supervisor
        _to(action, step, actor, outcome="Done it.")
    before = action.status
    with pytest.raises(TransitionRefused):
        _to(action, target, org.admin, outcome="Again.")
    action.refresh_from_db()
    assert action.status == before


def test_done_needs_an_outcome(org, create_action):
    action = create_action()
    _to(action, Status.IN_PROGRESS, org.supervisor)
    with pytest.raises(InvalidInput) as refused:
        _to(action, Status.DONE, org.supervisor, outcome="   ")
    assert refused.value.fields == {"outcome": ["Describe what was done before marking it done."]}
    action.refresh_from_db()
    assert action.status == Status.IN_PROGRESS
    assert action.done_at is None


def test_someone_outside_the_owner_team_may_not_start_it(org, create_action):
    action = create_action()  # owned by the department, created by the supervisor
    with pytest.raises(ActionForbidden):
        _to(action, Status.IN_PROGRESS, org.agent_b)
    _to(action, Status.IN_PROGRESS, org.responder)
    assert action.status == Status.IN_PROGRESS


def test_the_creator_may_work_on_it(org, create_action):
    action = create_action(actor=org.agent_b)
    _to(action, Status.IN_PROGRESS, org.agent_b)
    assert action.status == Status.IN_PROGRESS


def test_only_a_supervisor_verifies_and_not_the_one_who_marked_it_done(org, create_action):
    action = create_action(owner_team=org.team)
    _to(action, Status.IN_PROGRESS, org.agent)
    _to(action, Status.DONE, org.supervisor, outcome="Retrained the line.")

    with pytest.raises(ActionForbidden) as agent_refused:
        _to(action, Status.VERIFIED, org.agent)
    assert "supervisor" in agent_refused.value.message
    with pytest.raises(ActionForbidden) as same_refused:
        _to(action, Status.VERIFIED, org.supervisor)
    assert "other than" in same_refused.value.message
    action.refresh_from_db()
    assert action.status == Status.DONE
    # The buttons agree: the one who marked it done may only send it back.
    assert improvements.allowed_statuses(org.supervisor, action) == [Status.IN_PROGRESS]
    assert improvements.allowed_statuses(org.agent, action) == []
    assert improvements.allowed_statuses(org.admin, action) == [
        Status.VERIFIED,
        Status.IN_PROGRESS,
    ]

    _to(action, Status.VERIFIED, org.admin)
    assert action.verified_by == org.admin


def test_the_one_who_marked_it_done_may_send_it_back(org, create_action):
    action = create_action(owner_team=org.team)
    _to(action, Status.IN_PROGRESS, org.supervisor)
    _to(action, Status.DONE, org.supervisor, outcome="Retrained the line.")
    _to(action, Status.IN_PROGRESS, org.supervisor, reason="Forgot the night shift.")
    assert action.status == Status.IN_PROGRESS
    # Done again by someone else: now the supervisor may verify.
    _to(action, Status.DONE, org.agent, outcome="Night shift retrained too.")
    _to(action, Status.VERIFIED, org.supervisor)
    assert action.verified_by == org.supervisor


def test_a_failed_verification_sends_it_back_with_a_reason(org, create_action):
    action = create_action()
    _done(org, action)
    with pytest.raises(InvalidInput):
        _to(action, Status.IN_PROGRESS, org.supervisor)
    with pytest.raises(ActionForbidden):
        _to(action, Status.IN_PROGRESS, org.responder, reason="Still broken")

    _to(action, Status.IN_PROGRESS, org.supervisor, reason="Batch 43 fails too.")

    action.refresh_from_db()
    assert action.status == Status.IN_PROGRESS
    assert action.done_at is None
    assert improvements.status_changes(action)[-1]["reason"] == "Batch 43 fails too."


def test_a_second_click_changes_nothing(org, make_complaint, create_action):
    complaint = make_complaint("in_progress")
    action = create_action(complaint)
    _to(action, Status.IN_PROGRESS, org.supervisor)
    stale = ImprovementAction.objects.get(pk=action.pk)
    _to(action, Status.DONE, org.responder, outcome="Fixed.")
    history = action.history.count()

    _to(stale, Status.DONE, org.responder, outcome="Fixed.")  # the double click

    assert stale.status == Status.DONE  # refreshed from the locked row
    assert action.history.count() == history
    assert [e.data["improvement"]["action"] for e in _events(complaint)].count("done") == 1


def test_done_tells_the_creator_and_the_owner_supervisor(org, create_action):
    action = create_action(actor=org.agent, owner_team=org.team)
    Notification.objects.all().delete()
    _to(action, Status.IN_PROGRESS, org.agent2)
    _to(action, Status.DONE, org.agent2, outcome="Fixed.")
    told = set(
        Notification.objects.filter(kind=Notification.Kind.IMPROVEMENT).values_list(
            "user__username", flat=True
        )
    )
    assert told == {"agent", "supervisor"}


# --- Telling the customers ----------------------------------------------------------------

TEMPLATE = "Hello {customer_name}: {tracking_number} ({title}) led to {action}. {0} {unknown}"


def test_customers_are_told_once_each(org, make_complaint, create_action):
    alice = CustomerFactory(name="Alice", language="en")
    bob = CustomerFactory(name="Bob", language="en")
    silent = CustomerFactory(name="No contact", email="", phone="")
    first = make_complaint("in_progress", customer=alice, title="Kettle A")
    second = make_complaint("resolved", customer=alice, title="Kettle B")
    third = make_complaint("in_progress", customer=bob, title="Kettle C")
    unreachable = make_complaint("triaged", customer=silent)
    action = create_action(
        first,
        second,
        third,
        unreachable,
        notify_customers=True,
        customer_message=TEMPLATE,
    )
    OutboxMessage.objects.all().delete()

    _done(org, action)

    messages = list(OutboxMessage.objects.order_by("pk"))
    assert [(m.channel, m.to) for m in messages] == [("email", alice.email), ("email", bob.email)]
    to_alice = messages[0]
    assert to_alice.complaint == first
    assert first.tracking_number in to_alice.subject
    assert to_alice.body == (
        f"Hello Alice: {first.tracking_number} (Kettle A) led to Fix the kettle thermostat."
        " {0} {unknown}\n"
    )
    action.refresh_from_db()
    assert action.customers_notified_at is not None

    # The verification fails; the second "done" tells nobody again.
    _to(action, Status.IN_PROGRESS, org.supervisor, reason="Not fixed yet.")
    _to(action, Status.DONE, org.responder, outcome="Really fixed now.")
    assert OutboxMessage.objects.count() == 2


def test_without_notify_customers_nobody_is_told(org, make_complaint, create_action):
    action = create_action(make_complaint("in_progress"))
    OutboxMessage.objects.all().delete()
    _done(org, action)
    assert not OutboxMessage.objects.exists()
    action.refresh_from_db()
    assert action.customers_notified_at is None


def test_a_chinese_customer_is_told_in_chinese(org, make_complaint, create_action, monkeypatch):
    customer = CustomerFactory(name="", language="zh-hans")
    complaint = make_complaint("in_progress", customer=customer)
    action = create_action(complaint, notify_customers=True)  # the standard message
    OutboxMessage.objects.all().delete()
    languages = []
    real_send = notifications._send

    def spy(*args, **kwargs):
        languages.append(translation.get_language())
        return real_send(*args, **kwargs)

    monkeypatch.setattr(notifications, "_send", spy)

    with translation.override("en"):
        _done(org, action)

    assert languages == ["zh-hans"]
    [message] = OutboxMessage.objects.all()
    assert complaint.tracking_number in message.subject
    # Rendered from the standard template, the nameless customer called 客户.
    assert "客户" in message.body
    assert complaint.tracking_number in message.body
    assert "Fix the kettle thermostat" in message.body
    assert "{" not in message.body


def test_a_phone_only_customer_gets_a_text_message(org, make_complaint, create_action):
    customer = CustomerFactory(email="", language="en")
    action = create_action(
        make_complaint("in_progress", customer=customer),
        notify_customers=True,
        customer_message="{tracking_number}: fixed, {customer_name}.",
    )
    OutboxMessage.objects.all().delete()
    _done(org, action)
    [sms] = OutboxMessage.objects.all()
    assert sms.channel == "sms"
    assert sms.to == customer.phone
    assert sms.body.endswith(f"fixed, {customer.name}.")


def test_render_message_never_formats():
    values = {"customer_name": "{title}", "tracking_number": "T", "title": "X", "action": "A"}
    text = "{customer_name} {tracking_number} {title.__class__} {action!r} {action}"
    assert improvements.render_message(text, values) == "{title} T {title.__class__} {action!r} A"


# --- Selectors ----------------------------------------------------------------------------


def test_overdue_means_due_before_today_and_not_done(org, create_action):
    today = improvements.today()
    yesterday_open = create_action(title="Late")
    due_today = create_action(title="Today")
    done_late = create_action(title="Done late")
    _done(org, done_late)
    ImprovementAction.objects.filter(pk__in=[yesterday_open.pk, done_late.pk]).update(
        due_date=today - timedelta(days=1)
    )
    ImprovementAction.objects.filter(pk=due_today.pk).update(due_date=today)

    assert list(improvements.improvements_overdue(org.supervisor)) == [yesterday_open]


def test_who_sees_which_action(org, make_complaint, create_action):
    linked_a = create_action(make_complaint("triaged"), title="Linked to A", owner_team=org.team_b)
    owned_b = create_action(title="Owned by B", owner_team=org.team_b)
    owned_dept = create_action(title="Owned by the department")

    def seen(user):
        return set(improvements.improvements_visible_to(user).values_list("title", flat=True))

    assert seen(org.supervisor) == {"Linked to A", "Owned by B", "Owned by the department"}
    assert seen(org.agent) == {"Linked to A"}
    assert seen(org.agent_b) == {"Linked to A", "Owned by B"}
    assert seen(org.responder) == {"Owned by the department"}
    assert seen(org.outsider) == set()
    assert seen(roles.SYSTEM) == {"Linked to A", "Owned by B", "Owned by the department"}
    assert {a.pk for a in improvements.improvements_open_for_linking(org.agent)} == {
        linked_a.pk,
        owned_b.pk,
        owned_dept.pk,
    }
    assert not improvements.improvements_open_for_linking(org.responder).exists()
