"""POST /api/intake/: authentication, validation, the response, idempotency, schema."""

import json
import threading

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection, connections
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from complaints.models import Complaint, Customer, DuplicateFlag, IdempotencyKey
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/intake/"
BODY = {
    "channel": "social",
    "external_system": "wechat",
    "external_id": "wx-1001",
    "name": "张伟",
    "phone": "138 0013 8000",
    "title": "水壶漏水",
    "description": "水壶漏水，底座有裂缝",
    "demand": "replacement",
    "language": "zh-hans",
}


def _client(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        token, _created = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def _post(client, body=None, **headers):
    return client.post(URL, body if body is not None else BODY, format="json", headers=headers)


def test_the_url_is_named():
    assert reverse("api:intake") == URL


def test_without_credentials_401(org):
    response = _post(APIClient())
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response.json()["message"]
    assert not Complaint.objects.exists()


def test_with_a_wrong_token_401(org):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert _post(client).status_code == 401
    assert not Complaint.objects.exists()


def test_a_user_without_a_role_403(org):
    response = _post(_client(org.outsider))
    assert response.status_code == 403
    assert response.json() == {
        "code": "permission_denied",
        "message": "This account may not submit complaints.",
    }
    assert not Complaint.objects.exists()


def test_an_agent_with_a_token_creates_201(org, django_capture_on_commit_callbacks, mailoutbox):
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(_client(org.agent), {**BODY, "email": "ZW@example.com"})
    assert response.status_code == 201, response.content
    data = response.json()
    complaint = Complaint.objects.get()
    assert data == {
        "id": complaint.pk,
        "tracking_number": complaint.tracking_number,
        "status": "new",
        "customer_id": complaint.customer_id,
        "duplicate_of": [],
    }
    assert (complaint.channel, complaint.demand, complaint.title) == (
        "social",
        "replacement",
        "水壶漏水",
    )
    customer = complaint.customer
    assert (customer.name, customer.phone, customer.email) == (
        "张伟",
        "+8613800138000",
        "zw@example.com",
    )
    assert customer.external_ids.get().value == "wx-1001"
    change = complaint.status_changes.get()
    assert change.actor == org.agent
    assert complaint.history.get().history_user == org.agent
    assert len(mailoutbox) == 1  # acknowledged
    assert not response.has_header("Idempotent-Replayed")


def test_an_integration_account_with_the_permission_creates(org):
    integration = Group.objects.create(name="Integration")
    integration.permissions.add(Permission.objects.get(codename="add_complaint"))
    bot = UserFactory(username="wechat-bot")
    bot.groups.add(integration)
    response = _post(_client(bot), {k: v for k, v in BODY.items() if k != "channel"})
    assert response.status_code == 201, response.content
    assert Complaint.objects.get().channel == "api"  # the default


def test_a_session_login_works_too(client, org):
    client.force_login(org.supervisor)
    response = client.post(URL, BODY, content_type="application/json")
    assert response.status_code == 201


def test_same_customer_through_the_api_is_matched_and_duplicates_reported(org):
    client = _client(org.agent)
    first = _post(client).json()
    second = _post(
        client,
        {
            "external_system": "wechat",
            "external_id": "wx-1001",
            "description": "我的水壶底座裂开了还漏水",
            "demand": "refund",
        },
    ).json()
    assert second["customer_id"] == first["customer_id"]
    assert second["duplicate_of"] == [first["id"]]
    assert DuplicateFlag.objects.filter(complaint_id=first["id"], other_id=second["id"]).exists()
    assert Customer.objects.count() == 1


def test_product_by_sku(org):
    product = ProductFactory(sku="KT-200")
    response = _post(_client(org.agent), {**BODY, "product": "kt-200"})
    assert response.status_code == 201
    assert Complaint.objects.get().product == product


def test_field_errors_400(org):
    response = _post(
        _client(org.agent),
        {"channel": "phone", "demand": "money", "product": "NOPE", "description": ""},
    )
    assert response.status_code == 400
    data = response.json()
    assert data["code"] == "invalid"
    assert data["message"] == "Please correct the marked fields."
    assert set(data["fields"]) == {"channel", "demand", "product", "description"}
    assert data["fields"]["product"] == ["Unknown product: NOPE."]
    assert not Complaint.objects.exists()


def test_service_validation_errors_400_with_fields(org):
    response = _post(
        _client(org.agent),
        {"description": "坏了", "demand": "refund", "phone": "12", "email": "not-an-address"},
    )
    assert response.status_code == 400
    data = response.json()
    assert data["code"] == "invalid"
    assert set(data["fields"]) == {"phone", "email"}
    assert not Complaint.objects.exists()
    assert not Customer.objects.exists()


def test_malformed_json_400(org):
    client = _client(org.agent)
    response = client.post(URL, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


# --- Idempotency --------------------------------------------------------------------------------


def test_same_key_same_body_replays_the_first_complaint(org):
    client = _client(org.agent)
    first = _post(client, **{"Idempotency-Key": "abc-123"})
    assert first.status_code == 201
    # The same JSON with other key order and spacing is the same body.
    reordered = json.dumps(dict(reversed(list(BODY.items()))), indent=2, ensure_ascii=False)
    again = client.post(
        URL, reordered, content_type="application/json", headers={"Idempotency-Key": "abc-123"}
    )
    assert again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Complaint.objects.count() == 1
    key = IdempotencyKey.objects.get()
    assert (key.scope, key.key, key.complaint_id) == (
        f"api-intake:{org.agent.pk}",
        "abc-123",
        first.json()["id"],
    )
    assert len(key.fingerprint) == 64


def test_same_key_other_body_409(org):
    client = _client(org.agent)
    assert _post(client, **{"Idempotency-Key": "k1"}).status_code == 201
    response = _post(client, {**BODY, "demand": "refund"}, **{"Idempotency-Key": "k1"})
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert "different request body" in response.json()["message"]
    assert Complaint.objects.count() == 1


def test_keys_belong_to_their_account(org):
    assert _post(_client(org.agent), **{"Idempotency-Key": "k1"}).status_code == 201
    assert _post(_client(org.agent2), **{"Idempotency-Key": "k1"}).status_code == 201
    assert Complaint.objects.count() == 2


def test_a_refused_request_does_not_use_up_its_key(org):
    client = _client(org.agent)
    bad = _post(client, {**BODY, "phone": "12"}, **{"Idempotency-Key": "k1"})
    assert bad.status_code == 400
    assert not IdempotencyKey.objects.exists()
    good = _post(client, **{"Idempotency-Key": "k1"})
    assert good.status_code == 201


def test_an_overlong_key_400(org):
    response = _post(_client(org.agent), **{"Idempotency-Key": "x" * 201})
    assert response.status_code == 400
    assert not Complaint.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL concurrency")
def test_two_requests_racing_with_one_key_create_one_complaint(org):
    token = Token.objects.create(user=org.agent)
    barrier = threading.Barrier(2)
    results = [None, None]

    def run(i):
        try:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
            barrier.wait()
            results[i] = _post(client, **{"Idempotency-Key": "race"})
        except Exception as exc:  # noqa: BLE001 - the outcome is what we compare
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    codes = sorted(r.status_code for r in results)
    assert codes == [200, 201], results
    assert results[0].json()["id"] == results[1].json()["id"]
    assert Complaint.objects.count() == 1
    assert IdempotencyKey.objects.count() == 1


# --- Schema -------------------------------------------------------------------------------------


def test_the_schema_documents_intake(client):
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = json.loads(response.content)
    operation = schema["paths"]["/api/intake/"]["post"]
    assert set(operation["responses"]) >= {"200", "201", "400", "401", "403", "409"}
    assert any(
        p["name"] == "Idempotency-Key" and p["in"] == "header" for p in operation["parameters"]
    )
    assert "Idempotent-Replayed" in operation["responses"]["200"]["headers"]
    request_schema = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    fields = schema["components"]["schemas"][request_schema.rsplit("/", 1)[1]]["properties"]
    assert {"external_system", "external_id", "phone", "email", "product", "demand"} <= set(fields)
