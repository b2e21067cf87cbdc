"""Scaling out: two gunicorn processes on different ports share sessions (database
sessions, no stickiness). A user signs in through one and is signed in on the other.

Runs on PostgreSQL (the web processes need a database they can reach); skipped on
SQLite's in-memory test database."""

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.db import connection

from complaints import roles
from tests.conftest import ensure_reference_data
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the web processes need a shared database"
    ),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def two_web_processes():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _database_url(),
        "SECRET_KEY": "shared-secret-for-both-processes",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    ports = [_free_port(), _free_port()]
    procs = [
        subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for port in ports
    ]
    try:
        for port, proc in zip(ports, procs, strict=True):
            deadline = time.monotonic() + 120
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=10)
                    break
                except OSError:  # refused, reset or timed out while it starts
                    if proc.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(
                            f"gunicorn did not start: {proc.stderr.read().decode()[-2000:]}"
                        )
                    time.sleep(0.3)
        yield [f"http://127.0.0.1:{port}" for port in ports]
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=20)


def test_signed_in_through_one_process_is_signed_in_on_the_other(two_web_processes):
    ensure_reference_data()
    UserFactory(username="lin", role=roles.SUPERVISOR)
    first, second = two_web_processes
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{first}/accounts/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    body = urlencode({"csrfmiddlewaretoken": token, "username": "lin", "password": "pw"})
    request = urllib.request.Request(  # noqa: S310 - http to 127.0.0.1
        f"{first}/accounts/login/", data=body.encode(), headers={"Referer": f"{first}/"}
    )
    opener.open(request)
    assert any(c.name == "sessionid" for c in jar)

    # The other process knows the session: a staff page opens without a login redirect.
    no_redirect = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(jar), _NoRedirect()
    )
    staff = no_redirect.open(f"{second}/")
    assert staff.status == 200, staff.headers.get("Location")
    anonymous = urllib.request.build_opener(_NoRedirect())
    with pytest.raises(urllib.error.HTTPError) as redirected:
        anonymous.open(f"{second}/")
    assert redirected.value.code == 302


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None
