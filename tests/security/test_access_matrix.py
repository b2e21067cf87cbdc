"""The access matrix, generated from the URL configuration.

Every URL pattern of the `complaints` and `api` namespaces is built for objects of
team A (tests/security/world.py) and opened by every actor with GET and POST:

- anonymous: the login page (staff pages) or 401/403 (the API);
- actors who may not see team A's objects (an agent of team B, a responder whose
  department was never asked, a signed-in user without a role): exactly the answer
  they get for an object that does not exist (missing and forbidden look the same),
  and never a page carrying team A's data;
- everyone: never a 500;
- supervisors and admins see every complaint's pages (no 404 on a GET).

A new URL pattern joins the matrix by itself. The parameter it names is mapped to an
object by the path segment before it (`.../remedies/<pk>/...` is a remedy); a
pattern whose parameter cannot be mapped fails the test until it is mapped here or
listed, with the reason, in NOT_BUILT.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from tests.security.world import CUSTOMER_MARKER, MARKER, build

pytestmark = pytest.mark.django_db

NAMESPACES = ("complaints", "api")
MISSING_PK = 987654

# The object a parameter names, by the path segment just before it.
SEGMENT_OBJECTS = {
    "complaints": "complaint",
    "unlink": "complaint",
    "attachments": "attachment",
    "files": "attachment",
    "requests": "collaboration",
    "collaboration": "collaboration",
    "collaboration-requests": "collaboration",
    "remedies": "remedy",
    "callbacks": "callback",
    "improvements": "improvement",
    "escalations": "escalation",
    "notifications": "notification",
    "saved-filters": "saved_filter",
    "customers": "customer",
    "warnings": "trend_warning",
    "duplicates": "duplicate_flag",
    "inbox": "inbound",
    "exports": "export_job",
    "imports": "import_job",
    "reply-templates": "reply_template",
}
# Parameters that are not objects: a fixed, valid value.
VALUE_PARAMS = {
    "slug": "team",
    "name": "start",
    "fmt": "csv",
    "table": "teams",
    "month": timezone.localdate().strftime("%Y-%m"),
}
# Parameters that name an object by another field than its id: (kind, field).
NAMED_PARAMS = {"team": ("team", "code")}
# Parameters that are credentials of the public pages: the world's value, per URL.
CREDENTIAL_PARAMS = {
    ("public-track-link", "token"): "status",
    ("public-submitted", "token"): "status",
    ("public-survey", "token"): "survey",
    ("public-status", "number"): "number",
    ("public-message", "number"): "number",
    ("public-attachment", "number"): "number",
}
# Pages for the public (anonymous customers): they answer without a sign-in, so the
# staff expectations do not apply; they still must not fail, and a wrong credential
# must not show team A's data.
PUBLIC = {
    "complaints:public-submit",
    "complaints:public-submitted",
    "complaints:public-track",
    "complaints:public-status",
    "complaints:public-message",
    "complaints:public-attachment",
    "complaints:public-track-link",
    "complaints:public-survey-thanks",
    "complaints:public-survey",
    # The OpenAPI schema and its docs page describe the API, not its data.
    "api:schema",
    "api:docs",
    # The API's catch-all: a 404 in the API's error format for unknown addresses, to
    # everyone alike; nothing is behind it.
    "api:not-found",
    # Intake answers with its own authentication (API token with the intake scope).
    "api:intake",
    # The priorities' colours as a stylesheet (the login page uses it too).
    "complaints:priority-css",
}
# Patterns the matrix cannot build, each with the reason. Keep it empty if you can.
NOT_BUILT: dict[str, str] = {}
# Objects that are not team A's but shared by every agent (the inbound-mail inbox is
# triaged before a message belongs to any team): agent B may see them.
SHARED = {"inbound", "reply_template"}
# Of those, the ones for agents and supervisors only (responders do not triage mail).
AGENTS_ONLY = {"inbound"}
# Objects of team A itself (its monthly report): its members and supervisors only.
TEAM_MEMBERS_ONLY = {"team"}
# Patterns where an actor who may not see the object still gets past the lookup, on
# purpose; the answer must still carry none of team A's data.
BY_DESIGN = {
    # Any agent may link a complaint of theirs to any open improvement action (a
    # complaint of team B may share its cause with an action of team A).
    ("api:improvement-link", "agent_b"),
}
# Objects that belong to one user (agent A): nobody else sees them.
PERSONAL = {"notification", "saved_filter", "export_job"}
# Objects only supervisors and admins see (a 403 for everyone else is right).
SUPERVISORS_ONLY = {"trend_warning"}

DENIED = ("outsider", "agent_b", "responder_unasked")
ALLOWED = ("agent_a", "responder_asked", "supervisor", "admin")
PARAM = re.compile(r"<(?:(?P<conv>[^>:]+):)?(?P<name>[^>]+)>")


@dataclass(frozen=True)
class Pattern:
    name: str  # namespace:name
    route: str

    @property
    def params(self) -> list[tuple[str, str]]:
        """(parameter, the path segment before it) in order."""
        found, last = [], 0
        for match in PARAM.finditer(self.route):
            before = self.route[last : match.start()].strip("/.").split("/")[-1]
            found.append((match["name"], before))
            last = match.end()
        return found


def _walk(patterns, prefix: str = "", namespace: str | None = None):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, prefix + str(p.pattern), p.namespace or namespace)
        elif isinstance(p, URLPattern) and namespace in NAMESPACES and p.name:
            yield Pattern(f"{namespace}:{p.name}", prefix + str(p.pattern))


def all_patterns() -> list[Pattern]:
    return sorted(set(_walk(get_resolver().url_patterns)), key=lambda p: p.name)


PATTERNS = all_patterns()


def object_kinds(pattern: Pattern) -> list[str] | None:
    """The kinds of objects the pattern names; None when one parameter is unmapped."""
    kinds = []
    url_name = pattern.name.split(":", 1)[1]
    for param, segment in pattern.params:
        if (url_name, param) in CREDENTIAL_PARAMS or param in VALUE_PARAMS:
            continue
        if param in NAMED_PARAMS:
            kinds.append(NAMED_PARAMS[param][0])
            continue
        if segment not in SEGMENT_OBJECTS:
            return None
        kinds.append(SEGMENT_OBJECTS[segment])
    return kinds


def build_url(pattern: Pattern, world, *, missing: bool = False) -> str:
    url_name = pattern.name.split(":", 1)[1]
    kwargs = {}
    for param, segment in pattern.params:
        if (url_name, param) in CREDENTIAL_PARAMS:
            value = world.tokens[CREDENTIAL_PARAMS[url_name, param]]
            kwargs[param] = "TS-19700101-WRONG" if missing else value
        elif param in VALUE_PARAMS:
            kwargs[param] = VALUE_PARAMS[param]
        elif param in NAMED_PARAMS:
            kind, attribute = NAMED_PARAMS[param]
            kwargs[param] = "no-such-thing" if missing else getattr(world.objects[kind], attribute)
        else:
            kind = SEGMENT_OBJECTS[segment]
            obj = world.objects[kind]
            kwargs[param] = MISSING_PK if missing else obj.pk
    return reverse(pattern.name, kwargs=kwargs)


def test_every_pattern_is_mapped_or_listed():
    """A new URL must be buildable (or listed with its reason): then it is in the matrix."""
    unmapped = [p.name for p in PATTERNS if p.name not in NOT_BUILT and object_kinds(p) is None]
    assert unmapped == [], f"map their parameters in SEGMENT_OBJECTS or list them: {unmapped}"
    stale = set(NOT_BUILT) - {p.name for p in PATTERNS}
    assert not stale, f"NOT_BUILT lists patterns that no longer exist: {stale}"


def test_the_matrix_covers_the_namespaces():
    names = {p.name for p in PATTERNS}
    # A few that must be there, so a broken walk cannot pass with an empty matrix.
    assert {
        "complaints:staff-detail",
        "complaints:remedy-decide",
        "complaints:staff-attachment-download",
        "api:complaint-detail",
        "api:attachment-download",
    } <= names
    assert len(names) > 60


def _client(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


def _shows_team_a(response) -> bool:
    body = _body(response)
    return MARKER in body or CUSTOMER_MARKER in body


def _denied_for(actor: str, kinds: list[str]) -> bool:
    """Whether `actor` may not see an object of every one of these kinds."""
    if actor in ("supervisor", "admin"):
        return any(k in PERSONAL for k in kinds)
    if actor == "agent_a":
        return any(k in SUPERVISORS_ONLY for k in kinds)
    if actor == "responder_asked":
        # Its department was asked about team A's complaint: it sees that complaint.
        return any(
            k in PERSONAL | SUPERVISORS_ONLY | AGENTS_ONLY | TEAM_MEMBERS_ONLY for k in kinds
        )
    team_kinds = [k for k in kinds if k not in SHARED]
    if actor == "agent_b":
        return bool(team_kinds)
    return bool(kinds)


def _check(pattern: Pattern, world) -> list[str]:
    problems: list[str] = []
    kinds = object_kinds(pattern)
    url = build_url(pattern, world)
    missing_url = (
        build_url(pattern, world, missing=True) if kinds or pattern.name in PUBLIC else None
    )
    is_api = pattern.name.startswith("api:")
    public = pattern.name in PUBLIC

    def fail(actor, method, text):
        problems.append(f"{pattern.name} {method} as {actor}: {text}")

    # Refused actors first: the allowed ones may change the objects (a POST acts).
    order = ("anonymous", *DENIED, *ALLOWED)
    for actor in order:
        user = world.actors[actor]
        client = _client(user)
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            status = response.status_code
            if status >= 500:
                fail(actor, method, f"{status}")
                continue
            if public:
                if missing_url is not None and actor in ("anonymous", *DENIED):
                    wrong = getattr(client, method)(missing_url)
                    if wrong.status_code >= 500 or _shows_team_a(wrong):
                        fail(actor, method, f"a wrong credential answered {wrong.status_code}")
                continue
            if actor == "anonymous":
                if status == 405:
                    continue  # the method is refused from the URL alone, before anything
                if is_api:
                    if status not in (401, 403):
                        fail(actor, method, f"{status}, expected 401/403")
                elif status != 302 or not response["Location"].startswith(reverse("login")):
                    fail(actor, method, f"{status}, expected a redirect to the login page")
                continue
            if actor in DENIED or _denied_for(actor, kinds):
                by_design = (pattern.name, actor) in BY_DESIGN
                if _denied_for(actor, kinds) and missing_url is not None and not by_design:
                    missing = getattr(client, method)(missing_url)
                    if missing.status_code != status:
                        fail(actor, method, f"{status}, but {missing.status_code} when missing")
                if 200 <= status < 300 and _shows_team_a(response):
                    fail(actor, method, "answered with team A's data")
                continue
            if method == "get" and actor in ("supervisor", "admin") and kinds and status == 404:
                fail(actor, method, "404 for an object a supervisor may see")
    return problems


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """One world for the module, in a transaction rolled back at its end; each test
    runs in a savepoint of it (pytest-django's `db`), so what one test's POSTs change
    is undone before the next."""
    from django.test import override_settings

    from tests.conftest import Org, ensure_reference_data
    from tests.security.world import make_complaint_for

    media = override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media"))
    with django_db_blocker.unblock(), media:
        outer = transaction.atomic()
        outer.__enter__()
        try:
            ensure_reference_data()
            org = Org()
            yield build(org, make_complaint_for(org))
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda p: p.name)
def test_access_matrix(pattern, world, db):
    if pattern.name in NOT_BUILT:
        pytest.skip(NOT_BUILT[pattern.name])
    cache.clear()  # rate limits of the public pages count per test
    problems = _check(pattern, world)
    assert problems == [], "\n".join(problems)
