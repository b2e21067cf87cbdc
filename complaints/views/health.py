"""/healthz: liveness for load balancers, and the full check for monitors.

`GET /healthz` answers whether this web process can serve: the database is
reachable. A load balancer polls it, so it must not depend on the background
workers (a stopped worker must not take every web process out of rotation).

`GET /healthz?full=1` also checks the broker (a bounded connection) and the
workers (a broadcast ping answered by the first live worker) and answers 503
when any of them fails. Anyone sees "ok" or "fail" per component; signed-in
staff also see timings, worker names and the error class, never a password or
a URL. The full answer is kept a few seconds per process, so polling it cannot
turn into a stream of broadcasts.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

OK = "ok"
FAIL = "fail"
BROKER_TIMEOUT = 2.0  # seconds to connect to the broker
WORKER_TIMEOUT = 1.0  # seconds to wait for the first worker's pong
CACHE_SECONDS = 5.0

_cache_lock = threading.Lock()
_cached: dict = {"at": 0.0, "result": None}


def check_database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {}


def _celery_app():
    from config.celery import app

    return app


def check_broker() -> dict:
    """Open a connection to the broker, once, within BROKER_TIMEOUT."""
    app = _celery_app()
    with app.connection_for_write(connect_timeout=BROKER_TIMEOUT) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT)
        return {"transport": conn.transport_cls}


def check_worker() -> dict:
    """A broadcast ping; returns as soon as one worker answers."""
    app = _celery_app()
    replies = app.control.ping(timeout=WORKER_TIMEOUT, limit=1)
    if not replies:
        raise RuntimeError("no worker answered")
    return {"workers": sorted(name for reply in replies for name in reply)}


CHECKS: dict[str, Callable[[], dict]] = {
    "database": check_database,
    "broker": check_broker,
    "worker": check_worker,
}


def _run(name: str) -> tuple[str, dict]:
    started = time.monotonic()
    try:
        detail = CHECKS[name]() or {}
        state = OK
    except Exception as exc:  # noqa: BLE001 - any failure of a component means "fail"
        detail = {"error": type(exc).__name__}
        state = FAIL
    detail["ms"] = round((time.monotonic() - started) * 1000, 1)
    return state, detail


def run_checks() -> dict:
    """Every component's state and details; each is checked even when another
    failed, except the workers, which are only reached through the broker."""
    states, details = {}, {}
    for name in CHECKS:
        if name == "worker" and states.get("broker") == FAIL:
            # Pinging through a broker that is down would only wait for its retries.
            states[name], details[name] = FAIL, {"error": "BrokerUnreachable"}
            continue
        states[name], details[name] = _run(name)
    return {"states": states, "details": details}


def _full_result() -> dict:
    with _cache_lock:
        now = time.monotonic()
        if _cached["result"] is None or now - _cached["at"] > CACHE_SECONDS:
            _cached["result"] = run_checks()
            _cached["at"] = now
        return _cached["result"]


def clear_cache() -> None:
    with _cache_lock:
        _cached["result"] = None


def _is_staff(request) -> bool:
    user = getattr(request, "user", None)
    return bool(user and user.is_authenticated and (user.is_staff or user.is_superuser))


@require_GET
@never_cache
def healthz(request):
    if request.GET.get("full") not in ("1", "true", "yes"):
        state, _detail = _run("database")
        if state != OK:
            return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
        return JsonResponse({"status": OK})

    result = _full_result()
    states = result["states"]
    healthy = all(state == OK for state in states.values())
    body: dict = {"status": OK if healthy else FAIL, **states}
    if _is_staff(request):
        body["details"] = result["details"]
    return JsonResponse(body, status=200 if healthy else 503)
