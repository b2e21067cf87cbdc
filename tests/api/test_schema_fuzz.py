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
from django.core.wsgi import get_wsgi_application
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
FUZZ_SECONDS = float(os.environ.get("SCHEMA_FUZZ_SECONDS", "120"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
_started: list[float] = []


@pytest.fixture
def api_schema(db, org, make_complaint, settings):
    """The schema as the server serves it, bound to the WSGI application; throttling
    out of the way (429 is documented, but would hide the operations themselves)."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api-read": "100000/min", "api-write": "100000/min"},
    }
    # Something to find: a complaint of the agent's team, and one resolved.
    make_complaint("in_progress", customer=CustomerFactory())
    make_complaint("resolved")
    return schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture
def agent_headers(org) -> dict[str, str]:
    token, _created = Token.objects.get_or_create(user=org.agent)
    return {"Authorization": f"Token {token.key}"}


@pytest.fixture(autouse=True)
def _time_bound():
    if not _started:
        _started.append(time.monotonic())
    if time.monotonic() - _started[0] > FUZZ_SECONDS:
        pytest.skip(f"schema fuzzing's time bound ({FUZZ_SECONDS:.0f}s) reached")


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
    response = case.call(headers=agent_headers)
    case.validate_response(response, checks=CHECKS, headers=agent_headers)
