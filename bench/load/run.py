"""Load test: gunicorn with the production settings on 127.0.0.1, a database of its own.

    .venv/bin/python bench/load/run.py [--duration 60] [--agents 8] [--customers 40]

Sets up (and drops at the end, unless --keep):
- a PostgreSQL database `complaints_load` on DATABASE_HOST (default the local server,
  127.0.0.1:5432, user postgres), migrated and seeded with the demo data (300
  complaints, the demo users);
- gunicorn (config.settings.production: DEBUG off, secure cookies, persistent
  connections) with --workers, rate limits counted in Redis (db 11) and per client
  IP from X-Real-IP as behind nginx; mail to nowhere (a locmem backend: the outbox
  is exercised, nothing leaves the machine); Celery tasks run inline.

Then for --duration seconds, at once:
- agents (threads, one API token each, spread over the demo agents): the queue
  (GET /api/complaints/), a complaint's detail, its timeline, and now and then a
  reply (POST /api/complaints/<id>/reply/) — 6 reads to 1 write;
- a public-form burst: customers (threads, each its own X-Real-IP) that open
  /submit/ and submit it with a unique marker in the description.

Reports requests, throughput, p50/p95/p99 latency and errors per kind; then counts
the markers in the database: every submission answered with the confirmation
(302 → /submit/received/…) must be there exactly once, and no marker may be there twice.
Exit status 1 when anything was lost or duplicated or a 5xx occurred.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[2]
PY = str(ROOT / ".venv" / "bin" / "python")

TOKENS = """
from rest_framework.authtoken.models import Token
from complaints.models import User
from complaints import roles
agents = [u for u in User.objects.filter(is_active=True) if roles.is_agent(u)]
print("TOKENS=" + ",".join(Token.objects.get_or_create(user=u)[0].key for u in agents))
"""


def sh(*args: str, env: dict, timeout: float = 900) -> str:
    done = subprocess.run(  # noqa: S603 - our own fixed arguments
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        sys.exit(f"{' '.join(args[:4])} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return done.stdout


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.statuses: dict[str, Counter] = defaultdict(Counter)

    def add(self, kind: str, seconds: float, status) -> None:
        with self.lock:
            self.latencies[kind].append(seconds)
            self.statuses[kind][status] += 1


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


class Client:
    def __init__(self, port: int, stats: Stats, headers: dict | None = None):
        self.port, self.stats, self.headers = port, stats, headers or {}
        self.cookies: dict[str, str] = {}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(self, kind: str, method: str, path: str, body=None, headers=None):
        headers = {**self.headers, **(headers or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        start = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.stats.add(kind, time.perf_counter() - start, type(exc).__name__)
            return None, b"", {}
        self.stats.add(kind, time.perf_counter() - start, response.status)
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";")[0]
        return response.status, data, dict(response.getheaders())


def agent(port: int, token: str, stats: Stats, until: float, seed: int) -> None:
    client = Client(port, stats, {"Authorization": f"Token {token}", "Accept": "application/json"})
    ids: list[int] = []
    n = seed
    while time.monotonic() < until:
        n += 1
        status, data, _ = client.request("agent: queue", "GET", "/api/complaints/?page_size=25")
        if status == 200:
            ids = [c["id"] for c in json.loads(data).get("results", [])] or ids
        if not ids:
            time.sleep(0.2)
            continue
        pk = ids[n % len(ids)]
        status, data, _ = client.request("agent: detail", "GET", f"/api/complaints/{pk}/")
        client.request("agent: timeline", "GET", f"/api/complaints/{pk}/events/")
        if n % 6 == 0 and status == 200:
            version = json.loads(data).get("version")
            client.request(
                "agent: reply",
                "POST",
                f"/api/complaints/{pk}/reply/",
                body=json.dumps(
                    {"body": f"您好，我们正在处理（负载测试 {n}）。", "version": version}
                ),
                headers={"Content-Type": "application/json"},
            )


TOKEN_RE = re.compile(rb'name="(csrfmiddlewaretoken|form_token)" value="([^"]+)"')


def customer(port: int, stats: Stats, until: float, submitted: dict, lock, index: int) -> None:
    """One visitor (its own address) submitting forms back to back, up to the
    public rate limit (5 per 10 minutes per address)."""
    ip = f"10.{index // 250 % 250}.{index % 250}.{secrets.randbelow(250) + 1}"
    origin = f"http://127.0.0.1:{port}"
    for _ in range(5):
        if time.monotonic() >= until:
            return
        client = Client(port, stats, {"X-Real-IP": ip})
        status, page, _ = client.request("public: form", "GET", "/submit/")
        if status != 200:
            continue
        fields = {k.decode(): v.decode() for k, v in TOKEN_RE.findall(page)}
        marker = f"LOAD-{uuid.uuid4().hex}"
        body = urlencode(
            {
                **fields,
                "name": "负载测试",
                "email": f"{marker.lower()}@example.com",
                "phone": "",
                "order_number": "",
                "product": "",
                "description": f"压力测试提交的投诉，编号 {marker}。",
                "demand": "refund",
                "demand_detail": "",
                "website": "",
            }
        )
        status, _, headers = client.request(
            "public: submit",
            "POST",
            "/submit/",
            body=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Origin": origin,
                "Referer": f"{origin}/submit/",
            },
        )
        confirmed = status in (302, 303) and "/submit/received/" in headers.get("Location", "")
        with lock:
            submitted[marker] = confirmed or status


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--agents", type=int, default=8)
    parser.add_argument("--customers", type=int, default=40)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--database", default="complaints_load")
    parser.add_argument(
        "--pg", default=os.environ.get("LOAD_PG", "postgres://postgres@127.0.0.1:5432")
    )
    parser.add_argument(
        "--redis", default=os.environ.get("LOAD_REDIS", "redis://127.0.0.1:6379/11")
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    db_url = f"{args.pg}/{args.database}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))},
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": db_url,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "CACHE_URL": args.redis,
        "CLIENT_IP_HEADER": "HTTP_X_REAL_IP",
        "CELERY_TASK_ALWAYS_EAGER": "true",
        "EMAIL_URL": "memorymail://",
        "SITE_URL": f"http://127.0.0.1:{args.port}",
        "STATIC_ROOT": str(ROOT / "var" / "load-static"),
    }
    psql = ["psql", f"{args.pg}/postgres", "-qc"]
    print(f"database {args.database}: create, migrate, seed …", flush=True)
    sh(*psql, f"DROP DATABASE IF EXISTS {args.database} WITH (FORCE)", env=env)
    sh(*psql, f"CREATE DATABASE {args.database} TEMPLATE template0 ENCODING 'UTF8'", env=env)
    sh("redis-cli", "-u", args.redis, "flushdb", env=env)
    web = None
    try:
        sh(PY, "manage.py", "migrate", "--noinput", "-v0", env=env)
        sh(PY, "manage.py", "seed_demo", "--force", env=env)
        sh(PY, "manage.py", "collectstatic", "--noinput", "-v0", env=env)
        out = sh(PY, "manage.py", "shell", "-c", TOKENS, env=env)
        tokens = next(line for line in out.splitlines() if line.startswith("TOKENS="))[7:].split(
            ","
        )
        log = open(ROOT / "var" / "load-gunicorn.log", "w")  # noqa: SIM115 - closed below
        web = subprocess.Popen(  # noqa: S603 - our own fixed arguments
            [PY, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{args.port}",
             "--workers", str(args.workers), "--timeout", "30"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                http.client.HTTPConnection("127.0.0.1", args.port, timeout=1).request(
                    "GET", "/healthz"
                )
                break
            except OSError:
                time.sleep(0.3)
        warm = Client(args.port, Stats(), {"Authorization": f"Token {tokens[0]}"})
        for _ in range(args.workers * 2):  # every worker imports and connects once
            warm.request("warm-up", "GET", "/api/complaints/")

        stats, submitted, lock = Stats(), {}, threading.Lock()
        start = time.monotonic()
        until = start + args.duration
        threads = [
            threading.Thread(target=agent, args=(args.port, tokens[i % len(tokens)], stats, until, i * 1000))
            for i in range(args.agents)
        ] + [
            threading.Thread(target=customer, args=(args.port, stats, until, submitted, lock, i))
            for i in range(args.customers)
        ]  # fmt: skip
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(args.duration + 60)
        elapsed = time.monotonic() - start

        total = sum(len(v) for v in stats.latencies.values())
        print(f"\n{total} requests in {elapsed:.1f} s: {total / elapsed:.1f} req/s "
              f"({args.workers} gunicorn workers, {args.agents} agents, {args.customers} customers)")  # fmt: skip
        print(
            f"{'kind':18} {'n':>6} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}  statuses"
        )
        errors = 0
        for kind in sorted(stats.latencies):
            values = stats.latencies[kind]
            statuses = stats.statuses[kind]
            errors += sum(n for s, n in statuses.items() if not isinstance(s, int) or s >= 500)
            print(f"{kind:18} {len(values):>6} {len(values) / elapsed:>7.1f} {pct(values, .5):>8.0f} "
                  f"{pct(values, .95):>8.0f} {pct(values, .99):>8.0f}  {dict(statuses)}")  # fmt: skip
        every = [v for values in stats.latencies.values() for v in values]
        print(f"{'all':18} {len(every):>6} {len(every) / elapsed:>7.1f} {pct(every, .5):>8.0f} "
              f"{pct(every, .95):>8.0f} {pct(every, .99):>8.0f}  errors (5xx, connection): {errors}")  # fmt: skip

        counts = sh(
            "psql", db_url, "-Atc",
            "SELECT substring(description from 'LOAD-[0-9a-f]{32}') AS m, count(*) "
            "FROM complaints_complaint WHERE description LIKE '%LOAD-%' GROUP BY m",
            env=env,
        )  # fmt: skip
        stored = {m: int(n) for m, n in (line.split("|") for line in counts.splitlines() if line)}
        confirmed = [m for m, ok in submitted.items() if ok is True]
        lost = [m for m in confirmed if stored.get(m, 0) == 0]
        duplicated = [m for m, n in stored.items() if n > 1]
        unconfirmed_stored = [m for m, ok in submitted.items() if ok is not True and m in stored]
        print(f"\npublic form: {len(submitted)} submitted, {len(confirmed)} confirmed, "
              f"{len(stored)} markers in the database; lost {len(lost)}, duplicated {len(duplicated)}, "
              f"stored without a confirmation {len(unconfirmed_stored)}")  # fmt: skip
        ok = not lost and not duplicated and errors == 0 and bool(confirmed)
        print("OK" if ok else "FAILED")
        return 0 if ok else 1
    finally:
        if web is not None:
            os.killpg(web.pid, signal.SIGTERM)
            web.wait(30)
        if not args.keep:
            subprocess.run(  # noqa: S603 - our own fixed arguments
                [*psql, f"DROP DATABASE IF EXISTS {args.database} WITH (FORCE)"],
                env=env,
                check=False,
            )
        subprocess.run(  # noqa: S603 - our own fixed arguments
            ["redis-cli", "-u", args.redis, "flushdb"],  # noqa: S607
            env=env,
            capture_output=True,
            check=False,
        )


if __name__ == "__main__":
    sys.exit(main())
