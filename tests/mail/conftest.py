"""Fixtures for the mail tests: the corpus and a throwaway IMAP server.

`imap_server` starts Debian's Dovecot (package dovecot-imapd) once per session, with
a configuration of its own in a temporary directory: listening on 127.0.0.1 on a
free port, no TLS, plain-text login allowed, one user in a passwd-file with a
SHA512-CRYPT hash, Maildir storage, and every socket, state file and log in the
temporary directory, so the machine's own Dovecot (if any) is untouched. Dovecot
refuses to run mail processes as root, so when the tests run as root the mail
processes run as an unprivileged system user (dovecot, else nobody) that owns the
mail directory. Stopped with `doveadm -c FILE stop`.

Without Dovecot the IMAP tests are skipped with the reason; with REQUIRE_IMAP=1
(CI) they fail instead.
"""

from __future__ import annotations

import atexit
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

CORPUS = Path(__file__).parent / "corpus"
USER = "complaints"
PASSWORD = "imap-test-password"


def corpus(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


@pytest.fixture
def eml():
    """eml("01_gb2312_subject_body.eml") -> the raw bytes of a corpus message."""
    return corpus


def _unavailable(reason: str):
    if os.environ.get("REQUIRE_IMAP") == "1":
        pytest.fail(f"REQUIRE_IMAP=1 but the IMAP test server cannot run: {reason}")
    pytest.skip(reason)


def _find(program: str) -> str | None:
    return shutil.which(program) or next(
        (p for p in (f"/usr/sbin/{program}", f"/usr/bin/{program}") if os.access(p, os.X_OK)),
        None,
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _users() -> tuple[str, str, pwd.struct_passwd]:
    """(internal user, login user, the account mail processes run as)."""
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid())
        return me.pw_name, me.pw_name, me
    names = [n for n in ("dovecot", "dovenull", "nobody") if _exists(n)]
    if not names:
        _unavailable("no unprivileged system user (dovecot, dovenull, nobody) to run Dovecot as")
    internal = "dovecot" if "dovecot" in names else names[-1]
    login = "dovenull" if "dovenull" in names else internal
    return internal, login, pwd.getpwnam(internal)


def _exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@dataclass
class ImapServer:
    host: str
    port: int
    user: str
    password: str
    config: Path

    def connect(self) -> imaplib.IMAP4:
        imap = imaplib.IMAP4(self.host, self.port, timeout=10)
        imap.login(self.user, self.password)
        return imap

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        with self.connect() as imap:
            typ, data = imap.append(folder, None, None, raw)
            assert typ == "OK", data

    def uids(self, folder: str = "INBOX", criteria: str = "ALL") -> list[bytes]:
        with self.connect() as imap:
            imap.select(folder)
            typ, data = imap.uid("SEARCH", None, criteria)
            assert typ == "OK", data
            return (data[0] or b"").split()

    def clear(self, folder: str = "INBOX") -> None:
        with self.connect() as imap:
            imap.select(folder)
            if imap.uid("SEARCH", None, "ALL")[1][0]:
                imap.store("1:*", "+FLAGS.SILENT", r"(\Deleted)")
                imap.expunge()

    def settings(self, **overrides) -> dict:
        """mail_fetch's keyword arguments for this server."""
        return {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password,
            "security": "none",
            "folder": "INBOX",
            "timeout": 10,
        } | overrides


def _config(base: Path, port: int, internal: str, login: str, mail_user) -> str:
    return f"""# Throwaway Dovecot for the test suite: nothing here is used in production.
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
info_log_path = {base}/dovecot.log
default_internal_user = {internal}
default_login_user = {login}
first_valid_uid = {mail_user.pw_uid}
last_valid_uid = 0
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=SHA512-CRYPT {base}/passwd
}}
userdb {{
  driver = passwd-file
  args = {base}/passwd
}}
# No growing delay after the wrong-password test (Dovecot's auth penalty).
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


def _wait_until_listening(port: int, seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                if conn.recv(64).startswith(b"* OK"):
                    return True
        except OSError:
            time.sleep(0.1)
    return False


@pytest.fixture(scope="session")
def imap_server():
    dovecot, doveadm = _find("dovecot"), _find("doveadm")
    if not dovecot or not doveadm:
        _unavailable("Dovecot is not installed (apt-get install dovecot-imapd)")
    internal, login, mail_user = _users()
    base = Path(tempfile.mkdtemp(prefix="complaints-dovecot-"))
    # Dovecot's unprivileged processes must reach the directory.
    base.chmod(0o755)
    port = _free_port()
    config = base / "dovecot.conf"
    # Also when the session ends without running fixture teardown (a crashed plugin).
    atexit.register(_stop, doveadm, base)
    try:
        password_hash = subprocess.run(  # noqa: S603 - our own fixed arguments
            [doveadm, "pw", "-s", "SHA512-CRYPT", "-p", PASSWORD],
            check=True,
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout.strip()
        home = base / "home" / USER
        home.mkdir(parents=True)
        for path in (base / "home", home):
            os.chown(path, mail_user.pw_uid, mail_user.pw_gid)
        (base / "passwd").write_text(
            f"{USER}:{password_hash}:{mail_user.pw_uid}:{mail_user.pw_gid}::{home}::\n"
        )
        config.write_text(_config(base, port, internal, login, mail_user))
        # The daemon inherits stdout/stderr: a file, not a pipe nobody would close.
        with (base / "start.log").open("wb") as out:
            started = subprocess.run(  # noqa: S603 - our own fixed arguments
                [dovecot, "-c", str(config)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=30,
            )
        if started.returncode != 0 or not _wait_until_listening(port):
            logs = "".join(
                p.read_text(errors="replace")[-2000:]
                for p in (base / "start.log", base / "dovecot.log")
                if p.exists()
            )
            _unavailable(f"Dovecot did not start (exit {started.returncode}): {logs}")
        yield ImapServer(host="127.0.0.1", port=port, user=USER, password=PASSWORD, config=config)
    finally:
        _stop(doveadm, base)
        atexit.unregister(_stop)


def _stop(doveadm: str, base: Path) -> None:
    """Stop the server and remove its directory; safe to call twice."""
    config = base / "dovecot.conf"
    if (base / "run" / "master.pid").exists():
        subprocess.run(  # noqa: S603 - our own fixed arguments
            [doveadm, "-c", str(config), "stop"], capture_output=True, timeout=30, check=False
        )
        deadline = time.monotonic() + 10
        while (base / "run" / "master.pid").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def mailbox(imap_server):
    """The test server with an empty INBOX."""
    imap_server.clear()
    return imap_server


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Attachments of the mail tests go to a temporary directory."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT
