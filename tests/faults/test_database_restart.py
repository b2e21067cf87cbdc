"""The database restarted (crashed) during a load of intake requests.

Not the shared PostgreSQL on 5432: a private cluster (servers.PrivateCluster, initdb
+ pg_ctl as the postgres OS user in a temporary directory, on a free port), migrated,
served by gunicorn (2 workers, persistent connections with health checks as
configured). Client threads send API intake requests, each with its own
Idempotency-Key and a unique marker in the description; part-way through the cluster
is stopped with `pg_ctl -m immediate` (a crash: recovery at the next start) and
started again.

Then: every request got either 201 (and its complaint is complete: the complaint, its
history row, its "received" timeline event and its acknowledgment in the outbox) or a
clean refusal (5xx / 429 / connection refused), never another answer and never a
half-written complaint; after retrying the refused ones with their Idempotency-Key,
every marker is in exactly one complaint.

PostgreSQL only (CI's PostgreSQL pass), root or the postgres user needed for initdb.
Bounded: about a minute, 4 × 25 requests.
"""

from __future__ import annotations

import http.client
import json
import os
import sys
import threading
import time
import uuid
from collections import Counter

import pytest
from django.db import connection

from tests.faults.servers import (
    ClusterUnavailable,
    PrivateCluster,
    Process,
    django_env,
    free_port,
    listening,
    wait_until,
)

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="a fault test of the PostgreSQL deployment"
)

DB = "faults"
USERS = 4  # the write throttle counts per user: 25 requests each stay far below it
PER_USER = 25
CRASH_AFTER = 30  # answers before the crash
DOWN_SECONDS = 2.0
PAUSE = 0.05  # between one client's requests
BACKOFF = 1.0  # after a refusal: the load goes on after the restart
CLEAN_REFUSALS = {429, 500, 502, 503, 504}

SETUP = """
from django.contrib.auth.models import Permission
from rest_framework.authtoken.models import Token
from complaints.models import User
perm = Permission.objects.get(codename="add_complaint", content_type__app_label="complaints")
keys = []
for i in range(%d):
    user = User.objects.create_user(f"connector{i}", password=None)
    user.user_permissions.add(perm)
    keys.append(Token.objects.create(user=user).key)
print("KEYS=" + ",".join(keys))
"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """(cluster, port of gunicorn, API tokens)."""
    logs = tmp_path_factory.mktemp("db-restart")
    try:
        cluster = PrivateCluster()
        cluster.init()
        cluster.start()
    except ClusterUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"the private PostgreSQL cluster cannot run here: {exc}")
        pytest.skip(f"the private PostgreSQL cluster cannot run here: {exc}")
    web = None
    try:
        cluster.psql(f"CREATE DATABASE {DB} TEMPLATE template0 ENCODING 'UTF8'")
        env = django_env(DATABASE_URL=cluster.url(DB))
        manage = [sys.executable, "manage.py"]
        Process(
            [*manage, "migrate", "--noinput", "-v0"], env=env, log=logs / "migrate.log"
        ).start().popen.wait(300)
        setup = Process([*manage, "shell", "-c", SETUP % USERS], env=env, log=logs / "setup.log")
        setup.start().popen.wait(120)
        keys = [line for line in setup.tail().splitlines() if line.startswith("KEYS=")]
        assert keys, (logs / "migrate.log").read_text()[-2000:] + setup.tail()
        port = free_port()
        web = Process(
            [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", "2", "--timeout", "30", "--graceful-timeout", "5"],
            env=env,
            log=logs / "gunicorn.log",
        ).start()  # fmt: skip
        assert wait_until(lambda: listening(port), seconds=60), web.tail()
        yield cluster, port, keys[0].removeprefix("KEYS=").split(","), web
    finally:
        if web is not None:
            web.stop()
        cluster.destroy()


def _post(port: int, token: str, key: str, body: dict) -> int | str:
    """The status code, or the name of the connection error."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(
            "POST",
            "/api/intake/",
            body=json.dumps(body),
            headers={
                "Authorization": f"Token {token}",
                "Content-Type": "application/json",
                "Idempotency-Key": key,
            },
        )
        response = conn.getresponse()
        response.read()
        return response.status
    except OSError as exc:
        return type(exc).__name__
    finally:
        conn.close()


