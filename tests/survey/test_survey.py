"""The satisfaction survey (满意度回访): signed single-use links per handling round,
satisfied → closed, unsatisfied → reopened and escalated, and the public page."""

import time
from unittest import mock

import pytest
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from complaints.errors import InvalidInput
from complaints.models import (
    ComplaintEvent,
    Escalation,
    OutboxMessage,
    StatusChange,
    SurveyResponse,
)
from complaints.services import survey
from complaints.services import transitions as t

pytestmark = pytest.mark.django_db
Kind = ComplaintEvent.Kind
NEUTRAL = "This survey link is not valid any more"


@pytest.fixture(autouse=True)
def fresh_cache():
    # Rate limits count in the cache: every test starts with none used.
    cache.clear()
    yield
    cache.clear()


def url(token: str) -> str:
    return reverse("complaints:public-survey", args=[token])


def state(complaint) -> tuple:
    complaint.refresh_from_db()
    return (
        complaint.status,
        complaint.reopen_count,
        SurveyResponse.objects.filter(complaint=complaint).count(),
        Escalation.objects.filter(complaint=complaint).count(),
        StatusChange.objects.filter(complaint=complaint).count(),
    )


def answer(client, token: str, **data):
    payload = {"rating": "5", "solved": "yes", "comment": ""}
    payload.update(data)
    return client.post(url(token), payload)


# --- Tokens ------------------------------------------------------------------------------


def test_valid_token_names_its_complaint(make_complaint):
    complaint = make_complaint("resolved")
    assert survey.survey_check(survey.survey_token(complaint)) == complaint


def test_token_of_another_complaint_is_refused(make_complaint, client):
    complaint = make_complaint("resolved")
    other = make_complaint("resolved")
    # The other complaint's signature with this complaint's number.
    forged = complaint.tracking_number + survey.survey_token(other)[len(other.tracking_number) :]
    before = state(complaint)
    with pytest.raises(InvalidInput) as refused:
        survey.survey_check(forged)
    assert str(refused.value).startswith(NEUTRAL)
    response = answer(client, forged, rating="1", solved="no")
    assert NEUTRAL in response.text
    assert state(complaint) == before


@pytest.mark.parametrize(
    "mangle",
    [
        lambda tok: tok[:-1] + ("A" if tok[-1] != "A" else "B"),
        lambda tok: tok.replace(":", ":x", 1),
        lambda tok: "garbage",
        lambda tok: "",
    ],
)
def test_tampered_token_is_refused(make_complaint, client, mangle):
    complaint = make_complaint("resolved")
    token = mangle(survey.survey_token(complaint))
    before = state(complaint)
    with pytest.raises(InvalidInput, match=NEUTRAL):
        survey.survey_check(token)
    if token:
        assert NEUTRAL in client.get(url(token)).text
        assert NEUTRAL in answer(client, token, rating="1", solved="no").text
    assert state(complaint) == before


def test_expired_token_is_refused(make_complaint, client, settings):
    settings.COMPLAINT_SURVEY_DAYS = 14
    complaint = make_complaint("resolved")
    with mock.patch("django.core.signing.time.time", return_value=time.time() - 15 * 86400):
        token = survey.survey_token(complaint)
    before = state(complaint)
    with pytest.raises(InvalidInput, match=NEUTRAL):
        survey.survey_check(token)
    assert NEUTRAL in answer(client, token).text
    assert state(complaint) == before
    # Within the configured age the same token still works.
    settings.COMPLAINT_SURVEY_DAYS = 16
    assert survey.survey_check(token) == complaint


def test_token_of_an_earlier_round_is_refused(make_complaint, org, client):
    complaint = make_complaint("resolved")
    old_token = survey.survey_token(complaint)
    t.complaint_reopen(complaint=complaint, actor=org.supervisor, reason="Not fixed")
    t.complaint_assign(complaint=complaint, actor=org.supervisor, assignee=org.agent)
    t.complaint_start(complaint=complaint, actor=org.agent)
    t.complaint_resolve(
        complaint=complaint,
        actor=org.agent,
        summary="Refunded",
        root_cause="product_defect",
        remedy="Refund",
    )
    assert complaint.reopen_count == 1
    before = state(complaint)
    with pytest.raises(InvalidInput, match=NEUTRAL):
        survey.survey_check(old_token)
    assert NEUTRAL in answer(client, old_token).text
    assert state(complaint) == before
    # The new round's link works and is answered for round 1.
    response = answer(client, survey.survey_token(complaint))
    assert response.status_code == 302
    assert SurveyResponse.objects.get(complaint=complaint).cycle == 1


def test_reused_token_is_refused_and_nothing_changes(make_complaint, client):
    complaint = make_complaint("resolved")
    token = survey.survey_token(complaint)
    assert answer(client, token, rating="4").status_code == 302
    before = state(complaint)
    assert before[0] == "closed"
    for response in (client.get(url(token)), answer(client, token, rating="1", solved="no")):
        assert response.status_code == 200
        assert NEUTRAL in response.text
        assert "survey-form" not in response.text
    assert state(complaint) == before


