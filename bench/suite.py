#!/usr/bin/env python
# ruff: noqa: S108, S310, S603, S607  (a local benchmark driving local tools)
"""The benchmark suite of issue 9 (run it with bench/run; see bench/README.md).

Creates the database `complaints_bench` on DATABASE_URL's server (dropped and
recreated: no other database is touched), migrates, seeds N complaints (bench/seed.py),
then measures, printing one line per figure with its ratio to two ceilings served the
same way (a bare Django view, a view doing one primary-key SELECT):

  queue, detail (gunicorn, 2 workers, production settings with bench/settings.py,
  wrk at 16 connections), API intake (1 and 8 clients), SLA sweep (nothing to record,
  N breaches), dashboard (30 days; a quarter filtered by team; then the other periods
  and filters, and an agent's own), a web worker's RSS,
  SQL queries per request (test client, CaptureQueriesContext), EXPLAIN ANALYZE of the
  queue query and of the dashboard's slowest queries.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DB = "complaints_bench"
VENV_BIN = ROOT / ".venv" / "bin"
LINES: list[str] = []


def say(line: str = "") -> None:
    print(line, flush=True)
    LINES.append(line)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--count", type=int, default=1_000_000, help="complaints to seed")
    p.add_argument("--breaches", type=int, default=10_000, help="breaches for the sweep")
    p.add_argument("--duration", type=int, default=15, help="seconds per wrk run")
    p.add_argument("--connections", type=int, default=16, help="wrk connections")
    p.add_argument("--port", type=int, default=8811)
    p.add_argument("--reuse", action="store_true", help="keep the seeded database")
    p.add_argument("--no-sweep", action="store_true", help="skip the SLA sweep figures")
    p.add_argument("--out", default="", help="also write the lines to this file")
    return p.parse_args()


def with_db(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def recreate_database(url: str) -> None:
    import psycopg

    with psycopg.connect(with_db(url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        conn.execute(f"CREATE DATABASE \"{DB}\" TEMPLATE template0 ENCODING 'UTF8'")


def env_for(url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="bench.settings",
        SECRET_KEY=env.get("SECRET_KEY", "bench-only-" + "x" * 40),
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        CONN_MAX_AGE="600",
        # Production's shared cache (sessions, configuration, rate limits): a Redis
        # database of the bench's own.
        CACHE_URL=env.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/12"),
        PYTHONPATH=str(ROOT),
    )
    return env


# --- HTTP load -----------------------------------------------------------------------


class Server:
    def __init__(self, url: str, port: int):
        env = env_for(url)
        env.update(
            GUNICORN_WORKERS="2",
            GUNICORN_BIND=f"127.0.0.1:{port}",
            GUNICORN_MAX_REQUESTS="0",
            GUNICORN_ACCESSLOG="/dev/null",
        )
        self.base = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "config.wsgi"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open("/tmp/complaints-bench-gunicorn.log", "w"),  # noqa: SIM115
            start_new_session=True,
        )
        for _ in range(120):
            try:
                urllib.request.urlopen(self.base + "/bench/bare/", timeout=2).read()
                return
            except OSError:
                time.sleep(0.5)
        raise SystemExit("gunicorn did not start: see /tmp/complaints-bench-gunicorn.log")

    def workers(self) -> list[int]:
        out = subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(self.proc.pid)], capture_output=True, text=True
        ).stdout
        return [int(x) for x in out.split()]

    def rss_mb(self) -> list[float]:
        sizes = []
        for pid in self.workers():
            status = Path(f"/proc/{pid}/status").read_text()
            kb = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
            sizes.append(kb / 1024)
        return sizes

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def drain(url: str) -> None:
    """Wait until the server has finished the requests wrk left queued (a bare view
    answers at once again), so one figure does not pay for the previous one."""
    base = url.split("/", 3)
    bare = f"{base[0]}//{base[2]}/bench/bare/"
    for _ in range(300):
        started = time.perf_counter()
        urllib.request.urlopen(bare, timeout=120).read()
        if time.perf_counter() - started < 0.3:
            return
        time.sleep(0.5)


def wrk(url: str, *, connections: int, duration: int, headers=(), script=None, env=None):
    drain(url)
    cmd = [
        "wrk",
        f"-t{min(2, connections)}",
        f"-c{connections}",
        f"-d{duration}s",
        "--latency",
        "--timeout",
        "30s",
    ]
    for h in headers:
        cmd += ["-H", h]
    if script:
        cmd += ["-s", script]
    run = subprocess.run([*cmd, url], capture_output=True, text=True, env=env)
    out = run.stdout
    if "Requests/sec" not in out or " 0 requests in" in out:
        say(f"wrk failed: {out[-400:]} {run.stderr[-400:]}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    total = int(re.search(r"(\d+) requests in", out).group(1))
    return {
        "rps": rps,
        "p50": p50,
        "p99": p99,
        "bad": int(bad.group(1)) if bad else 0,
        "total": total,
        "socket": errors.group(1) if errors else "",
    }


def timed_get(url: str, cookie: str, times: int) -> list[float]:
    spent = []
    for _ in range(times):
        req = urllib.request.Request(url, headers={"Cookie": cookie})
        started = time.perf_counter()
        with urllib.request.urlopen(req, timeout=120) as response:
            response.read()
            # A lost session ends on the login page (a redirect urllib follows).
            assert response.status == 200 and response.url == url, (response.status, response.url)
        spent.append((time.perf_counter() - started) * 1000)
    return spent


# --- In-process (Django) ---------------------------------------------------------------


def setup_django(url: str) -> None:
    os.environ.update(env_for(url))
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def subjects() -> dict:
    """The users, session cookies, token and complaints the measurements use."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.db.models import Count
    from rest_framework.authtoken.models import Token

    from complaints.models import Complaint, Team, User

    store = import_module(settings.SESSION_ENGINE).SessionStore
    # The backend that loads users (the first one, django-axes, only refuses logins).
    backend = "complaints.auth_backends.CachedPermissionsBackend"
    assert backend in settings.AUTHENTICATION_BACKENDS

    def cookie(user) -> str:
        s = store()
        s[SESSION_KEY] = str(user.pk)
        s[BACKEND_SESSION_KEY] = backend
        s[HASH_SESSION_KEY] = user.get_session_auth_hash()
        s.create()
        return f"{settings.SESSION_COOKIE_NAME}={s.session_key}"

    team = Team.objects.get(code="front-1")
    agent = User.objects.get(username="bench-front-1-000")
    supervisor = User.objects.get(username="supervisor")
    api_user = User.objects.get(username="agent")
    token, _ = Token.objects.get_or_create(user=api_user)

    ids = list(
        Complaint.objects.filter(team=team, status="in_progress")
        .order_by("-pk")
        .values_list("pk", flat=True)[:3000]
    )
    by_events = {}
    from complaints.models import ComplaintEvent

    counts = (
        ComplaintEvent.objects.filter(complaint_id__in=ids)
        .values("complaint_id")
        .annotate(n=Count("pk"))
    )
    for row in counts:
        by_events.setdefault(row["n"], row["complaint_id"])
    from complaints.models import Category, Product

    busiest = Complaint.objects.values("category_id").annotate(n=Count("pk")).order_by("-n").first()
    return {
        "team": team,
        "category": Category.objects.get(pk=busiest["category_id"]),
        "product": Product.objects.order_by("pk").first(),
        "agent": agent,
        "supervisor": supervisor,
        "agent_cookie": cookie(agent),
        "supervisor_cookie": cookie(supervisor),
        "token": token.key,
        "detail5": by_events[5],
        "detail20": by_events[20],
    }


