"""The API's conventions: the error format, authentication (token, session with
CSRF), the api_token command and admin, throttling, the schema and the docs."""

import json
from io import StringIO

import pytest
from django.contrib import admin
from django.contrib.staticfiles import finders
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token, TokenProxy
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_error_format_of_drf_refusals(org, api):
    response = api(org.agent).post("/api/complaints/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()) == {"code", "message"}
    assert response.json()["code"] == "parse_error"
    response = api(org.agent).delete("/api/complaints/")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_session_auth_needs_csrf(org, make_complaint):
    complaint = make_complaint("triaged")
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(org.agent)
    assert client.get(f"/api/complaints/{complaint.pk}/").status_code == 200
    response = client.post(f"/api/complaints/{complaint.pk}/note/", {"body": "x"})
    assert response.status_code == 403
    assert "CSRF" in response.json()["message"]
    assert not complaint.events.filter(kind="note_added").exists()


def test_api_token_command(org, api):
    out = StringIO()
    call_command("api_token", "agent", stdout=out)
    key = out.getvalue().strip()
    assert Token.objects.get(user=org.agent).key == key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/teams/").status_code == 200
    out = StringIO()
    call_command("api_token", "agent", stdout=out)
    assert out.getvalue().strip() == key  # the same token again
    call_command("api_token", "agent", "--rotate", stdout=StringIO())
    assert client.get("/api/teams/").status_code == 401
    call_command("api_token", "agent", "--revoke", stdout=StringIO())
    assert not Token.objects.filter(user=org.agent).exists()
    with pytest.raises(CommandError):
        call_command("api_token", "no-such-user")


def test_tokens_are_managed_in_the_admin():
    assert TokenProxy in admin.site._registry


def test_throttled_429_per_user(org, api, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api-read": "3/min", "api-write": "1/min"},
    }
    client = api(org.agent)
    assert [client.get("/api/teams/").status_code for _ in range(3)] == [200, 200, 200]
    response = client.get("/api/teams/")
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert int(response["Retry-After"]) > 0
    # Counted per user: a colleague is not slowed down.
    assert api(org.agent2).get("/api/teams/").status_code == 200


def test_the_schema_documents_every_resource(client):
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = json.loads(response.content)
    paths = schema["paths"]
    for path in (
        "/api/complaints/",
        "/api/complaints/{id}/",
        "/api/complaints/{id}/transitions/",
        "/api/complaints/{id}/transitions/{name}/",
        "/api/complaints/{id}/events/",
        "/api/complaints/{id}/reply/",
        "/api/complaints/{id}/note/",
        "/api/complaints/{id}/attachments/",
        "/api/attachments/{id}/",
        "/api/customers/",
        "/api/escalations/",
        "/api/collaboration-requests/",
        "/api/teams/",
    ):
        assert path in paths, path
    patch = paths["/api/complaints/{id}/"]["patch"]
    assert {"400", "404", "409", "428"} <= set(patch["responses"])
    error = patch["responses"]["409"]["content"]["application/json"]["schema"]["$ref"]
    assert error.endswith("/Error")
    assert {"code", "message", "fields", "conditions"} <= set(
        schema["components"]["schemas"]["Error"]["properties"]
    )
    update = schema["components"]["schemas"]["PatchedComplaintUpdate"]["properties"]
    assert "status" not in update
    names = {p["name"] for p in paths["/api/complaints/"]["get"]["parameters"]}
    assert {"status", "q", "priority", "ordering", "cursor", "page_size"} <= names


def test_docs_use_vendored_assets_only(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui-bundle.js" in html
    assert "http://" not in html and "https://" not in html and "//cdn" not in html
    assert "<script>" not in html  # CSP: the init script is a file too
    script = client.get("/api/docs/", {"script": ""})
    assert script.status_code == 200
    assert "/api/schema/" in script.content.decode()


def test_the_vendored_assets_are_static_files():
    # Needs "drf_spectacular_sidecar" in INSTALLED_APPS (the static files finder).
    for name in ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js"):
        assert finders.find(f"drf_spectacular_sidecar/swagger-ui-dist/{name}"), name
