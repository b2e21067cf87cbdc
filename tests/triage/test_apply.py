"""Recording a proposal at intake, applying it as the system, and what agents kept."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from complaints.models import Complaint, KeywordRule, StatusChange, TriageProposal
from complaints.services import transitions as t
from complaints.services import triage
from complaints.services.editing import complaint_update
from complaints.services.triage import (
    triage_accuracy,
    triage_auto_apply,
    triage_mark_kept,
    triage_record_proposal,
)
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

PARCEL = {"title": "Parcel never arrived", "description": "Ordered a week ago, still nothing."}
SMOKE = {"title": "电水壶冒烟", "description": "电水壶底座冒烟了，还有焦味"}


def test_the_proposal_is_recorded_with_its_words_and_rules(defaults, make_complaint):
    complaint = make_complaint(**SMOKE)

    row = triage_record_proposal(complaint=complaint)

    assert row.complaint == complaint
    assert row.category == defaults.safety
    assert row.priority.code == "P1"
    assert row.urgency == "critical" and row.impact == "safety"
    assert row.flags == ["safety"]
    assert row.matches[0]["words"] == ["冒烟", "焦味"]
    assert list(row.rules.values_list("name", flat=True)) == ["安全 Safety"]
    assert row.category_kept is None and row.priority_kept is None
    # Recording again refreshes the same row.
    assert triage_record_proposal(complaint=complaint).pk == row.pk
    assert TriageProposal.objects.count() == 1


def test_auto_apply_triages_a_new_complaint_as_the_system(defaults, make_complaint):
    complaint = make_complaint(**PARCEL)
    triage_record_proposal(complaint=complaint)

    assert triage_auto_apply(complaint=complaint) is True

    complaint.refresh_from_db()
    assert complaint.status == "triaged"
    assert complaint.category == defaults.logistics
    assert complaint.priority.code == "P3"
    assert complaint.team == defaults.logistics_team
    change = StatusChange.objects.get(complaint=complaint, transition="triage")
    assert change.actor is None
    assert (change.from_status, change.to_status) == ("new", "triaged")
    assert "物流配送 Logistics (parcel, never arrived)" in change.reason
    assert complaint.history.first().history_user is None
    row = TriageProposal.objects.get(complaint=complaint)
    assert (row.category_kept, row.priority_kept) == (True, True)


def test_auto_apply_routes_by_customer_tier(defaults, org, make_complaint):
    from complaints.models import RoutingRule

    RoutingRule.objects.create(
        name="VIP logistics", category=defaults.logistics, customer_tier="vip", team=org.team
    )
    complaint = make_complaint(customer=CustomerFactory(tier="vip"), **PARCEL)

    assert triage_auto_apply(complaint=complaint) is True  # records the proposal itself

    complaint.refresh_from_db()
    assert complaint.team == org.team


def test_no_auto_apply_without_a_proposed_category(defaults, make_complaint):
    complaint = make_complaint(title="投诉", description="我要打12315投诉你们")

    assert triage_auto_apply(complaint=complaint) is False

    complaint.refresh_from_db()
    assert complaint.status == "new"
    assert not StatusChange.objects.filter(complaint=complaint, transition="triage").exists()
    assert TriageProposal.objects.get(complaint=complaint).priority.code == "P1"


def test_no_auto_apply_over_a_category_a_person_chose(defaults, org, make_complaint):
    complaint = make_complaint(category=org.category, **PARCEL)

    assert triage_auto_apply(complaint=complaint) is False
    complaint.refresh_from_db()
    assert complaint.status == "new" and complaint.category == org.category


def test_no_auto_apply_once_triaged(defaults, make_complaint):
    complaint = make_complaint("triaged", **PARCEL)

    assert triage_auto_apply(complaint=complaint) is False


def test_an_agents_correction_is_recorded_against_the_proposal(defaults, org, make_complaint):
    complaint = make_complaint(**PARCEL)
    triage_record_proposal(complaint=complaint)

    t.complaint_triage(complaint=complaint, actor=org.agent, category=org.category, priority=org.p3)
    row = triage_mark_kept(complaint=complaint)

    assert row.category == defaults.logistics  # what was proposed stays
    assert (row.category_kept, row.priority_kept) == (False, True)


def test_refining_to_a_sub_category_keeps_the_category(defaults, org, make_complaint):
    complaint = make_complaint(**PARCEL)
    triage_record_proposal(complaint=complaint)
    triage_auto_apply(complaint=complaint)

    complaint_update(
        complaint=complaint,
        actor=org.supervisor,
        category=defaults.logistics_lost,
        priority=org.p1,
        reason="Lost, and the customer is waiting for medicine",
    )
    row = triage_mark_kept(complaint=complaint)

    assert (row.category_kept, row.priority_kept) == (True, False)


def test_mark_kept_without_a_proposal_does_nothing(make_complaint):
    complaint = make_complaint()
    TriageProposal.objects.filter(complaint=complaint).delete()  # if intake recorded one

    assert triage_mark_kept(complaint=Complaint.objects.get(pk=complaint.pk)) is None


def test_mark_kept_after_the_proposal_vanished_behind_the_complaint_does_not_fail(
    org, make_complaint
):
    complaint = make_complaint()  # intake recorded a proposal and kept it on the instance
    TriageProposal.objects.filter(complaint=complaint).delete()
    complaint.category = org.category

    triage_mark_kept(complaint=complaint)  # the stale row is not written back

    assert not TriageProposal.objects.filter(complaint=complaint).exists()


def _decide(make_complaint, org, texts, *, category):
    complaint = make_complaint(**texts)
    triage_record_proposal(complaint=complaint)
    t.complaint_triage(complaint=complaint, actor=org.agent, category=category, priority=org.p3)
    triage_mark_kept(complaint=complaint)
    return complaint


def test_accuracy_per_rule(defaults, org, make_complaint):
    _decide(make_complaint, org, PARCEL, category=defaults.logistics)
    _decide(make_complaint, org, PARCEL, category=defaults.logistics_lost)
    _decide(make_complaint, org, PARCEL, category=org.category)
    _decide(make_complaint, org, SMOKE, category=defaults.safety)  # P1 proposed, P3 chosen
    triage_record_proposal(complaint=make_complaint(**SMOKE))  # nobody decided yet
    unrecorded = make_complaint(**SMOKE)
    TriageProposal.objects.filter(complaint=unrecorded).delete()  # if intake recorded one

    rows = {row["rule"].name: row for row in triage_accuracy()}

    logistics = rows["物流配送 Logistics"]
    assert logistics["proposals"] == 3
    assert logistics["category_decided"] == 3
    assert logistics["category_kept"] == pytest.approx(66.7)
    assert logistics["priority_kept"] is None  # the rule sets no urgency or impact
    safety = rows["安全 Safety"]
    assert safety["proposals"] == 2
    assert safety["category_kept"] == 100.0
    assert safety["priority_decided"] == 1
    assert safety["priority_kept"] == 0.0
    legal = rows["监管与法律 Regulator / legal"]
    assert legal["proposals"] == 0
    assert legal["category_kept"] is None and legal["priority_kept"] is None
    overall = triage.triage_accuracy_overall()
    assert overall["proposals"] == 5
    assert overall["category_decided"] == 4


def test_triage_report_prints_accuracy_per_rule(defaults, org, make_complaint, capsys):
    _decide(make_complaint, org, PARCEL, category=defaults.logistics)
    _decide(make_complaint, org, PARCEL, category=org.category)
    KeywordRule.objects.filter(name="媒体曝光 Media").update(is_active=False)

    call_command("triage_report")

    out = capsys.readouterr().out
    line = next(row for row in out.splitlines() if row.startswith("物流配送 Logistics"))
    # proposals, category kept, (of), priority kept: this rule sets no priority.
    assert line.split()[-4:] == ["2", "50.0%", "2", "—"]
    assert "媒体曝光 Media (inactive)" in out
    assert out.splitlines()[-1].startswith("all proposals")


def test_triage_report_as_json(defaults, org, make_complaint, capsys):
    import json

    _decide(make_complaint, org, PARCEL, category=defaults.logistics)

    call_command("triage_report", "--json")

    data = json.loads(capsys.readouterr().out)
    logistics = next(r for r in data["rules"] if r["name"] == "物流配送 Logistics")
    assert logistics["category_kept"] == 100.0
    assert data["overall"]["proposals"] == 1