# --- Outcomes ----------------------------------------------------------------------------


def test_satisfied_closes_as_the_system(make_complaint):
    complaint = make_complaint("resolved")
    response = survey.survey_submit(complaint=complaint, rating=4, solved=True, comment="")
    complaint.refresh_from_db()
    assert complaint.status == "closed"
    assert (response.cycle, response.rating, response.solved) == (0, 4, True)
    change = complaint.status_changes.last()
    assert change.transition == "close"
    assert change.actor is None
    assert change.reason == "Customer satisfied (survey: 4/5)"
    assert not Escalation.objects.filter(complaint=complaint).exists()


def test_satisfied_comment_is_on_the_timeline_and_does_not_reopen(make_complaint):
    complaint = make_complaint("resolved")
    survey.survey_submit(complaint=complaint, rating=5, solved=True, comment="Thanks, quick!")
    complaint.refresh_from_db()
    assert complaint.status == "closed"
    event = complaint.events.get(kind=Kind.CUSTOMER_MESSAGE)
    assert (event.body, event.is_internal, event.actor) == ("Thanks, quick!", False, None)


def test_unsatisfied_reopens_and_escalates_with_the_comment(make_complaint):
    complaint = make_complaint("resolved")
    survey.survey_submit(
        complaint=complaint, rating=2, solved=True, comment="  还是坏的 / still broken  "
    )
    complaint.refresh_from_db()
    assert complaint.status == "reopened"
    assert complaint.reopen_count == 1
    change = complaint.status_changes.last()
    assert change.transition == "reopen"
    assert change.actor is None
    assert change.reason.startswith("Customer not satisfied (survey")
    assert change.reason.endswith(": 还是坏的 / still broken")
    escalation = Escalation.objects.get(complaint=complaint)
    assert escalation.reason == Escalation.Reason.UNSATISFIED
    assert escalation.settled_at is None
    assert escalation.note == "还是坏的 / still broken"
    assert complaint.escalation_level >= 1
    message = complaint.events.get(kind=Kind.CUSTOMER_MESSAGE)
    assert message.body == "还是坏的 / still broken"
    assert message.is_internal is False
    assert message.data["survey"] == {"cycle": 0, "rating": 2, "solved": True}
    assert SurveyResponse.objects.get(complaint=complaint).cycle == 0


def test_not_solved_reopens_even_with_the_best_rating(make_complaint):
    complaint = make_complaint("resolved")
    survey.survey_submit(complaint=complaint, rating=5, solved=False, comment="")
    complaint.refresh_from_db()
    assert complaint.status == "reopened"
    assert Escalation.objects.get(complaint=complaint).reason == "unsatisfied"


def test_threshold_is_configurable(make_complaint, settings):
    settings.COMPLAINT_SURVEY_THRESHOLD = 3
    complaint = make_complaint("resolved")
    survey.survey_submit(complaint=complaint, rating=3, solved=True)
    complaint.refresh_from_db()
    assert complaint.status == "reopened"


def test_answering_twice_is_refused(make_complaint):
    complaint = make_complaint("resolved")
    survey.survey_submit(complaint=complaint, rating=1, solved=False, comment="Bad")
    before = state(complaint)
    with pytest.raises(InvalidInput):
        survey.survey_submit(complaint=complaint, rating=5, solved=True, comment="")
    assert state(complaint) == before


