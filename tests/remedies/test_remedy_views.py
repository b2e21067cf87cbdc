"""The remedy panel's forms, the Approvals screen, the nav badge's tag and the admin."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from complaints.models import AuthorityLimit, IdempotencyKey, Remedy, RemedyKind
from complaints.services import remedies
from tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db
APPROVALS = reverse("complaints:approvals")
Status = Remedy.Status
TOKEN = "a" * 22
HTMX = {"HTTP_HX_REQUEST": "true"}


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _propose_url(complaint) -> str:
    return reverse("complaints:remedy-propose", args=[complaint.pk])


def _detail(complaint) -> str:
    return reverse("complaints:staff-detail", args=[complaint.pk])


def _post_propose(client, complaint, headers=None, **data):
    payload = {"kind": "refund", "amount": "250", "description": "", "form_token": TOKEN}
    payload.update(data)
    return client.post(_propose_url(complaint), payload, **(headers or {}))


# --- Proposing from the detail page -----------------------------------------------------------


def test_the_panel_offers_the_propose_form_with_a_token(client, limits, make_complaint):
    complaint = make_complaint("in_progress")
    client.force_login(limits.agent)

    html = client.get(_detail(complaint)).content.decode()

    assert 'id="remedy-panel"' in html
    assert f'action="{_propose_url(complaint)}"' in html
    assert 'name="form_token"' in html
    assert "No remedy recorded yet." in html


def test_the_panel_has_no_propose_form_on_a_resolved_complaint(client, limits, make_complaint):
    complaint = make_complaint("resolved")
    client.force_login(limits.agent)
    html = client.get(_detail(complaint)).content.decode()
    assert 'id="remedy-panel"' in html
    assert _propose_url(complaint) not in html


def test_proposing_above_the_limit_waits_for_approval(client, limits, make_complaint):
    complaint = make_complaint("in_progress")
    client.force_login(limits.agent)

    response = _post_propose(client, complaint, description="Refund half")

    assert response.status_code == 302
    assert response["Location"] == _detail(complaint)
    remedy = Remedy.objects.get()
    assert (remedy.kind, remedy.amount, remedy.status) == ("refund", Decimal("250"), "pending")
    assert remedy.description == "Refund half"
    assert "waits for a supervisor's approval" in _messages(response)[0]
    html = client.get(_detail(complaint)).content.decode()
    assert f'id="remedy-{remedy.pk}"' in html
    assert "Waiting for approval" in html
    assert "250.00 CNY" in html


def test_proposing_with_htmx_redirects_the_page(client, limits, make_complaint):
    complaint = make_complaint("in_progress")
    client.force_login(limits.agent)
    response = client.post(
        _propose_url(complaint),
        {"kind": "refund", "amount": "40", "form_token": TOKEN},
        **HTMX,
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == _detail(complaint)
    assert Remedy.objects.get().status == Status.APPROVED


@pytest.mark.parametrize(
    ("kind", "amount", "message"),
    [
        ("refund", "-10", "The amount cannot be negative."),
        ("refund", "abc", "“abc” is not an amount"),
        ("cash", "10", "Select a valid choice."),
        ("refund", "10.123", "at most two decimals"),
    ],
)
def test_bad_input_comes_back_in_the_form(client, limits, make_complaint, kind, amount, message):
    complaint = make_complaint("in_progress")
    client.force_login(limits.agent)

    response = client.post(
        _propose_url(complaint),
        {"kind": kind, "amount": amount, "form_token": TOKEN},
        **HTMX,
    )

    assert response.status_code == 400
    assert response["HX-Retarget"] == "#remedy-panel"
    html = response.content.decode()
    assert message in html
    assert 'id="remedy-form"' in html
    assert f'value="{TOKEN}"' in html  # the same form: fixing it and sending is still once
    assert not Remedy.objects.exists()


def test_a_service_refusal_shows_in_the_form_on_the_whole_page(client, limits, make_complaint):
    from complaints.models import Sop

    Sop.objects.create(
        category=limits.category, version=1, title="Kettles", allowed_remedies=["repair"]
    )
    complaint = make_complaint("in_progress")
    client.force_login(limits.agent)

    response = _post_propose(client, complaint, amount="20")

    assert response.status_code == 400
    html = response.content.decode()
    assert "Allowed: Repair." in html
    assert 'id="complaint-detail"' in html  # the page, not a fragment
    assert not Remedy.objects.exists()
    assert not IdempotencyKey.objects.exists()  # rolled back: the same form may be sent again


def test_the_same_form_sent_twice_records_one_remedy(client, limits, make_complaint):
    complaint = make_complaint("in_progress")
    client.force_login(limits.agent)

    first = _post_propose(client, complaint)
    second = _post_propose(client, complaint)

    assert first.status_code == second.status_code == 302
    assert Remedy.objects.count() == 1
    assert "not proposed twice" in _messages(second)[-1]
    # Another form (another token) is another remedy.
    _post_propose(client, complaint, form_token="b" * 22)
    assert Remedy.objects.count() == 2


def test_a_form_without_its_token_is_refused(client, limits, make_complaint):
    complaint = make_complaint("in_progress")
    client.force_login(limits.agent)
    response = _post_propose(client, complaint, form_token="")
    assert response.status_code == 400
    assert not Remedy.objects.exists()


def test_an_agent_of_another_team_gets_404(client, limits, make_complaint):
    complaint = make_complaint("in_progress")
    client.force_login(limits.agent_b)
    assert _post_propose(client, complaint).status_code == 404
    assert not Remedy.objects.exists()


def test_anonymous_is_sent_to_sign_in(client, limits, make_complaint):
    complaint = make_complaint("in_progress")
    response = _post_propose(client, complaint)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    assert client.get(APPROVALS)["Location"].startswith("/accounts/login/")


# --- Approvals screen -------------------------------------------------------------------------


def _pending(limits, make_complaint, amount="250", **kwargs):
    return remedies.remedy_propose(
        complaint=make_complaint("in_progress", **kwargs),
        actor=limits.agent,
        kind=RemedyKind.REFUND,
        amount=amount,
        description="Half the price",
    )


def test_approvals_lists_what_the_supervisor_may_decide(client, limits, make_complaint):
    older = _pending(limits, make_complaint, title="Kettle leaks")
    newer = _pending(limits, make_complaint, amount="900")
    decided = _pending(limits, make_complaint)
    remedies.remedy_decide(remedy=decided, actor=limits.admin, approve=True)
    granted = remedies.remedy_propose(
        complaint=make_complaint("in_progress"), actor=limits.agent, kind="refund", amount="20"
    )
    client.force_login(limits.supervisor)

    response = client.get(APPROVALS)

    assert response.status_code == 200
    assert [r.pk for r in response.context["rows"]] == [older.pk, newer.pk]
    html = response.content.decode()
    row = html.split(f'id="approval-{older.pk}"')[1].split("</tr>")[0]
    assert older.complaint.tracking_number in row
    assert "Kettle leaks" in row
    assert "Front line A" in row
    assert "Refund" in row
    assert "250.00 CNY" in row
    assert "100.00 CNY" in row  # the proposer's limit it exceeds
    assert str(limits.agent) in row
    assert reverse("complaints:remedy-decide", args=[older.pk]) in row
    assert f'id="approval-{decided.pk}"' not in html
    assert f'id="approval-{granted.pk}"' not in html


def test_approvals_leaves_out_amounts_above_the_supervisors_limit(client, limits, make_complaint):
    remedy = _pending(limits, make_complaint, amount="800")
    AuthorityLimit.objects.filter(role="Supervisor").update(max_amount=Decimal("500"))
    client.force_login(limits.supervisor)
    response = client.get(APPROVALS)
    assert list(response.context["rows"]) == []
    assert "Nothing waits for your approval." in response.content.decode()
    assert remedy.status == Status.PENDING


@pytest.mark.parametrize("who", ["agent", "responder"])
def test_approvals_is_forbidden_to_non_supervisors(client, limits, who):
    client.force_login(getattr(limits, who))
    assert client.get(APPROVALS).status_code == 403


def test_approvals_screen_query_count_does_not_grow(client, limits, make_complaint):
    client.force_login(limits.supervisor)
    _pending(limits, make_complaint)
    client.get(APPROVALS)  # warm: session, content types

    def count() -> int:
        client.get(APPROVALS)  # configuration read once (config_cache)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(APPROVALS)
        assert response.status_code == 200
        return len(queries), len(response.context["rows"])

    one, rows = count()
    assert rows == 1
    # Nine more, from other proposers, customers and teams.
    for i in range(9):
        proposer = UserFactory(username=f"agent{i}x", role="Agent")
        complaint = make_complaint("in_progress", customer=CustomerFactory())
        limits.team.memberships.create(user=proposer)
        remedies.remedy_propose(
            complaint=complaint, actor=proposer, kind="voucher", amount=str(10 + i)
        )
    ten, rows = count()
    assert rows == 10
    assert ten == one


def test_approving_inline_with_htmx_returns_the_row(client, limits, make_complaint):
    remedy = _pending(limits, make_complaint)
    client.force_login(limits.supervisor)

    response = client.post(
        reverse("complaints:remedy-decide", args=[remedy.pk]), {"decision": "approve"}, **HTMX
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="approval-{remedy.pk}"' in html
    assert "approved" in html
    assert 'name="decision"' not in html
    remedy.refresh_from_db()
    assert remedy.status == Status.APPROVED and remedy.decided_by == limits.supervisor


def test_rejecting_without_a_reason_shows_why_in_the_row(client, limits, make_complaint):
    remedy = _pending(limits, make_complaint)
    client.force_login(limits.supervisor)
    url = reverse("complaints:remedy-decide", args=[remedy.pk])

    response = client.post(url, {"decision": "reject", "reason": ""}, **HTMX)

    assert response.status_code == 400
    assert response["HX-Retarget"] == f"#approval-{remedy.pk}"
    assert "Say why the remedy is rejected." in response.content.decode()
    remedy.refresh_from_db()
    assert remedy.status == Status.PENDING

    response = client.post(url, {"decision": "reject", "reason": "Too much"}, **HTMX)
    assert response.status_code == 200
    remedy.refresh_from_db()
    assert (remedy.status, remedy.decision_reason) == (Status.REJECTED, "Too much")


def test_deciding_twice_tells_the_second_it_was_already_decided(client, limits, make_complaint):
    remedy = _pending(limits, make_complaint)
    url = reverse("complaints:remedy-decide", args=[remedy.pk])
    client.force_login(limits.admin)
    client.post(url, {"decision": "approve", "next": APPROVALS})
    client.force_login(limits.supervisor)

    response = client.post(url, {"decision": "reject", "reason": "No", "next": APPROVALS})

    assert response.status_code == 302
    assert response["Location"] == APPROVALS
    assert "already approved by admin" in _messages(response)[-1]
    remedy.refresh_from_db()
    assert remedy.status == Status.APPROVED and remedy.decided_by == limits.admin


def test_the_proposer_cannot_approve_from_the_screen(client, limits, make_complaint):
    remedy = _pending(limits, make_complaint)
    client.force_login(limits.agent)
    url = reverse("complaints:remedy-decide", args=[remedy.pk])
    assert client.post(url, {"decision": "approve"}).status_code == 403
    client.force_login(limits.agent_b)
    assert client.post(url, {"decision": "approve"}).status_code == 403
    remedy.refresh_from_db()
    assert remedy.status == Status.PENDING


def test_supervisor_sees_decide_buttons_on_the_panel(client, limits, make_complaint):
    remedy = _pending(limits, make_complaint)
    client.force_login(limits.supervisor)
    html = client.get(_detail(remedy.complaint)).content.decode()
    item = html.split(f'id="remedy-{remedy.pk}"')[1].split("</li>")[0]
    assert 'data-remedy-action="approve"' in item
    assert 'data-remedy-action="reject"' in item
    client.force_login(limits.agent)
    html = client.get(_detail(remedy.complaint)).content.decode()
    item = html.split(f'id="remedy-{remedy.pk}"')[1].split("</li>")[0]
    assert 'data-remedy-action="approve"' not in item
    assert 'data-remedy-action="cancel"' in item  # the proposer may withdraw it


# --- Deliver and cancel -----------------------------------------------------------------------


def test_deliver_and_cancel_from_the_panel(client, limits, make_complaint):
    complaint = make_complaint("in_progress")
    granted = remedies.remedy_propose(
        complaint=complaint, actor=limits.agent, kind="refund", amount="30"
    )
    waiting = remedies.remedy_propose(
        complaint=complaint, actor=limits.agent, kind="voucher", amount="30"
    )
    client.force_login(limits.agent)
    detail = _detail(complaint)

    response = client.post(
        reverse("complaints:remedy-deliver", args=[granted.pk]), {"next": detail}
    )
    assert response["Location"] == detail
    assert "marked delivered" in _messages(response)[-1]

    refused = client.post(reverse("complaints:remedy-cancel", args=[waiting.pk]), {"next": detail})
    assert "This field is required." in _messages(refused)[-1]
    client.post(
        reverse("complaints:remedy-cancel", args=[waiting.pk]),
        {"next": detail, "reason": "Customer declined"},
    )

    assert Remedy.objects.get(pk=granted.pk).status == Status.DELIVERED
    assert Remedy.objects.get(pk=waiting.pk).status == Status.CANCELLED


def test_deliver_of_a_hidden_remedy_is_404(client, limits, make_complaint):
    remedy = _pending(limits, make_complaint)
    client.force_login(limits.agent_b)
    assert client.post(reverse("complaints:remedy-deliver", args=[remedy.pk])).status_code == 404


# --- The nav badge's tag, and the admin -------------------------------------------------------


def test_approvals_count_tag(limits, make_complaint, django_assert_num_queries):
    _pending(limits, make_complaint)
    template = Template("{% load remedy_tags %}{% approvals_count user %}")
    assert template.render(Context({"user": limits.supervisor})) == "1"
    with django_assert_num_queries(0):  # the agent's roles are cached: no remedy query
        assert template.render(Context({"user": limits.agent})) == "0"


def test_admin_edits_limits_and_reads_remedies(client, limits, make_complaint):
    remedy = _pending(limits, make_complaint)
    client.force_login(limits.admin)
    limit = AuthorityLimit.objects.get(role="Agent", kind="refund")

    listing = client.get(reverse("admin:complaints_authoritylimit_changelist"))
    assert listing.status_code == 200
    assert "100.00 CNY" in listing.content.decode()
    response = client.post(
        reverse("admin:complaints_authoritylimit_change", args=[limit.pk]),
        {"role": "Agent", "kind": "refund", "max_amount": "150"},
    )
    assert response.status_code == 302
    limit.refresh_from_db()
    assert limit.max_amount == Decimal("150")

    remedies_list = client.get(reverse("admin:complaints_remedy_changelist"), {"status": "pending"})
    assert remedies_list.status_code == 200
    assert remedy.complaint.tracking_number in remedies_list.content.decode()
    change = client.get(reverse("admin:complaints_remedy_change", args=[remedy.pk]))
    assert change.status_code == 200
    assert not change.context["has_change_permission"]
    assert client.get(reverse("admin:complaints_remedy_add")).status_code == 403


def test_a_page_left_open_while_the_complaint_was_resolved_says_why(client, limits, make_complaint):
    from complaints.services import transitions as t

    complaint = make_complaint("in_progress")
    t.complaint_resolve(
        complaint=complaint,
        actor=limits.agent,
        summary="Replaced",
        root_cause="product_defect",
        remedy="Replacement",
    )
    client.force_login(limits.agent)

    response = _post_propose(client, complaint, headers=HTMX)

    assert response.status_code == 400
    assert response["HX-Retarget"] == "#remedy-panel"
    assert "reopen it before proposing" in response.content.decode()
    assert not Remedy.objects.exists()


def test_refused_above_every_limit_says_so_above_the_form(client, limits, make_complaint):
    complaint = make_complaint("in_progress")
    client.force_login(limits.agent)
    response = _post_propose(client, complaint, amount="5000")
    html = response.content.decode()
    assert response.status_code == 400
    assert "Nobody may approve a refund of 5,000.00 CNY" in html
    assert "Above every supervisor&#x27;s limit." in html
