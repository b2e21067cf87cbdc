"""Timeline events, replies and notes, attachments through the API."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from complaints.models import Attachment, ComplaintEvent, IdempotentRequest
from complaints.services.transitions import complaint_triage

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def team_b_complaint(org, make_complaint):
    c = make_complaint("new")
    complaint_triage(
        complaint=c, actor=org.supervisor, category=org.category_b, priority=org.p3, team=org.team_b
    )
    return c


def test_events_include_internal_ones_for_staff(org, api, make_complaint):
    complaint = make_complaint("triaged")
    api(org.agent).post(f"/api/complaints/{complaint.pk}/note/", {"body": "Internal"})
    response = api(org.agent).get(f"/api/complaints/{complaint.pk}/events/")
    assert response.status_code == 200
    kinds = [(e["kind"], e["is_internal"]) for e in response.json()["results"]]
    assert kinds[0] == ("received", False)
    assert ("note_added", True) in kinds


def test_events_of_another_teams_complaint_404(org, api, team_b_complaint):
    url = f"/api/complaints/{team_b_complaint.pk}/events/"
    assert api(org.agent).get(url).status_code == 404
    assert api(org.agent_b).get(url).status_code == 200


def test_reply_goes_to_the_customer(org, api, make_complaint, mailoutbox):
    complaint = make_complaint("in_progress")
    mailoutbox.clear()
    response = api(org.agent).post(
        f"/api/complaints/{complaint.pk}/reply/", {"body": "We are on it."}, format="json"
    )
    assert response.status_code == 201, response.content
    event = ComplaintEvent.objects.get(pk=response.json()["id"])
    assert (event.kind, event.is_internal, event.actor) == ("reply_sent", False, org.agent)
    complaint.refresh_from_db()
    assert complaint.first_response_at is not None


def test_empty_message_400_with_field(org, api, make_complaint):
    complaint = make_complaint("triaged")
    response = api(org.agent).post(f"/api/complaints/{complaint.pk}/note/", {"body": ""})
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"body"}


def test_note_is_idempotent(org, api, make_complaint):
    complaint = make_complaint("triaged")
    client = api(org.agent)
    url = f"/api/complaints/{complaint.pk}/note/"
    first = client.post(url, {"body": "Once"}, format="json", headers={"Idempotency-Key": "n1"})
    again = client.post(url, {"body": "Once"}, format="json", headers={"Idempotency-Key": "n1"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert complaint.events.filter(kind="note_added").count() == 1
    # The same key on another complaint is another request: refused.
    other = make_complaint("triaged")
    response = client.post(
        f"/api/complaints/{other.pk}/note/",
        {"body": "Once"},
        format="json",
        headers={"Idempotency-Key": "n1"},
    )
    assert response.status_code == 409
    assert IdempotentRequest.objects.count() == 1


def test_reply_on_a_stale_version_409(org, api, make_complaint):
    complaint = make_complaint("in_progress")
    response = api(org.agent).post(
        f"/api/complaints/{complaint.pk}/reply/",
        {"body": "Hello", "version": complaint.version - 1},
        format="json",
    )
    assert response.status_code == 409
    assert not complaint.events.filter(kind="reply_sent").exists()


def test_messages_access_matrix(org, api, team_b_complaint, make_complaint):
    url = f"/api/complaints/{team_b_complaint.pk}/note/"
    assert api(org.agent).post(url, {"body": "x"}).status_code == 404
    assert api(org.responder).post(url, {"body": "x"}).status_code == 404
    assert api().post(url, {"body": "x"}).status_code == 401
    rejected = make_complaint("rejected")
    response = api(org.supervisor).post(f"/api/complaints/{rejected.pk}/note/", {"body": "x"})
    assert response.status_code == 403


# --- Attachments ----------------------------------------------------------------------------


def _upload(client, complaint, content=PNG, name="photo.png", **extra):
    return client.post(
        f"/api/complaints/{complaint.pk}/attachments/",
        {"file": SimpleUploadedFile(name, content), **extra},
        format="multipart",
    )


def test_upload_and_download(org, api, make_complaint, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    complaint = make_complaint("triaged")
    response = _upload(api(org.agent), complaint, visible_to_customer="true")
    assert response.status_code == 201, response.content
    data = response.json()
    attachment = Attachment.objects.get(pk=data["id"])
    assert (attachment.content_type, attachment.is_internal) == ("image/png", False)
    listed = api(org.agent).get(f"/api/complaints/{complaint.pk}/attachments/").json()
    assert [a["id"] for a in listed] == [attachment.pk]
    download = api(org.agent).get(data["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PNG
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"


def test_upload_checks_the_content(org, api, make_complaint, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    complaint = make_complaint("triaged")
    response = _upload(api(org.agent), complaint, content=b"MZ not an image", name="x.png")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "not an allowed type" in response.json()["message"]
    assert not Attachment.objects.exists()


def test_attachment_access_matrix(org, api, team_b_complaint, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    response = _upload(api(org.agent_b), team_b_complaint)
    assert response.status_code == 201
    url = response.json()["download_url"]
    forbidden = api(org.agent).get(url)
    missing = api(org.agent).get("/api/attachments/999999/")
    assert forbidden.status_code == missing.status_code == 404
    assert forbidden.json()["code"] == missing.json()["code"] == "not_found"
    assert api(org.responder).get(url).status_code == 404
    assert api().get(url).status_code == 401
    assert api(org.supervisor).get(url).status_code == 200
    assert _upload(api(org.agent), team_b_complaint).status_code == 404
    assert (
        api(org.agent).get(f"/api/complaints/{team_b_complaint.pk}/attachments/").status_code == 404
    )