def query_counts(s: dict) -> dict:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(s["agent"])
    sup = Client()
    sup.force_login(s["supervisor"])

    def count(c, url):
        c.get(url)  # warm caches (permissions, configuration)
        with CaptureQueriesContext(connection) as ctx:
            response = c.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return len(ctx.captured_queries), list(ctx.captured_queries)

    out = {}
    for size in (25, 50, 100):
        out[f"queue{size}"] = count(client, f"/queue/team/?status=in_progress&size={size}")
    out["detail5"] = count(client, f"/complaints/{s['detail5']}/")
    out["detail20"] = count(client, f"/complaints/{s['detail20']}/")
    out["dash30"] = count(sup, "/dashboard/?period=30d")
    out["dashq"] = count(sup, f"/dashboard/?period=quarter&team={s['team'].pk}")
    return out


def explain(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        return "\n".join(row[0] for row in cur.fetchall())


def sweep_figures(now: datetime, breaches: int, log) -> None:
    from django.db import connection, transaction

    from complaints.services import sweep

    spent = {"escalation": 0.0}
    real = sweep._escalate

    def escalate(ids, at):
        started = time.perf_counter()
        try:
            return real(ids, at)
        finally:
            spent["escalation"] += time.perf_counter() - started

    def run(label: str):
        spent["escalation"] = 0.0
        sweep._escalate = escalate
        try:
            started = time.perf_counter()
            result = sweep.sla_sweep(now=now)
            seconds = time.perf_counter() - started
        finally:
            sweep._escalate = real
        return result, seconds, spent["escalation"]

    result, seconds, _ = run("nothing")
    say(
        f"sweep nothing to record       {seconds:8.2f} s     target <= 2 s     "
        f"recorded {result.total}"
    )
    # N open complaints being worked on and never escalated get a resolution deadline
    # just passed (their resolution crossings, if the seed recorded any, forgotten): 2
    # crossings (warning, breach) and one escalation each.
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            """
            CREATE TEMPORARY TABLE bench_breached ON COMMIT DROP AS
            SELECT id FROM complaints_complaint
            WHERE status IN ('triaged', 'assigned', 'in_progress') AND escalation_level = 0
            ORDER BY id LIMIT %(n)s
            """,
            {"n": breaches},
        )
        cur.execute(
            "DELETE FROM complaints_slacrossing WHERE complaint_id IN "
            "(SELECT id FROM bench_breached) "
            "AND kind IN ('resolution_warning', 'resolution_breach')"
        )
        cur.execute(
            """
            UPDATE complaints_complaint SET resolution_warn_at = %(now)s - interval '20 min',
                   resolution_due_at = %(now)s - interval '10 min'
            WHERE id IN (SELECT id FROM bench_breached)
            """,
            {"now": now},
        )
        moved = cur.rowcount
    result, seconds, escalation = run("breaches")
    own = seconds - escalation
    say(
        f"sweep {moved:,} breaches        {seconds:8.2f} s     target <= 10 s    "
        f"recorded {result.total:,}, escalated {result.escalated:,}; sweep itself "
        f"{own:.2f} s, escalation service {escalation:.2f} s "
        f"({result.escalated / max(escalation, 1e-9):.0f}/s)"
    )
    result, seconds, _ = run("again")
    say(f"sweep again (steady state)     {seconds:8.2f} s     recorded {result.total}")


