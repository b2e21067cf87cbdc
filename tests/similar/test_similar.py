"""Similar resolved complaints: ranking (English and Chinese), what is never
suggested, visibility, bounded work, and the card the detail page loads with htmx.
Runs on SQLite (token cosine) and on PostgreSQL (pg_trgm)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from complaints.services import similar
from complaints.services import transitions as t

pytestmark = pytest.mark.django_db

KETTLE = ("Kettle leaks water", "The kettle base is cracked and it leaks water everywhere.")
KETTLE_LIKE = ("Leaking kettle", "My kettle started leaking from a crack in the base.")
KETTLE_SWITCH = ("Kettle switch broken", "The kettle switch does not turn on anymore.")
INVOICE = ("Invoice wrong", "The invoice shows the wrong company name, please fix it.")
LATE = ("Late delivery", "The parcel arrived two weeks late and the box was damaged.")

SCREEN = ("手机屏幕碎了", "我的手机摔了一下屏幕就碎了，要求换屏。")
SCREEN_LIKE = ("屏幕碎裂", "手机掉在地上后屏幕出现裂痕，申请维修。")
PARCEL = ("快递延误", "订单已经一周了还没有收到快递，物流信息不更新。")
RECEIPT = ("发票开错了", "发票抬头写错了，请重新开具。")


def numbers(results) -> list[str]:
    return [r.complaint.tracking_number for r in results]


def test_the_obviously_similar_english_complaint_ranks_first(org, settled):
    like = settled(*KETTLE_LIKE, summary="Replaced the cracked base")
    switch = settled(*KETTLE_SWITCH, summary="Replaced the switch")
    invoice = settled(*INVOICE, summary="Invoice reissued")
    late = settled(*LATE, summary="Shipping refunded")
    mine = settled(*KETTLE, state="in_progress")

    results = similar.similar_resolved(complaint=mine, user=org.agent)

    assert numbers(results)[0] == like.tracking_number
    first = results[0]
    assert first.complaint.resolution_summary == "Replaced the cracked base"
    assert first.complaint.root_cause == "product_defect"
    assert first.complaint.remedy_decision == "Replacement shipped"
    assert 0 < first.score <= 1
    scores = [r.score for r in results]
    assert scores == sorted(scores, reverse=True)
    # Unrelated complaints are not suggested, or at least rank below the similar ones.
    found = numbers(results)
    for unrelated in (invoice, late):
        if unrelated.tracking_number in found:
            assert found.index(unrelated.tracking_number) > found.index(like.tracking_number)
    if switch.tracking_number in found:
        assert found.index(switch.tracking_number) > 0


def test_the_obviously_similar_chinese_complaint_ranks_first(org, settled):
    like = settled(*SCREEN_LIKE, summary="已更换屏幕")
    parcel = settled(*PARCEL, summary="已补发")
    receipt = settled(*RECEIPT, summary="已重开发票")
    mine = settled(*SCREEN, state="in_progress")

    results = similar.similar_resolved(complaint=mine, user=org.agent)

    assert numbers(results)[:1] == [like.tracking_number]
    assert results[0].complaint.resolution_summary == "已更换屏幕"
    assert parcel.tracking_number not in numbers(results)
    assert receipt.tracking_number not in numbers(results)


def test_chinese_works_where_pg_trgm_cannot_read_it(org, settled, monkeypatch):
    # A database whose LC_CTYPE is "C" drops CJK characters from trigrams: Chinese
    # text is then compared by tokens instead.
    monkeypatch.setattr(similar, "_pg_trgm_reads_cjk", lambda alias: False)
    like = settled(*SCREEN_LIKE)
    parcel = settled(*PARCEL)
    mine = settled(*SCREEN, state="in_progress")

    with CaptureQueriesContext(connection) as queries:
        results = similar.similar_resolved(complaint=mine, user=org.agent)

    assert numbers(results) == [like.tracking_number]
    assert parcel.tracking_number not in numbers(results)
    assert not any("word_similarity" in q["sql"] for q in queries.captured_queries)


def test_postgresql_ranks_with_pg_trgm(org, settled):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    like = settled(*KETTLE_LIKE)
    mine = settled(*KETTLE, state="in_progress")
    with CaptureQueriesContext(connection) as queries:
        results = similar.similar_resolved(complaint=mine, user=org.agent)
    assert numbers(results)[:1] == [like.tracking_number]
    assert any("word_similarity" in q["sql"] for q in queries.captured_queries)
    # This cluster's LC_CTYPE (C.UTF-8) keeps Chinese characters in trigrams.
    assert similar._pg_trgm_reads_cjk(connection.alias) is True


def test_closed_complaints_are_suggested_open_ones_never(org, settled, make_complaint):
    closed = settled(*KETTLE_LIKE, state="closed")
    in_progress = settled(*KETTLE_LIKE, state="in_progress")
    reopened = settled(*KETTLE_LIKE, state="reopened")
    triaged = settled(*KETTLE_LIKE, state="triaged")
    rejected = make_complaint("rejected", title=KETTLE_LIKE[0], description=KETTLE_LIKE[1])
    mine = settled(*KETTLE, state="in_progress")

    found = numbers(similar.similar_resolved(complaint=mine, user=org.supervisor))

    assert found == [closed.tracking_number]
    for never in (in_progress, reopened, triaged, rejected, mine):
        assert never.tracking_number not in found


def test_a_resolved_complaint_is_not_its_own_match(org, settled):
    mine = settled(*KETTLE)
    twin = settled(*KETTLE)
    assert numbers(similar.similar_resolved(complaint=mine, user=org.agent)) == [
        twin.tracking_number
    ]


def test_merged_complaints_are_not_suggested(org, settled):
    target = settled(*KETTLE_LIKE, state="in_progress")
    dup = settled(*KETTLE_LIKE, state="triaged", customer=target.customer)
    t.complaint_merge(complaint=dup, actor=org.supervisor, target=target)
    mine = settled(*KETTLE, state="in_progress")
    assert similar.similar_resolved(complaint=mine, user=org.supervisor) == []


def test_a_complaint_of_a_team_the_user_cannot_see_is_never_shown(org, settled):
    theirs = settled(*KETTLE_LIKE, team="b", summary="Team B's secret fix")
    ours = settled(*KETTLE_SWITCH)
    mine = settled(*KETTLE, state="in_progress")

    agent_sees = numbers(similar.similar_resolved(complaint=mine, user=org.agent))
    assert theirs.tracking_number not in agent_sees
    assert ours.tracking_number in agent_sees
    supervisor_sees = numbers(similar.similar_resolved(complaint=mine, user=org.supervisor))
    assert supervisor_sees[0] == theirs.tracking_number
    # Someone with no role sees nothing at all.
    assert similar.similar_resolved(complaint=mine, user=org.outsider) == []


def test_limit_and_query_count(org, settled, django_assert_max_num_queries):
    for i in range(7):
        settled(*KETTLE_LIKE, summary=f"Fix {i}")
    mine = settled(*KETTLE, state="in_progress")
    similar.similar_resolved(complaint=mine, user=org.agent)  # warm per-process checks
    with django_assert_max_num_queries(2):
        results = similar.similar_resolved(complaint=mine, user=org.agent, limit=5)
    assert len(results) == 5


def test_the_same_subject_pool_reaches_past_the_newest(org, settled, monkeypatch):
    # Only the newest complaint overall is a candidate, but the same category's are too.
    monkeypatch.setattr(similar, "RECENT_CANDIDATES", 1)
    old_like = settled(*KETTLE_LIKE)  # team A's category, like `mine`
    for title, text in (INVOICE, LATE):
        settled(title, text, team="b")
    mine = settled(*KETTLE, state="in_progress")
    found = numbers(similar.similar_resolved(complaint=mine, user=org.supervisor))
    assert found[:1] == [old_like.tracking_number]


def test_nothing_to_compare_gives_nothing(org, settled):
    mine = settled(*KETTLE, state="in_progress")
    assert similar.similar_resolved(complaint=mine, user=org.agent) == []
    assert similar.similar_resolved(complaint=mine, user=org.agent, limit=0) == []


# --- The card on the detail page ----------------------------------------------------------------


def test_the_detail_page_loads_the_card_lazily(client, org, settled, django_assert_max_num_queries):
    like = settled(*KETTLE_LIKE, summary="Replaced the cracked base " + "x" * 300)
    mine = settled(*KETTLE, state="in_progress")
    client.force_login(org.agent)
    card_url = reverse("complaints:staff-similar", args=[mine.pk])

    page = client.get(reverse("complaints:staff-detail", args=[mine.pk])).content.decode()
    assert f'hx-get="{card_url}"' in page
    assert "Replaced the cracked base" not in page  # not computed with the page

    with django_assert_max_num_queries(8):
        response = client.get(card_url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    html = response.content.decode()
    assert "Similar resolved complaints" in html
    assert like.tracking_number in html
    assert reverse("complaints:staff-detail", args=[like.pk]) in html
    assert "Replaced the cracked base" in html
    assert "x" * 250 not in html  # the resolution is truncated
    assert "Product defect" in html


def test_the_card_is_empty_when_nothing_is_similar(client, org, settled):
    settled(*INVOICE)
    mine = settled(*KETTLE, state="in_progress")
    client.force_login(org.agent)
    response = client.get(reverse("complaints:staff-similar", args=[mine.pk]))
    assert response.status_code == 200
    assert response.content.decode().strip() == ""


def test_the_card_follows_complaint_access(client, org, settled):
    settled(*KETTLE_LIKE)
    mine = settled(*KETTLE, state="in_progress")  # team A
    url = reverse("complaints:staff-similar", args=[mine.pk])

    client.force_login(org.agent_b)
    assert client.get(url).status_code == 404
    assert client.get(reverse("complaints:staff-similar", args=[999999])).status_code == 404
    client.force_login(org.outsider)
    assert client.get(url).status_code == 403
    client.logout()
    response = client.get(url)
    assert response.status_code == 302
    assert reverse("login") in response.url
    client.force_login(org.agent)
    assert client.post(url).status_code == 405
