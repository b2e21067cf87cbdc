#!/usr/bin/env python
"""Benchmark of the SLA sweep over a large backlog of open complaints (PostgreSQL).

Not part of the test suite. It seeds N open complaints in one INSERT … SELECT over
generate_series (the benchmark writes rows directly; product code never does), a
given number of them past their first-response deadline, then times:

  1. a pass with nothing to record (every warning moment and deadline ahead),
  2. a pass that records the breaches (a warning and a breach per breached
     complaint) and escalates them through the real escalation service,
  3. the same pass again: nothing new (the steady state of a sweep every minute).

Usage (from the project root):

  DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
      .venv/bin/python bench/sla_sweep.py --create --count 1000000 --breached 10000

--create (re)creates the database `complaints_bench_sla` on DATABASE_URL's server and
uses it; without it DATABASE_URL's own database is used and must hold no complaints.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "complaints_bench_sla"
# A fixed Monday morning: the passes sweep "as of" moments around it.
T0 = datetime(2026, 6, 1, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1_000_000, help="open complaints")
    parser.add_argument("--breached", type=int, default=10_000, help="of which breached")
    parser.add_argument(
        "--create", action="store_true", help=f"(re)create the database {BENCH_DB} and use it"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    if not 0 <= args.breached <= args.count or args.count < 1:
        parser.error("need 1 <= --count and 0 <= --breached <= --count")
    return args


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def recreate_database(url: str) -> str:
    import psycopg

    admin_url = with_database(url, "postgres")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}"')
        conn.execute(f"CREATE DATABASE \"{BENCH_DB}\" TEMPLATE template0 ENCODING 'UTF8'")
    return with_database(url, BENCH_DB)


def drop_database(url: str) -> None:
    import psycopg

    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}"')


def setup_django(url: str) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    # DEBUG would keep every query in memory; no broker is needed either.
    os.environ["DEBUG"] = "false"
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
    os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
    import django

    django.setup()


def seed(count: int, breached: int) -> float:
    """Insert the reference rows and `count` open complaints; returns the seconds."""
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.utils import timezone

    from complaints import roles
    from complaints.models import (
        Category,
        Channel,
        Complaint,
        Customer,
        Demand,
        Priority,
        Team,
        TeamMembership,
        User,
    )

    started = time.perf_counter()
    supervisor = User.objects.create(username="bench-supervisor")
    supervisor.groups.add(Group.objects.get(name=roles.SUPERVISOR))
    team = Team.objects.create(name="Bench team", code="bench", supervisor=supervisor)
    agents = User.objects.bulk_create([User(username=f"bench-agent-{i}") for i in range(20)])
    TeamMembership.objects.bulk_create(
        [TeamMembership(team=team, user=u) for u in [supervisor, *agents]]
    )
    category = Category.objects.create(name="Bench", code="bench", default_team=team)
    priority = Priority.objects.get(code="P3")
    customers = Customer.objects.bulk_create(
        [Customer(name=f"Bench customer {i}", phone=f"+86139{i:08d}") for i in range(1000)]
    )

    # Every column from a template complaint (so new fields with Python defaults are
    # filled too); a few vary per row below.
    template = Complaint(
        tracking_number="template",
        title="水壶坏了 / Kettle broke",
        description="Bench complaint",
        demand=Demand.REPAIR,
        channel=Channel.WEB,
        customer=customers[0],
        category=category,
        priority=priority,
        team=team,
        received_at=T0 - timedelta(hours=1),
    )
    now = timezone.now()
    far = T0 + timedelta(days=30)
    step = count // breached if breached else count + 1
    per_row = {
        "tracking_number": "'BENCH-' || lpad(g.i::text, 9, '0')",
        "customer_id": f"(%(customers)s::bigint[])[1 + mod(g.i, {len(customers)})]",
        "status": "CASE WHEN mod(g.i, 2) = 0 THEN 'triaged' ELSE 'in_progress' END",
        "assignee_id": f"CASE WHEN mod(g.i, 2) = 0 THEN NULL "
        f"ELSE (%(agents)s::bigint[])[1 + mod(g.i, {len(agents)})] END",
        # Breached rows: warned at T0+10min, due at T0+30min; the others far ahead.
        "response_warn_at": f"CASE WHEN mod(g.i, {step}) = 0 THEN %(warn)s ELSE %(far)s END",
        "response_due_at": f"CASE WHEN mod(g.i, {step}) = 0 THEN %(due)s ELSE %(far)s END",
        "resolution_warn_at": "%(far)s",
        "resolution_due_at": "%(far)s",
        "created_at": "%(now)s",
        "updated_at": "%(now)s",
    }
    columns, values, params = [], [], {}
    for field in Complaint._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.attname in per_row:
            values.append(per_row[field.attname])
            continue
        value = field.get_db_prep_save(getattr(template, field.attname), connection)
        params[field.attname] = value
        values.append(f"%({field.attname})s")
    params.update(
        customers=[c.pk for c in customers],
        agents=[a.pk for a in agents],
        warn=T0 + timedelta(minutes=10),
        due=T0 + timedelta(minutes=30),
        far=far,
        now=now,
        n=count,
    )
    # Identifiers come from the model's meta and values are parameters.
    sql = (
        f"INSERT INTO {Complaint._meta.db_table} ({', '.join(columns)}) "  # noqa: S608
        f"SELECT {', '.join(values)} FROM generate_series(1, %(n)s) AS g(i)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        cursor.execute(f"ANALYZE {Complaint._meta.db_table}")
    return time.perf_counter() - started


def timed_sweep(now: datetime):
    from complaints.services import sweep

    spent = {"escalation": 0.0}
    real = sweep._escalate

    def escalate(ids, at):
        started = time.perf_counter()
        try:
            return real(ids, at)
        finally:
            spent["escalation"] += time.perf_counter() - started

    sweep._escalate = escalate
    try:
        started = time.perf_counter()
        result = sweep.sla_sweep(now=now)
        return result, time.perf_counter() - started, spent["escalation"]
    finally:
        sweep._escalate = real


def main() -> None:
    args = parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL to a PostgreSQL server (postgres://user@host:5432/db).")
    if args.create:
        url = recreate_database(url)
    setup_django(url)

    from django.core.management import call_command

    from complaints.models import Complaint

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(
        f"database   {urlsplit(url).path.lstrip('/')}, migrated in {time.perf_counter() - started:.1f} s"
    )
    if Complaint.objects.exists():
        sys.exit("The database already holds complaints: use --create for a fresh one.")

    seconds = seed(args.count, args.breached)
    print(
        f"seeded     {args.count:,} open complaints ({args.breached:,} breached) in {seconds:.1f} s"
    )

    rows = []
    for label, now in (
        ("nothing to record", T0),
        ("breaches", T0 + timedelta(hours=1)),
        ("again (steady state)", T0 + timedelta(hours=1)),
    ):
        result, seconds, escalation = timed_sweep(now)
        rows.append((label, result, seconds, escalation))
        rate = args.count / seconds if seconds else float("inf")
        line = (
            f"sweep      {label:<21} {seconds:8.2f} s  {rate:>12,.0f} open complaints/s  "
            f"recorded {result.total:,}, escalated {result.escalated:,}"
        )
        if escalation:
            own = seconds - escalation
            line += (
                f"\n           of which the escalation service {escalation:.2f} s "
                f"({result.escalated / escalation:,.0f} escalations/s), the sweep itself "
                f"{own:.2f} s ({result.total / own:,.0f} crossings/s with their events)"
            )
        print(line)

    # Other work on the machine skews the figures: say how busy it was.
    print("load avg   {:.2f} {:.2f} {:.2f} (1, 5, 15 min)".format(*os.getloadavg()))
    breaches = rows[1][1]
    expected = 2 * args.breached
    if breaches.total != expected or breaches.escalated != args.breached or rows[2][1].total:
        sys.exit(f"unexpected counts: {breaches.summary()} (expected {expected} crossings)")
    if args.create and not args.keep:
        from django.db import connections

        connections.close_all()
        drop_database(url)
    print("ok")


if __name__ == "__main__":
    main()