# --- Main -------------------------------------------------------------------------------


def main() -> None:
    args = parse_args()
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("DATABASE_URL must point to a PostgreSQL server")
    url = with_db(url, DB)
    started = time.perf_counter()
    say(f"# bench {datetime.now():%Y-%m-%d %H:%M}  host {os.uname().nodename}  "
        f"cpus {os.cpu_count()}  count {args.count:,}")  # fmt: skip
    if not args.reuse:
        recreate_database(url)
    setup_django(url)
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from complaints.models import Complaint

    if not args.reuse or not Complaint.objects.exists():
        t = time.perf_counter()
        call_command("migrate", verbosity=0)
        say(f"migrated                      {time.perf_counter() - t:8.1f} s")
        from bench.seed import seed

        now = timezone.now().replace(microsecond=0)
        t = time.perf_counter()
        seed(args.count, now=now, log=say)
        with connection.cursor() as cur:
            cur.execute("CREATE TABLE bench_meta (seeded_at timestamptz, count int)")
            cur.execute("INSERT INTO bench_meta VALUES (%s, %s)", [now, args.count])
        say(f"seeded {args.count:,} complaints   {time.perf_counter() - t:8.1f} s")
    else:
        # A database seeded by an earlier version: bring the schema up to date, and
        # rebuild the dashboard's rollup if a migration emptied it.
        t = time.perf_counter()
        call_command("migrate", verbosity=0)
        say(f"migrated (reused database)    {time.perf_counter() - t:8.1f} s")
        from complaints.models import DailyComplaintStats

        if not DailyComplaintStats.objects.exists():
            from complaints.analytics.rollup import rollup_rebuild

            with connection.cursor() as cur:
                cur.execute("SELECT seeded_at FROM bench_meta")
                seeded_at = cur.fetchone()[0]
            t = time.perf_counter()
            days = rollup_rebuild(now=seeded_at)
            say(f"daily rollup ({days} days)       {time.perf_counter() - t:8.1f} s")
    with connection.cursor() as cur:
        cur.execute("SELECT seeded_at, count FROM bench_meta")
        now, count = cur.fetchone()
        cur.execute("SELECT count(*) FROM complaints_complaintevent")
        events = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM complaints_complaint WHERE status IN "
                    "('new','triaged','assigned','in_progress','awaiting_customer','reopened')")  # fmt: skip
        open_ = cur.fetchone()[0]
    say(f"data: {count:,} complaints ({open_:,} open), {events:,} timeline events")

    t = time.perf_counter()
    call_command("collectstatic", interactive=False, verbosity=0)
    say(f"collectstatic                 {time.perf_counter() - t:8.1f} s")
    s = subjects()
    qc = query_counts(s)
    for key in ("queue25", "queue50", "queue100", "detail5", "detail20", "dash30", "dashq"):
        say(f"queries {key:<22}{qc[key][0]:8d}")

    # EXPLAIN ANALYZE: the queue's page query, the dashboard's three slowest.
    page = [q for q in qc["queue50"][1] if "LIMIT 50" in q["sql"] and "ORDER BY" in q["sql"]]
    plans = []
    if page:
        plans.append(("queue page (team, status=in_progress, 50 rows)", page[0]["sql"]))
    for key, label in (("dash30", "dashboard 30 days"), ("dashq", "dashboard quarter+team")):
        slow = sorted(qc[key][1], key=lambda q: -float(q["time"]))[:3]
        plans += [(f"{label}: slowest #{i + 1} ({float(q['time']) * 1000:.0f} ms)", q["sql"])
                  for i, q in enumerate(slow)]  # fmt: skip
    from django.db import connections

    connections.close_all()

    server = Server(url, args.port)
    base = server.base
    try:
        c, d = args.connections, args.duration
        wrk(base + "/bench/bare/", connections=c, duration=3)  # warm-up
        bare = wrk(base + "/bench/bare/", connections=c, duration=d)
        pk = wrk(base + f"/bench/pk/?id={s['detail20']}", connections=c, duration=d)

        def line(label, r, target):
            say(
                f"{label:<30}{r['rps']:8.1f} req/s  p50 {r['p50']:7.1f} ms  p99 "
                f"{r['p99']:7.1f} ms  = {r['rps'] / bare['rps']:.3f} x bare, "
                f"{r['rps'] / pk['rps']:.3f} x pk-select   target {target}"
                + (f"   NON-2XX {r['bad']}/{r['total']}" if r["bad"] else "")
            )

        line("ceiling bare view", bare, "-")
        line("ceiling pk-select view", pk, "-")
        agent = [f"Cookie: {s['agent_cookie']}"]
        queue_url = base + "/queue/team/?status=in_progress"
        # Each page answers 200 to its user before it is measured (wrk only counts).
        for path in ("/queue/team/?status=in_progress", f"/complaints/{s['detail20']}/"):
            timed_get(base + path, s["agent_cookie"], 1)
        wrk(queue_url, connections=2, duration=2, headers=agent)
        line("team queue (50 rows)", wrk(queue_url, connections=c, duration=d, headers=agent),
             ">= 300 req/s, p99 <= 100 ms")  # fmt: skip
        detail_url = base + f"/complaints/{s['detail20']}/"
        line("detail (20 events)", wrk(detail_url, connections=c, duration=d, headers=agent),
             ">= 250 req/s, p99 <= 120 ms")  # fmt: skip
        wrk_env = dict(os.environ, BENCH_TOKEN=s["token"])
        script = str(ROOT / "bench" / "intake.lua")
        for clients, target in ((1, ">= 100/s"), (8, ">= 200/s")):
            r = wrk(base + "/api/intake/", connections=clients, duration=d, script=script,
                    env=wrk_env)  # fmt: skip
            line(f"API intake, {clients} client(s)", r, target)
        sup, team = s["supervisor_cookie"], s["team"].pk
        # The two targets first, then the other filter combinations (issue 7).
        for label, path, target, cookie in (
            ("dashboard 30 days", "/dashboard/?period=30d", 300, sup),
            ("dashboard quarter, one team", f"/dashboard/?period=quarter&team={team}", 800, sup),
            ("dashboard today", "/dashboard/?period=today", 300, sup),
            ("dashboard 7 days", "/dashboard/?period=7d", 300, sup),
            ("dashboard quarter", "/dashboard/?period=quarter", 800, sup),
            ("dashboard 30 days, one team", f"/dashboard/?period=30d&team={team}", 300, sup),
            ("dashboard 30 d, category", f"/dashboard/?period=30d&category={s['category'].pk}",
             300, sup),
            ("dashboard 30 d, product", f"/dashboard/?period=30d&product={s['product'].pk}",
             300, sup),
            ("dashboard 30 d, phone", "/dashboard/?period=30d&channel=phone", 300, sup),
            ("dashboard 30 d, agent's own", "/dashboard/?period=30d", 300, s["agent_cookie"]),
        ):  # fmt: skip
            times = timed_get(base + path, cookie, 6)
            say(
                f"{label:<30}first {times[0]:7.0f} ms  median of next 5 "
                f"{statistics.median(times[1:]):7.0f} ms  = "
                f"{statistics.median(times[1:]) / pk['p50']:.0f} x pk-select p50   "
                f"target <= {target} ms"
            )
        rss = server.rss_mb()
        say(f"web worker RSS after warm-up  {max(rss):8.0f} MB (workers: "
            f"{', '.join(f'{x:.0f}' for x in rss)})   target <= 250 MB")  # fmt: skip
    finally:
        server.stop()

    setup_django(url)
    if not args.no_sweep:
        sweep_figures(now, args.breaches, say)
    for label, sql in plans:
        say(f"\n## EXPLAIN ANALYZE {label}\n{sql[:600]}{' …' if len(sql) > 600 else ''}")
        say(explain(sql))
    say(f"\ntotal {time.perf_counter() - started:.0f} s")
    if args.out:
        Path(args.out).write_text("\n".join(LINES) + "\n")


if __name__ == "__main__":
    main()
