"""schemathesis against the live schema: every operation of /api/schema/, called through
the project's WSGI application as an agent with a token, with generated input. No
answer may be a 5xx, and every answer must be documented (status code, content type,
body).

Bounded: FUZZ_EXAMPLES examples per operation (env SCHEMA_FUZZ_EXAMPLES) and
FUZZ_SECONDS in all (env SCHEMA_FUZZ_SECONDS): the operations not reached within the
time are skipped and say so.
"""

from __future__ import annotations

import os
import time

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.factories import CustomerFactory

FUZZ_EXAMPLES = int(os.environ.get("SCHEMA_FUZZ_EXAMPLES", "10"))
FUZZ_SECONDS = float(os.environ.get("SCHEMA_FUZZ_SECONDS", "100"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# The coverage phase (boundary and wrong-typed values of every parameter) stays on;
# its probes of methods the API does not have are left out (405s, nothing to learn).
CONFIG = schemathesis.Config.from_dict({"phases": {"coverage": {"unexpected-methods": []}}})
_started: list[float] = []
# Generating the schema takes seconds: once per run, not once per operation.
_loaded: list = []


@pytest.fixture
def api_schema(db, org, make_complaint, settings):
    """The schema as the server serves it, bound to the WSGI application; throttling
    out of the way (429 is documented, but would hide the operations themselves)."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api-read": "100000/min", "api-write": "100000/min"},
    }
    # Something to find: a complaint of the agent's team.
    make_complaint("in_progress", customer=CustomerFactory())
    # As Django's test client does: the end of a request must not close the database
    # connection, which holds the test's transaction (PostgreSQL).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        if not _loaded:
            app = get_wsgi_application()
            _loaded.append(
                schemathesis.openapi.from_wsgi("/api/schema/?format=json", app, config=CONFIG)
            )
        yield _loaded[0]
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture
def agent_headers(org) -> dict[str, str]:
    token, _created = Token.objects.get_or_create(user=org.agent)
    return {"Authorization": f"Token {token.key}"}


@schema.parametrize()
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_as_documented(case, agent_headers):
    # schemathesis runs every operation inside this one test: the bound is checked here.
    if not _started:
        _started.append(time.monotonic())
    if time.monotonic() - _started[0] > FUZZ_SECONDS:
        pytest.skip(f"time bound of the schema fuzzing ({FUZZ_SECONDS:.0f}s) reached")
    response = case.call(headers=agent_headers)
    case.validate_response(response, checks=CHECKS, headers=agent_headers)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    ["priority=-9799598294399000576", "team=9223372036854775808"],
)
def test_ids_beyond_64_bits_in_filters_are_400(org, api, query):
    # Found by the fuzzing: SQLite cannot compare such a number (a 500 before).
    response = api(org.agent).get(f"/api/complaints/?{query}")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {query.split("=")[0]}
