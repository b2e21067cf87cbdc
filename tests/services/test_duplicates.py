"""Duplicate detection, repeat complaints, and the agent's decision on a flag."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from complaints.errors import ActionForbidden, InvalidInput, NotFound
from complaints.models import ComplaintEvent, DuplicateFlag, StatusChange
from complaints.services import attachments, duplicates
from complaints.services.messages import complaint_record_customer_message
from complaints.services.transitions import complaint_merge, complaint_triage
from tests.factories import CustomerFactory, ProductFactory

pytestmark = pytest.mark.django_db

Kind = ComplaintEvent.Kind
KETTLE_LEAKS = "水壶漏水，底座有裂缝"
KETTLE_LEAKS_AGAIN = "我的水壶底座裂开了还漏水"
PARCEL_LATE = "快递三天了还没送到，客服也不回复"


def _says(text: str) -> dict:
    """A complaint whose title and description both say `text`."""
    return {"title": text, "description": text}


def _pair(flag_a: DuplicateFlag):
    return set(
        DuplicateFlag.objects.filter(
            complaint__in=[flag_a.complaint_id, flag_a.other_id],
            other__in=[flag_a.complaint_id, flag_a.other_id],
        ).values_list("complaint_id", "other_id", "reason", "decision")
    )


# --- Similarity ---------------------------------------------------------------------------------


def test_chinese_paraphrase_is_similar_without_a_segmenter():
    assert duplicates.similarity(KETTLE_LEAKS, KETTLE_LEAKS_AGAIN) >= (
        duplicates.SIMILARITY_THRESHOLD
    )
    assert duplicates.similarity(KETTLE_LEAKS, PARCEL_LATE) == 0.0
    # Same product, another problem: below the threshold.
    assert duplicates.similarity(KETTLE_LEAKS, "水壶的开关坏了，按下去没反应") < (
        duplicates.SIMILARITY_THRESHOLD
    )


def test_english_is_compared_by_lower_cased_words_without_stop_words():
    score = duplicates.similarity(
        "The kettle LEAKS and the base is cracked", "My kettle base cracked and it leaks water"
    )
    assert score >= duplicates.SIMILARITY_THRESHOLD
    assert duplicates.similarity("The kettle leaks", "The parcel is late") == 0.0
    assert duplicates.tokens("The kettle's base")["the"] == 0


# --- Flagging -----------------------------------------------------------------------------------


def test_same_product_still_open_is_flagged_on_both(make_complaint):
    customer, product = CustomerFactory(), ProductFactory()
    first = make_complaint("in_progress", customer=customer, product=product, **_says(PARCEL_LATE))
    second = make_complaint(customer=customer, product=product, **_says(KETTLE_LEAKS))
    flag = DuplicateFlag.objects.get(complaint=second)
    assert flag.other_id == first.pk
    assert flag.reason == DuplicateFlag.Reason.SAME_SUBJECT_OPEN
    assert flag.decision == DuplicateFlag.Decision.OPEN
    reverse = DuplicateFlag.objects.get(complaint=first)
    assert (reverse.other_id, reverse.reason) == (second.pk, flag.reason)
    assert [f.other_id for f in duplicates.duplicates_open_for(first)] == [second.pk]


def test_same_category_still_open_is_flagged(org, make_complaint):
    customer = CustomerFactory()
    first = make_complaint("triaged", customer=customer, **_says(PARCEL_LATE))  # quality
    second = make_complaint(customer=customer, category=org.category, **_says(KETTLE_LEAKS))
    assert DuplicateFlag.objects.get(complaint=second).other_id == first.pk


def test_similar_chinese_text_is_flagged_on_both(make_complaint):
    customer = CustomerFactory()
    first = make_complaint(customer=customer, **_says(KETTLE_LEAKS))
    second = make_complaint(customer=customer, channel="phone", **_says(KETTLE_LEAKS_AGAIN))
    flag = DuplicateFlag.objects.get(complaint=second)
    assert flag.other_id == first.pk
    assert flag.reason == DuplicateFlag.Reason.SIMILAR_TEXT
    assert flag.score >= duplicates.SIMILARITY_THRESHOLD
    assert DuplicateFlag.objects.filter(complaint=first, other=second).exists()


def test_similar_text_of_a_finished_complaint_is_flagged_within_the_window(make_complaint):
    customer = CustomerFactory()
    first = make_complaint("resolved", customer=customer, **_says(KETTLE_LEAKS))
    second = make_complaint(customer=customer, **_says(KETTLE_LEAKS_AGAIN))
    assert DuplicateFlag.objects.get(complaint=second).other_id == first.pk


def test_unrelated_text_is_not_flagged(make_complaint):
    customer = CustomerFactory()
    make_complaint(customer=customer, **_says(KETTLE_LEAKS))
    make_complaint(customer=customer, **_says(PARCEL_LATE))
    assert not DuplicateFlag.objects.exists()


def test_another_customers_same_text_is_not_flagged(make_complaint):
    product = ProductFactory()
    make_complaint(customer=CustomerFactory(), product=product, **_says(KETTLE_LEAKS))
    make_complaint(customer=CustomerFactory(), product=product, **_says(KETTLE_LEAKS))
    assert not DuplicateFlag.objects.exists()


def test_similar_text_about_two_different_products_is_not_flagged(make_complaint):
    customer = CustomerFactory()
    make_complaint(customer=customer, product=ProductFactory(), **_says(KETTLE_LEAKS))
    make_complaint(customer=customer, product=ProductFactory(), **_says(KETTLE_LEAKS_AGAIN))
    assert not DuplicateFlag.objects.exists()


def test_similar_text_older_than_the_window_is_not_flagged(make_complaint, settings):
    settings.COMPLAINT_DUPLICATE_DAYS = 7
    customer = CustomerFactory()
    make_complaint(
        "resolved",
        customer=customer,
        received_at=timezone.now() - timedelta(days=8),
        **_says(KETTLE_LEAKS),
    )
    make_complaint(customer=customer, **_says(KETTLE_LEAKS_AGAIN))
    assert not DuplicateFlag.objects.exists()


def test_a_merged_complaint_is_not_flagged_again(org, make_complaint):
    customer = CustomerFactory()
    primary = make_complaint(customer=customer, **_says(PARCEL_LATE))
    merged = make_complaint(customer=customer, **_says(KETTLE_LEAKS))
    complaint_merge(complaint=merged, actor=org.agent, target=primary)
    # Similar to the merged complaint only: nothing left to decide.
    third = make_complaint(customer=customer, **_says(KETTLE_LEAKS_AGAIN))
    assert not DuplicateFlag.objects.exists()
    assert third.status == "new"


# --- Repeat complaints --------------------------------------------------------------------------


def test_repeat_of_is_set_after_a_closed_complaint_about_the_same_product(make_complaint):
    customer, product = CustomerFactory(), ProductFactory()
    closed = make_complaint("closed", customer=customer, product=product, **_says(PARCEL_LATE))
    again = make_complaint(customer=customer, product=product, **_says(KETTLE_LEAKS))
    assert again.repeat_of_id == closed.pk
    first_history = again.history.earliest("history_date")
    assert first_history.repeat_of_id == closed.pk
    received = again.events.get(kind=Kind.RECEIVED)
    assert received.data["repeat_of"] == {
        "id": closed.pk,
        "tracking_number": closed.tracking_number,
    }
    # Closed: a repeat, not a possible duplicate of an open complaint.
    assert not DuplicateFlag.objects.filter(complaint=again).exists()


def test_repeat_of_uses_the_category_when_there_is_no_product(org, make_complaint):
    customer = CustomerFactory()
    closed = make_complaint("closed", customer=customer, **_says(PARCEL_LATE))  # quality
    again = make_complaint(customer=customer, category=org.category, **_says(KETTLE_LEAKS))
    other = make_complaint(customer=customer, category=org.category_b, **_says("账单多扣了钱"))
    assert again.repeat_of_id == closed.pk
    assert other.repeat_of_id is None


def test_no_repeat_for_another_product_or_an_open_complaint(make_complaint):
    customer, product = CustomerFactory(), ProductFactory()
    make_complaint("closed", customer=customer, product=ProductFactory(), **_says(PARCEL_LATE))
    make_complaint("in_progress", customer=customer, product=product, **_says(PARCEL_LATE))
    again = make_complaint(customer=customer, product=product, **_says(KETTLE_LEAKS))
    assert again.repeat_of_id is None


def test_no_repeat_after_the_window(make_complaint):
    customer, product = CustomerFactory(), ProductFactory()
    closed = make_complaint("closed", customer=customer, product=product, **_says(PARCEL_LATE))
    later = timezone.now() + duplicates.REPEAT_WINDOW + timedelta(days=1)
    again = make_complaint(
        customer=customer, product=product, received_at=later, **_says(KETTLE_LEAKS)
    )
    assert closed.closed_at is not None
    assert again.repeat_of_id is None


# --- Decisions ----------------------------------------------------------------------------------


@pytest.fixture
def flagged(org, make_complaint, settings, tmp_path):
    """(primary in progress, duplicate just received with a customer attachment and a
    customer message, the flag on the duplicate)."""
    settings.MEDIA_ROOT = tmp_path
    customer = CustomerFactory()
    primary = make_complaint("in_progress", customer=customer, **_says(KETTLE_LEAKS))
    duplicate = make_complaint(customer=customer, channel="phone", **_says(KETTLE_LEAKS_AGAIN))
    received = duplicate.events.get(kind=Kind.RECEIVED)
    photo = attachments.attachment_add(
        complaint=duplicate,
        actor=org.agent,
        upload=SimpleUploadedFile("photo.txt", b"crack photo"),
        internal=False,
        event=received,
    )
    note_file = attachments.attachment_add(
        complaint=duplicate, actor=org.agent, upload=SimpleUploadedFile("call.txt", b"notes")
    )
    complaint_record_customer_message(complaint=duplicate, body="底座的照片在附件里")
    flag = DuplicateFlag.objects.get(complaint=duplicate, other=primary)
    return primary, duplicate, flag, photo, note_file


def test_duplicate_merge_merges_and_shows_the_messages_on_the_primary(org, flagged):
    primary, duplicate, flag, photo, note_file = flagged
    result = duplicates.duplicate_merge(flag=flag, actor=org.agent)

    assert result.pk == primary.pk
    duplicate.refresh_from_db()
    primary.refresh_from_db()
    assert duplicate.status == "merged"
    assert duplicate.merged_into_id == primary.pk
    assert primary.status == "in_progress"
    change = StatusChange.objects.get(complaint=duplicate, transition="merge")
    assert change.actor == org.agent
    assert duplicate.history.first().status == "merged"

    merged_event = primary.events.get(kind=Kind.MERGED)
    assert merged_event.data["merged"]["id"] == duplicate.pk
    copies = list(primary.events.filter(data__from=duplicate.tracking_number).order_by("pk"))
    assert [(e.kind, e.body, e.is_internal) for e in copies] == [
        (Kind.CUSTOMER_MESSAGE, KETTLE_LEAKS_AGAIN, False),
        (Kind.CUSTOMER_MESSAGE, "底座的照片在附件里", False),
        (Kind.ATTACHMENT_ADDED, "call.txt", True),
    ]
    assert copies[0].data["original_kind"] == Kind.RECEIVED
    assert copies[0].data["attachments"] == [photo.pk]
    assert copies[1].data["attachments"] == []
    assert copies[2].data["attachments"] == [note_file.pk]
    # The files stay on the duplicate.
    photo.refresh_from_db()
    assert photo.complaint_id == duplicate.pk

    assert _pair(flag) == {
        (duplicate.pk, primary.pk, "similar_text", "merged"),
        (primary.pk, duplicate.pk, "similar_text", "merged"),
    }
    assert set(DuplicateFlag.objects.values_list("decided_by", flat=True)) == {org.agent.pk}
    assert not duplicates.duplicates_open_for(primary).exists()


def test_duplicate_dismiss_decides_both_directions(org, flagged):
    primary, duplicate, flag, *_ = flagged
    duplicates.duplicate_dismiss(flag=flag, actor=org.supervisor)
    assert _pair(flag) == {
        (duplicate.pk, primary.pk, "similar_text", "dismissed"),
        (primary.pk, duplicate.pk, "similar_text", "dismissed"),
    }
    assert not duplicates.duplicates_open_for(primary).exists()
    assert not duplicates.duplicates_open_for(duplicate).exists()
    duplicate.refresh_from_db()
    assert duplicate.status == "new"
    with pytest.raises(InvalidInput, match="already decided"):
        duplicates.duplicate_merge(flag=flag, actor=org.agent)


def test_deciding_is_refused_for_an_outsider(org, flagged):
    _primary, duplicate, flag, *_ = flagged
    # Someone who may not see the complaint learns nothing about it.
    for decide in (duplicates.duplicate_dismiss, duplicates.duplicate_merge):
        with pytest.raises(NotFound):
            decide(flag=flag, actor=org.outsider)
    duplicate.refresh_from_db()
    assert duplicate.status == "new"
    assert set(DuplicateFlag.objects.values_list("decision", flat=True)) == {"open"}


def test_deciding_is_refused_for_a_department_responder(org, flagged):
    _primary, duplicate, flag, *_ = flagged
    # In the department's queue, so the responder may see it, but not decide.
    complaint_triage(
        complaint=duplicate,
        actor=org.supervisor,
        category=org.category,
        priority=org.p3,
        team=org.department,
    )
    with pytest.raises(ActionForbidden):
        duplicates.duplicate_dismiss(flag=flag, actor=org.responder)
    assert set(DuplicateFlag.objects.values_list("decision", flat=True)) == {"open"}


def test_open_duplicates_leave_out_merged_and_invisible_complaints(org, make_complaint):
    customer = CustomerFactory()
    first = make_complaint(customer=customer, **_says(KETTLE_LEAKS))
    second = make_complaint(customer=customer, **_says(KETTLE_LEAKS_AGAIN))
    third = make_complaint(customer=customer, **_says("水壶漏水了，底座有一道裂缝"))
    assert {f.other_id for f in duplicates.duplicates_open_for(first)} == {second.pk, third.pk}
    complaint_merge(complaint=third, actor=org.agent, target=second)
    assert [f.other_id for f in duplicates.duplicates_open_for(first)] == [second.pk]
    assert not duplicates.duplicates_open_for(third).exists()
    # agent_b sees only team B's complaints and the untriaged intake.
    assert duplicates.duplicates_open_for(first, user=org.agent_b).count() == 1
    assert duplicates.duplicates_open_for(first, user=org.outsider).count() == 0
