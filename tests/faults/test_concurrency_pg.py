"""Two of the same thing at once gives the result of one (PostgreSQL, real row locks).

Extends what exists elsewhere (two claims: tests/services/test_concurrency_pg.py; two
SLA sweeps: tests/sla/test_sweep_pg.py) with: two mail fetches of one mailbox (the
Dovecot fixture of the mail tests), two opposite merges, two different transitions,
and two edits of non-state fields from the same copy, in the services and through
the API with If-Match.
"""

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from complaints.errors import ServiceError
from complaints.models import Complaint, InboundMessage, StatusChange
from complaints.services import editing, mailfetch
from complaints.services import transitions as t
from tests.mail.support import make_raw
from tests.support import run_at_once

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
]


def _fresh(complaint: Complaint) -> Complaint:
    return Complaint.objects.get(pk=complaint.pk)


def test_two_mail_fetches_at_once_store_and_open_each_message_once(org, mailbox):
    subjects = ["冰箱不制冷", "快递丢件", "发票开错", "屏幕碎裂", "退款未到账"]
    for i, subject in enumerate(subjects):
        mailbox.append(
            make_raw(
                sender=f"Customer {i} <customer{i}@example.net>", subject=subject, body=subject * 3
            )
        )
    settings = mailbox.settings()
    results = run_at_once([lambda: mailfetch.mail_fetch(**settings)] * 2, timeout=120)
    assert not [r for r in results if isinstance(r, Exception)], results
    # Between them each message was stored once (the other saw a duplicate or nothing).
    assert sum(r.stored for r in results) == len(subjects), [str(r) for r in results]
    assert InboundMessage.objects.count() == len(subjects)
    assert Complaint.objects.count() == len(subjects)
    assert sorted(Complaint.objects.values_list("title", flat=True)) == sorted(subjects)
    assert mailbox.uids() == []
    # A third fetch finds nothing to do.
    assert mailfetch.mail_fetch(**settings).found == 0


def test_opposite_merges_at_once_merge_one_way_only(org, make_complaint):
    a, b = make_complaint("in_progress"), make_complaint("in_progress")
    b.customer = a.customer
    Complaint.objects.filter(pk=b.pk).update(customer=a.customer)
    results = run_at_once(
        [
            lambda: t.complaint_merge(complaint=_fresh(a), actor=org.agent, target=_fresh(b)),
            lambda: t.complaint_merge(complaint=_fresh(b), actor=org.agent, target=_fresh(a)),
        ]
    )
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1, results
    # Refused in the service's own terms (a clear message), not a database error.
    assert isinstance(errors[0], ServiceError), repr(errors[0])
    merged = Complaint.objects.filter(pk__in=[a.pk, b.pk], status="merged")
    assert merged.count() == 1
    loser = merged.get()
    assert Complaint.objects.get(pk=loser.merged_into_id).status == "in_progress"
    assert StatusChange.objects.filter(transition="merge").count() == 1


def test_two_different_transitions_at_once_one_applies(org, make_complaint):
    complaint = make_complaint("assigned")
    results = run_at_once(
        [
            lambda: t.complaint_start(complaint=_fresh(complaint), actor=org.agent),
            lambda: t.complaint_release(
                complaint=_fresh(complaint), actor=org.agent, reason="Wrong team"
            ),
        ]
    )
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1 and isinstance(errors[0], ServiceError), results
    complaint.refresh_from_db()
    applied = complaint.status_changes.filter(from_status="assigned")
    assert applied.count() == 1
    assert complaint.status == applied.get().to_status
    assert complaint.history.filter(status=complaint.status).count() >= 1


def test_two_edits_of_other_fields_from_one_copy_lose_no_update(org, make_complaint):
    complaint = make_complaint("in_progress")
    seen = complaint.version
    results = run_at_once(
        [
            lambda: editing.complaint_update(
                complaint=_fresh(complaint), actor=org.agent, title="标题改了"
            ),
            lambda: editing.complaint_update(
                complaint=_fresh(complaint), actor=org.agent, order_number="ORD-7788"
            ),
        ]
    )
    errors = [r for r in results if isinstance(r, Exception)]
    # The second writer's copy is stale: refused, not silently overwriting the first.
    assert len(errors) == 1 and type(errors[0]).__name__ == "ComplaintConflict", results
    complaint.refresh_from_db()
    assert complaint.version == seen + 1
    won = "title" if complaint.title == "标题改了" else "order_number"
    assert (complaint.title == "标题改了") != (complaint.order_number == "ORD-7788")
    assert complaint.events.filter(kind="field_changed").count() == 1
    assert won in complaint.events.get(kind="field_changed").data["changes"]


def test_two_api_patches_with_one_if_match_one_409(org, make_complaint):
    complaint = make_complaint("in_progress")
    tag = f'"{complaint.version}"'
    url = f"/api/complaints/{complaint.pk}/"

    def patch(user, body):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get(user=user).key}")
        return client.patch(url, body, format="json", headers={"If-Match": tag}).status_code

    for user in (org.agent, org.supervisor):
        Token.objects.get_or_create(user=user)
    results = run_at_once(
        [
            lambda: patch(org.agent, {"title": "客服改的标题"}),
            lambda: patch(org.supervisor, {"demand_detail": "主管补充的诉求"}),
        ]
    )
    assert sorted(results) == [200, 409], results
    complaint.refresh_from_db()
    assert complaint.version == int(tag.strip('"')) + 1
    assert (complaint.title == "客服改的标题") != (complaint.demand_detail == "主管补充的诉求")