def test_the_database_allows_one_answer_per_round(make_complaint):
    complaint = make_complaint("resolved")
    SurveyResponse.objects.create(
        complaint=complaint, cycle=0, rating=3, solved=True, answered_at=timezone.now()
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        SurveyResponse.objects.create(
            complaint=complaint, cycle=0, rating=5, solved=True, answered_at=timezone.now()
        )
    # Already answered in the database, while still resolved: refused, nothing changes.
    before = state(complaint)
    with pytest.raises(InvalidInput, match="already been answered"):
        survey.survey_submit(complaint=complaint, rating=5, solved=True)
    assert state(complaint) == before


@pytest.mark.parametrize("rating", [0, 6])
def test_the_database_refuses_a_rating_outside_1_to_5(make_complaint, rating):
    complaint = make_complaint("resolved")
    with pytest.raises(IntegrityError), transaction.atomic():
        SurveyResponse.objects.create(
            complaint=complaint, cycle=0, rating=rating, solved=True, answered_at=timezone.now()
        )


@pytest.mark.parametrize("status", ["in_progress", "closed", "reopened"])
def test_only_a_resolved_complaint_takes_an_answer(make_complaint, status):
    complaint = make_complaint(status)
    before = state(complaint)
    with pytest.raises(InvalidInput, match=NEUTRAL):
        survey.survey_submit(complaint=complaint, rating=5, solved=True)
    assert state(complaint) == before


@pytest.mark.parametrize("rating", [0, 6, "x", None])
def test_service_refuses_an_invalid_rating(make_complaint, rating):
    complaint = make_complaint("resolved")
    with pytest.raises(InvalidInput) as refused:
        survey.survey_submit(complaint=complaint, rating=rating, solved=True)
    assert "rating" in refused.value.fields
    assert state(complaint)[2] == 0


# --- The resolution email ----------------------------------------------------------------


def test_resolution_email_carries_the_survey_link(make_complaint, settings):
    settings.SITE_URL = "https://service.example.com"
    complaint = make_complaint("resolved")
    prefix = "https://service.example.com/survey/"
    mails = OutboxMessage.objects.filter(complaint=complaint, channel="email")
    resolved = [m for m in mails if prefix in m.body]
    assert len(resolved) == 1  # the resolution mail only, not the acknowledgment
    assert complaint.resolution_summary in resolved[0].body
    link = next(line for line in resolved[0].body.splitlines() if line.startswith(prefix))
    token = link.removeprefix(prefix).removesuffix("/")
    assert link == "https://service.example.com" + url(token)
    assert survey.survey_check(token) == complaint


# --- The public page ---------------------------------------------------------------------


def test_page_renders_the_form(make_complaint, client):
    complaint = make_complaint("resolved")
    response = client.get(url(survey.survey_token(complaint)), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert 'lang="en"' in response.text
    assert 'name="csrfmiddlewaretoken"' in response.text
    for value in range(1, 6):
        assert f'type="radio" name="rating" id="id_rating_{5 - value}" value="{value}"' in (
            response.text
        )
    assert 'name="solved"' in response.text
    assert 'name="comment"' in response.text
    assert complaint.tracking_number in response.text
    assert response["Cache-Control"].startswith("max-age=0")


def test_page_speaks_the_browsers_language(make_complaint, client):
    complaint = make_complaint("resolved")
    response = client.get(url(survey.survey_token(complaint)), HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert response.status_code == 200
    assert 'lang="zh-hans"' in response.text


def test_page_posts_an_unsatisfied_answer(make_complaint, client):
    complaint = make_complaint("resolved")
    response = answer(
        client, survey.survey_token(complaint), rating="2", solved="yes", comment="Too slow"
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("complaints:public-survey-thanks")
    thanks = client.get(response["Location"])
    assert "survey-thanks" in thanks.text
    complaint.refresh_from_db()
    assert complaint.status == "reopened"
    assert complaint.events.filter(kind=Kind.CUSTOMER_MESSAGE, body="Too slow").exists()


@pytest.mark.parametrize("rating", ["0", "6", "x", ""])
def test_page_shows_an_error_for_an_invalid_rating(make_complaint, client, rating):
    complaint = make_complaint("resolved")
    response = answer(client, survey.survey_token(complaint), rating=rating)
    assert response.status_code == 400
    assert "Choose a rating from 1 to 5." in response.text
    assert 'id="id_rating_error"' in response.text
    assert state(complaint)[:3] == ("resolved", 0, 0)


def test_page_requires_the_solved_answer(make_complaint, client):
    complaint = make_complaint("resolved")
    response = answer(client, survey.survey_token(complaint), solved="")
    assert response.status_code == 400
    assert "Tell us whether your problem was solved." in response.text


def test_page_refuses_a_too_long_comment(make_complaint, client):
    complaint = make_complaint("resolved")
    response = answer(client, survey.survey_token(complaint), comment="x" * 2001)
    assert response.status_code == 400
    assert state(complaint)[:3] == ("resolved", 0, 0)


def test_page_needs_csrf(make_complaint):
    from django.test import Client

    complaint = make_complaint("resolved")
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(url(survey.survey_token(complaint)), {"rating": "5", "solved": "yes"})
    assert response.status_code == 403
    assert state(complaint)[:3] == ("resolved", 0, 0)


def test_page_is_rate_limited(make_complaint, client, settings):
    complaint = make_complaint("resolved")
    token = survey.survey_token(complaint)
    with mock.patch("complaints.views.public.survey.LINK_LIMIT", (2, 600)):
        assert client.get(url(token)).status_code == 200
        assert client.get(url(token)).status_code == 200
        limited = client.get(url(token))
    assert limited.status_code == 429
    assert "Retry-After" in limited


def test_the_status_page_links_to_the_open_survey_only(client, make_complaint):
    from django.urls import reverse

    from complaints import public_links
    from complaints.services import survey

    complaint = make_complaint("resolved")
    link = public_links.status_url(complaint)
    page = client.get(link, follow=True).content.decode()
    assert reverse("complaints:public-survey", args=[survey.survey_token(complaint)]) in page
    survey.survey_submit(complaint=complaint, rating=5, solved=True, comment="")
    page = client.get(link, follow=True).content.decode()
    assert 'id="survey-link"' not in page
