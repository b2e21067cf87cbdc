"""/healthz: the plain liveness answer for load balancers, and the full check of the
database, the broker and the workers for monitors."""

import time

import pytest

from complaints.views import health

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_cache():
    health.clear_cache()
    yield
    health.clear_cache()


@pytest.fixture
def components(monkeypatch):
    """Broker and worker checks replaced by switches, counting their calls."""
    state = {"broker": True, "worker": True, "calls": {"broker": 0, "worker": 0}}

    def fake(name, detail):
        def check():
            state["calls"][name] += 1
            if not state[name]:
                raise ConnectionRefusedError("redis://:s3cret@10.0.0.9:6379/0 refused")
            return detail

        return check

    monkeypatch.setitem(health.CHECKS, "broker", fake("broker", {"transport": "redis"}))
    monkeypatch.setitem(health.CHECKS, "worker", fake("worker", {"workers": ["worker@web1"]}))
    return state


def _broken_database():
    raise OSError("connection refused")


def test_plain_answer_is_the_database_only(client, components):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    # A stopped worker must not take the web processes out of the load balancer.
    assert components["calls"] == {"broker": 0, "worker": 0}


def test_plain_answer_fails_without_database(client, monkeypatch):
    monkeypatch.setitem(health.CHECKS, "database", _broken_database)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "error"


def test_full_answer_reports_each_component(client, components):
    response = client.get("/healthz?full=1")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok", "worker": "ok"}
    assert response["Cache-Control"].startswith("max-age=0")


def test_a_stopped_worker_fails_the_full_answer_only(client, components):
    components["worker"] = False
    response = client.get("/healthz?full=1")
    assert response.status_code == 503
    assert response.json() == {
        "status": "fail",
        "database": "ok",
        "broker": "ok",
        "worker": "fail",
    }
    assert client.get("/healthz").status_code == 200


def test_broker_down_fails_both_without_pinging(client, components):
    components["broker"] = False
    body = client.get("/healthz?full=1").json()
    assert body == {"status": "fail", "database": "ok", "broker": "fail", "worker": "fail"}
    assert components["calls"]["worker"] == 0


def test_database_down_is_reported_with_the_others(client, components, monkeypatch):
    monkeypatch.setitem(health.CHECKS, "database", _broken_database)
    response = client.get("/healthz?full=1")
    assert response.status_code == 503
    assert response.json()["database"] == "fail"
    assert response.json()["broker"] == "ok"


def test_anonymous_callers_see_no_details(client, components):
    components["broker"] = False
    text = client.get("/healthz?full=1").content.decode()
    assert "details" not in text
    assert "s3cret" not in text
    assert "10.0.0.9" not in text


def test_staff_see_details_but_no_secrets(client, components, django_user_model):
    staff = django_user_model.objects.create_user("ops", password="x", is_staff=True)
    client.force_login(staff)
    body = client.get("/healthz?full=1").json()
    assert body["details"]["worker"]["workers"] == ["worker@web1"]
    assert body["details"]["database"]["ms"] >= 0
    health.clear_cache()
    components["broker"] = False
    response = client.get("/healthz?full=1")
    assert response.json()["details"]["broker"]["error"] == "ConnectionRefusedError"
    assert "s3cret" not in response.content.decode()


def test_non_staff_users_see_no_details(client, components, org):
    client.force_login(org.agent)
    assert "details" not in client.get("/healthz?full=1").json()


def test_full_answer_is_kept_a_few_seconds(client, components):
    for _ in range(5):
        client.get("/healthz?full=1")
    assert components["calls"] == {"broker": 1, "worker": 1}
    health.clear_cache()
    client.get("/healthz?full=1")
    assert components["calls"] == {"broker": 2, "worker": 2}


def test_real_checks_without_a_worker_fail_within_bounds(client):
    # The test settings' in-memory broker: reachable, and no worker listens on it.
    started = time.monotonic()
    response = client.get("/healthz?full=1")
    elapsed = time.monotonic() - started
    assert response.json() == {"status": "fail", "database": "ok", "broker": "ok", "worker": "fail"}
    assert elapsed < health.BROKER_TIMEOUT + health.WORKER_TIMEOUT + 1


def test_unreachable_broker_is_reported_quickly(settings):
    from config.celery import app

    saved = app.conf.broker_url
    app.conf.broker_url = "redis://:s3cret@127.0.0.1:1/0"
    app._pool = None
    try:
        started = time.monotonic()
        result = health.run_checks()
        elapsed = time.monotonic() - started
    finally:
        app.conf.broker_url = saved
        app._pool = None
    assert result["states"] == {"database": "ok", "broker": "fail", "worker": "fail"}
    assert "s3cret" not in repr(result)
    assert elapsed < health.BROKER_TIMEOUT + 1


def test_only_get(client):
    assert client.post("/healthz").status_code == 405
