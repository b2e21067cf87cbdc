import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_login_page_is_served(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b'name="password"' in response.content


def test_workspace_requires_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_signed_in_agent_sees_their_complaints(client, org, make_complaint):
    mine = make_complaint("assigned")
    client.force_login(org.agent)
    response = client.get("/")
    assert response.status_code == 200
    assert mine.tracking_number in response.content.decode()


def test_user_without_role_is_refused(client, org):
    client.force_login(org.outsider)
    assert client.get("/").status_code == 403


def test_detail_hides_other_teams_complaints(client, org, make_complaint):
    complaint = make_complaint("assigned")  # team A
    client.force_login(org.agent_b)
    assert client.get(reverse("complaints:staff-detail", args=[complaint.pk])).status_code == 404
    assert client.get(reverse("complaints:staff-detail", args=[999999])).status_code == 404
    client.force_login(org.agent)
    response = client.get(reverse("complaints:staff-detail", args=[complaint.pk]))
    assert response.status_code == 200
    assert complaint.tracking_number in response.content.decode()


def test_user_text_is_escaped(client, org, make_complaint):
    complaint = make_complaint("new", title="<script>alert(1)</script>")
    client.force_login(org.supervisor)
    for url in ("/queue/all/", reverse("complaints:staff-detail", args=[complaint.pk])):
        body = client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_home_query_count_does_not_grow_with_rows(
    client, org, make_complaint, django_assert_max_num_queries
):
    client.force_login(org.supervisor)
    for _ in range(3):
        make_complaint("assigned")
    with django_assert_max_num_queries(20) as few:
        client.get("/queue/all/")
    for _ in range(10):
        make_complaint("assigned")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/queue/all/")
    assert response.content.decode().count("data-tracking=") == 13


def test_user_language_preference_wins(client, org):
    org.agent.language = "zh-hans"
    org.agent.save()
    client.force_login(org.agent)
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.headers["Content-Language"] == "zh-hans"
