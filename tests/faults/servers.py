"""Real servers the fault tests start, stop, kill and restart, all on 127.0.0.1.

- `SmtpSink`: an SMTP server (aiosmtpd) on a fixed port that can be stopped and
  started again on that port; it counts messages by Message-ID, and can hold a DATA
  command for a while (a slow server) and refuse to keep a message whose client
  disappeared before the answer (it never took responsibility for it).
- `PrivateCluster`: a PostgreSQL cluster of our own (initdb + pg_ctl as the
  `postgres` OS user, in a temporary directory, on a free port), so a test can stop
  and restart "the database" without touching the shared server on 5432.
- `Process`: a subprocess in its own process group, logged to a file, killed or
  stopped as a group.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections import Counter
from email import policy
from pathlib import Path

from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, *, seconds: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return bool(predicate())


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


# --- SMTP -----------------------------------------------------------------------------


class _Handler:
    def __init__(self, sink: SmtpSink):
        self.sink = sink

    async def handle_DATA(self, server, session, envelope):
        sink = self.sink
        sink.data_started.set()
        held_until = time.monotonic() + sink.hold_seconds
        try:
            while time.monotonic() < held_until:
                await asyncio.sleep(0.05)
        except asyncio.CancelledError:
            # The client went away before our answer (aiosmtpd cancels the session):
            # the message was not accepted, and is not kept.
            sink.abandoned += 1
            raise
        message = email.message_from_bytes(envelope.content, policy=policy.compat32)
        with sink.lock:
            sink.received.append(message)
        return "250 OK"


class SmtpSink:
    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.received: list = []
        self.lock = threading.Lock()
        self.hold_seconds = 0.0
        self.abandoned = 0
        self.data_started = threading.Event()
        self._controller: Controller | None = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        assert self._controller is None
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def message_ids(self) -> Counter:
        with self.lock:
            return Counter(str(m["Message-ID"]).strip() for m in self.received)

    def mailers(self) -> dict:
        """settings.MAILERS for this server."""
        return {
            "default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": "127.0.0.1", "port": self.port, "timeout": 5},
            }
        }


# --- Processes --------------------------------------------------------------------------


class Process:
    """A subprocess in its own process group, its output in `log`."""

    def __init__(self, args: list[str], *, env: dict, log: Path, cwd: Path = ROOT, user=None):
        self.args, self.env, self.log, self.cwd, self.user = args, env, log, cwd, user
        self.popen: subprocess.Popen | None = None

    def start(self) -> Process:
        out = self.log.open("ab")
        try:
            self.popen = subprocess.Popen(  # noqa: S603 - our own fixed arguments
                self.args,
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                user=self.user,
            )
        finally:
            out.close()
        return self

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL to the whole group: no clean-up, no acknowledgment, no goodbye."""
        if self.popen is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(10)

    def stop(self, timeout: float = 15) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        try:
            os.killpg(self.popen.pid, signal.SIGTERM)
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        except ProcessLookupError:
            pass

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


# --- PostgreSQL -------------------------------------------------------------------------


def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


class ClusterUnavailable(Exception):
    pass


class PrivateCluster:
    """A throwaway PostgreSQL cluster: trust authentication on 127.0.0.1 only, its
    socket and data in a temporary directory, owned by the `postgres` OS user."""

    def __init__(self):
        self.bin = postgres_bin()
        if self.bin is None:
            raise ClusterUnavailable("no /usr/lib/postgresql/*/bin/pg_ctl (package postgresql)")
        if os.geteuid() == 0:
            try:
                self.owner = pwd.getpwnam("postgres")
            except KeyError as exc:
                raise ClusterUnavailable("running as root and there is no postgres user") from exc
        else:
            self.owner = pwd.getpwuid(os.geteuid())
        self.base = Path(tempfile.mkdtemp(prefix="complaints-pg-"))
        self.base.chmod(0o755)
        os.chown(self.base, self.owner.pw_uid, self.owner.pw_gid)
        self.data = self.base / "data"
        self.port = free_port()
        self.log = self.base / "postgres.log"

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(  # noqa: S603 - our own fixed arguments
            [str(self.bin / args[0]), *args[1:]],
            cwd=self.base,
            capture_output=True,
            text=True,
            timeout=timeout,
            user=self.owner.pw_uid if os.geteuid() == 0 else None,
            group=self.owner.pw_gid if os.geteuid() == 0 else None,
            check=False,
        )

    def init(self) -> None:
        done = self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        if done.returncode != 0:
            raise ClusterUnavailable(f"initdb failed: {done.stderr[-1500:]}")

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c full_page_writes=off -c max_connections=60 "
            "-c shared_buffers=32MB"
        )
        done = self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start"
        )
        if done.returncode != 0:
            raise ClusterUnavailable(f"pg_ctl start failed: {done.stderr}{self.log_tail()}")

    def stop(self, mode: str = "fast") -> None:
        """mode "immediate" is a crash: no checkpoint, recovery at the next start."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def running(self) -> bool:
        return self._run("pg_ctl", "-D", str(self.data), "status").returncode == 0

    def psql(self, sql: str, database: str = "postgres") -> str:
        done = self._run("psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                         "-d", database, "-v", "ON_ERROR_STOP=1", "-Atc", sql)  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"psql: {done.stderr}")
        return done.stdout.strip()

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def log_tail(self, chars: int = 1500) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def destroy(self) -> None:
        if self.data.exists():
            self.stop("immediate")
        shutil.rmtree(self.base, ignore_errors=True)


def django_env(**extra: str) -> dict:
    """The environment of a Django subprocess: test settings, eager tasks, no broker."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST", "DJANGO_", "DATABASE_URL", "CELERY_", "TEST_"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "CELERY_TASK_ALWAYS_EAGER": "true",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env