def _body(marker: str, i: int) -> dict:
    return {
        "channel": "api",
        "external_system": "faults",
        "external_id": f"cust-{i}",
        "name": f"客户 {i}",
        "email": f"fault{i}@example.com",
        "title": f"故障测试 {i}",
        "description": f"数据库重启期间提交。{marker}",
        "demand": "refund",
    }


COMPLETE = """
SELECT c.description,
       (SELECT count(*) FROM complaints_historicalcomplaint h WHERE h.id = c.id),
       (SELECT count(*) FROM complaints_complaintevent e
         WHERE e.complaint_id = c.id AND e.kind = 'received'),
       (SELECT count(*) FROM complaints_outboxmessage o WHERE o.complaint_id = c.id)
FROM complaints_complaint c WHERE c.description LIKE '%%{run}%%'
"""


def test_crash_and_restart_during_intake_loses_nothing_half_writes_nothing(stack):
    cluster, port, tokens, web = stack
    run = uuid.uuid4().hex[:12]
    requests = [
        (tokens[u], str(uuid.uuid4()), f"[{run}-{u * PER_USER + i}]", u * PER_USER + i)
        for u in range(USERS)
        for i in range(PER_USER)
    ]
    answers: dict[str, int | str] = {}
    after_restart: list[int | str] = []
    lock = threading.Lock()
    crashed, restarted = threading.Event(), threading.Event()

    def client(share):
        for token, key, marker, i in share:
            status = _post(port, token, key, _body(marker, i))
            with lock:
                answers[marker] = status
                if restarted.is_set():
                    after_restart.append(status)
            # A refused client backs off a little, as a connector would.
            time.sleep(PAUSE if status == 201 else BACKOFF)

    def crash():
        wait_until(lambda: len(answers) >= CRASH_AFTER, seconds=60, step=0.02)
        cluster.stop("immediate")
        crashed.set()
        time.sleep(DOWN_SECONDS)
        cluster.start()
        restarted.set()

    threads = [threading.Thread(target=client, args=(requests[t::8],)) for t in range(8)]
    threads.append(threading.Thread(target=crash))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert crashed.is_set() and cluster.running()
    assert len(answers) == len(requests)

    outcomes = Counter(str(a) for a in answers.values())
    unexpected = {m: a for m, a in answers.items() if a != 201 and a not in CLEAN_REFUSALS}
    # Connection errors are acceptable only while gunicorn restarts a worker; none expected.
    assert not unexpected, (outcomes, web.tail())
    refused = [m for m, a in answers.items() if a != 201]
    assert refused, f"the crash refused no request: not a test of anything ({outcomes})"
    # The web processes reconnect by themselves once the database is back.
    assert 201 in after_restart, (after_restart, web.tail())

    # No half-written complaint: whatever is in the database is complete.
    rows = [line.split("|") for line in cluster.psql(COMPLETE.format(run=run), DB).splitlines()]
    for description, history, received, outbox in rows:
        assert (int(history), int(received), int(outbox)) >= (1, 1, 1), description
        assert int(received) == 1, description
    stored = Counter(marker for (d, *_rest) in rows for marker in [d[d.index("[") :]])
    # Every 201 is in the database, once.
    for marker, answer in answers.items():
        if answer == 201:
            assert stored[marker] == 1, marker

    # The client retries its refused requests with the same key: each ends up once.
    by_marker = {marker: (token, key, i) for token, key, marker, i in requests}
    retried: Counter = Counter()
    for marker in refused:
        token, key, i = by_marker[marker]
        final = None
        for _attempt in range(10):
            final = _post(port, token, key, _body(marker, i))
            if final in (200, 201):
                break
            time.sleep(0.5)
        assert final in (200, 201), (marker, final, web.tail())
        retried[str(final)] += 1  # 200: it had committed, only the answer was lost
    rows = [line.split("|") for line in cluster.psql(COMPLETE.format(run=run), DB).splitlines()]
    stored = Counter(d[d.index("[") :] for d, *_rest in rows)
    assert stored == Counter(dict.fromkeys(by_marker, 1)), stored
    assert all((int(h), int(r), int(o)) >= (1, 1, 1) for _d, h, r, o in rows)
    print(
        f"answers: {dict(outcomes)}, after the restart {dict(Counter(map(str, after_restart)))};"
        f" retries {dict(retried)}; {len(rows)} complaints"
    )
