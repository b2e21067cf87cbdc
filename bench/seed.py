# ruff: noqa: S608  (benchmark-only SQL: identifiers and numbers come from this file)
"""Seeding of the benchmark database: N complaints with their whole history, in SQL.

The configuration (users, teams, categories, products, SLA policies, rules) comes from
`seed_demo --complaints 0`, plus 200 agents. The complaints and everything that hangs
off them are generated inside PostgreSQL by INSERT … SELECT over generate_series (no
row crosses the wire), with deterministic pseudo-random draws (`bench_u(i, k)`, a hash
of the row number), so two runs with the same count produce the same data:

- customers (0.4 per complaint, drawn with a skew: a few customers complain often),
- complaints: channel, scenario (Chinese or English text, category, demand, root
  cause, resolution), product, priority, the team of the category, an agent of that
  team, a state that depends on the age (old ones mostly closed), SLA deadlines,
  the closed-loop fields of closed complaints (constraint complaint_closed_loop_complete),
- 5–20 timeline events each, the status changes of the path to the state, two
  simple-history rows (creation, current state), survey answers of closed complaints
  whose loop closed by survey (and of half the call-backs), durations rollups, and
  the SLA crossings the sweep would have recorded (so a sweep "now" records nothing);
- last, the dashboard's daily rollup (analytics.rollup.rollup_rebuild), timed.

Secondary indexes of the big tables are dropped during the load and rebuilt after;
foreign-key triggers are skipped (session_replication_role = replica: this session only).
"""

from __future__ import annotations

import time
from datetime import datetime

AGENTS = 200
CUSTOMERS_PER_COMPLAINT = 0.4
BIG_TABLES = (
    "complaints_complaint",
    "complaints_historicalcomplaint",
    "complaints_complaintevent",
    "complaints_statuschange",
    "complaints_surveyresponse",
    "complaints_customer",
    "complaints_historicalcustomer",
    "complaints_slacrossing",
    "complaints_complaintdurations",
)

# Built by rollup_rebuild() at the end of the seeding (vacuumed for index-only scans).
ROLLUP_TABLES = (
    "complaints_dailycomplaintstats",
    "complaints_dailydurationbuckets",
    "complaints_rollupmark",
)

CHANNELS = {"web": 30, "phone": 25, "email": 15, "social": 15, "in_store": 8, "api": 7}
PRIORITIES = {"P1": 5, "P2": 20, "P3": 50, "P4": 25}
# (response hours, resolution hours) per priority; warnings at 75 %.
SLA_HOURS = {"P1": (2, 24), "P2": (4, 48), "P3": (8, 72), "P4": (24, 120)}
# State by age: younger than 2 days, than 14 days, older.
STATES_BY_AGE = (
    (2, {"new": 10, "triaged": 15, "assigned": 20, "in_progress": 35,
         "awaiting_customer": 10, "resolved": 10}),
    (14, {"new": 1, "triaged": 4, "assigned": 10, "in_progress": 30, "awaiting_customer": 10,
          "reopened": 2, "resolved": 18, "closed": 22, "rejected": 3}),
    (None, {"triaged": 1, "in_progress": 3, "awaiting_customer": 1, "resolved": 2,
            "closed": 90, "rejected": 3}),
)  # fmt: skip
OUTCOMES = {"survey": 60, "callback": 20, "no_response": 12, "override": 8}
CLOSE_REASONS = {
    "survey": "满意度回访：客户满意 / Survey: the customer is satisfied",
    "callback": "回访电话：客户满意 / Call-back: the customer is satisfied",
    "no_response": "多次回访无应答 / No answer after three call-backs",
    "override": "主管确认已解决 / Closed by the supervisor: resolved as agreed",
}
# The transitions from "new" to each state (StatusChange rows after "receive").
PATHS = {
    "new": [],
    "triaged": ["triage"],
    "assigned": ["triage", "assign"],
    "in_progress": ["triage", "assign", "start"],
    "awaiting_customer": ["triage", "assign", "start", "await_customer"],
    "resolved": ["triage", "assign", "start", "resolve"],
    "closed": ["triage", "assign", "start", "resolve", "close"],
    "reopened": ["triage", "assign", "start", "resolve", "reopen"],
    "rejected": ["triage", "reject"],
}
TARGETS = {
    "triage": ("new", "triaged"),
    "assign": ("triaged", "assigned"),
    "start": ("assigned", "in_progress"),
    "await_customer": ("in_progress", "awaiting_customer"),
    "resolve": ("in_progress", "resolved"),
    "close": ("resolved", "closed"),
    "reopen": ("resolved", "reopened"),
    "reject": ("triaged", "rejected"),
}
EVENT_CYCLE = (
    ("assigned", True, "已分派给处理人 / Assigned to the handling agent"),
    (
        "customer_message",
        False,
        "请尽快处理，我已经等了很久了。/ Please hurry, I have waited long.",
    ),
    ("reply_sent", False, "您好，我们已收到您的反馈，正在核实。/ We received it and are checking."),
    ("note_added", True, "已联系仓库核实批次。/ Asked the warehouse to check the batch."),
    ("field_changed", True, "分类已调整 / Category changed"),
    ("customer_message", False, "附上照片和订单截图。/ Photos and the order screenshot attached."),
    ("reply_sent", False, "我们将安排上门检测。/ A technician will visit to inspect it."),
    ("note_added", True, "供应商确认为已知问题。/ The supplier confirms a known issue."),
)


def u(k: int, i: str = "g.i") -> str:
    """SQL: the k-th uniform draw in [0, 1) of row `i`."""
    return f"bench_u({i}, {k})"


def weighted(draw: str, weights: dict[str, int], quote: bool = True) -> str:
    """SQL CASE picking a key of `weights` with their probabilities."""
    total = sum(weights.values())
    parts, acc = [], 0
    for key, weight in weights.items():
        acc += weight
        value = f"'{key}'" if quote else str(key)
        parts.append(f"WHEN {draw} < {acc / total:.6f} THEN {value}")
    return f"(CASE {' '.join(parts)} END)"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _array(values, cast: str) -> str:
    if cast in ("text", "varchar"):
        inner = ", ".join(_literal(str(v)) for v in values)
    else:
        inner = ", ".join("NULL" if v is None else str(v) for v in values)
    return f"ARRAY[{inner}]::{cast}[]"


def _fill(text: str) -> str:
    for key, value in {
        "{days}": "7",
        "{order}": "SO20260412-88231",
        "{amount}": "299",
        "{date}": "2026-04-12",
    }.items():
        text = text.replace(key, value)
    return text


class Timer:
    def __init__(self, log):
        self.log = log

    def step(self, label: str, cursor, sql: str, params=None) -> int:
        started = time.perf_counter()
        cursor.execute(sql, params)
        rows = cursor.rowcount
        self.log(f"  {label:<38} {rows:>12,} rows {time.perf_counter() - started:7.1f} s")
        return rows


def configuration(log) -> dict:
    """seed_demo's configuration plus AGENTS agents spread over the front-line teams."""
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    from complaints import roles
    from complaints.models import Category, Priority, Product, Team, TeamMembership, User

    call_command("seed_demo", complaints=0, force=True, verbosity=0)
    front = list(Team.objects.filter(code__in=["front-1", "front-2"]).order_by("code"))
    agent_group = Group.objects.get(name=roles.AGENT)
    ranges = {}
    for index, team in enumerate(front):
        count = AGENTS * 3 // 5 if index == 0 else AGENTS - AGENTS * 3 // 5
        users = User.objects.bulk_create(
            [
                User(username=f"bench-{team.code}-{n:03d}", first_name=f"Agent {n}")
                for n in range(count)
            ]
        )
        for user in users:
            user.set_unusable_password()
        User.objects.bulk_update(users, ["password"])
        TeamMembership.objects.bulk_create([TeamMembership(team=team, user=u) for u in users])
        User.groups.through.objects.bulk_create(
            [User.groups.through(user_id=u.pk, group_id=agent_group.pk) for u in users]
        )
        ranges[team.pk] = (min(u.pk for u in users), count)
    categories = list(Category.objects.order_by("pk"))
    products = list(Product.objects.order_by("pk"))
    priorities = {p.code: p.pk for p in Priority.objects.all()}
    log(f"  configuration: {len(front)} front-line teams, {AGENTS} agents, "
        f"{len(categories)} categories, {len(products)} products")  # fmt: skip
    return {
        "categories": {c.code: c for c in categories},
        "products": products,
        "priorities": priorities,
        "agent_ranges": ranges,
        "front": front,
    }


def _scenario_arrays(config: dict) -> dict[str, str]:
    from complaints import demo_data

    cats = config["categories"]
    ranges = config["agent_ranges"]
    fallback_team = config["front"][0].pk
    rows = []
    for s in demo_data.SCENARIOS:
        category = cats[s.category]
        team = category.default_team_id if category.default_team_id in ranges else fallback_team
        rows.append(
            {
                "lang": s.lang,
                "title": _fill(s.title)[:180],
                "description": _fill(s.description),
                "demand": str(s.demand),
                "demand_detail": _fill(s.demand_detail),
                "root_cause": str(s.root_cause),
                "resolution": _fill(s.resolution),
                "remedy": _fill(s.remedy),
                "category": category.pk,
                "team": team,
                "agent0": ranges[team][0],
                "agents": ranges[team][1],
                "has_product": 0 if s.products == () else 1,
            }
        )
    arrays = {}
    for key in rows[0]:
        values = [r[key] for r in rows]
        cast = "text" if isinstance(values[0], str) else "bigint"
        arrays[key] = _array(values, cast)
    arrays["n"] = str(len(rows))
    return arrays


def _drop_indexes(cursor, log) -> list[str]:
    """Drop the secondary (non-constraint) indexes of the big tables; return their DDL."""
    cursor.execute(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.schemaname = 'public' AND i.tablename = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                          WHERE c.conname = i.indexname AND c.contype IN ('p', 'u', 'x'))
        """,
        [list(BIG_TABLES)],
    )
    rows = cursor.fetchall()
    for name, _ddl in rows:
        cursor.execute(f'DROP INDEX "{name}"')
    log(f"  dropped {len(rows)} secondary indexes for the load")
    return [ddl for _name, ddl in rows]


def seed(count: int, *, now: datetime, log=print) -> dict:
    """Seed `count` complaints; returns what the measurements need."""
    from django.db import connection, transaction

    started = time.perf_counter()
    config = configuration(log)
    a = _scenario_arrays(config)
    products = config["products"]
    product_ids = _array([p.pk for p in products], "bigint")
    product_zh = _array([p.name.split(" ")[0] for p in products], "text")
    product_en = _array([" ".join(p.name.split(" ")[1:]) or p.name for p in products], "text")
    prio = config["priorities"]
    timer = Timer(log)
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL session_replication_role = replica")
        cur.execute("SET LOCAL synchronous_commit = off")
        cur.execute("SET LOCAL maintenance_work_mem = '256MB'")
        cur.execute("SET LOCAL work_mem = '64MB'")
        cur.execute("SET LOCAL jit = off")
        cur.execute(
            """
            CREATE OR REPLACE FUNCTION bench_u(i bigint, k int) RETURNS float8
            LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
            $$ SELECT (hashint8(i * 64 + k) & 2147483647)::float8 / 2147483648.0 $$
            """
        )
        ddl = _drop_indexes(cur, log)
        cur.execute("SELECT coalesce(max(id), 0) FROM complaints_customer")
        cust0 = cur.fetchone()[0]
        customers = max(1, int(count * CUSTOMERS_PER_COMPLAINT))
        cur.execute("SELECT coalesce(max(id), 0) FROM complaints_complaint")
        base = cur.fetchone()[0]
        params = {"now": now, "n": count, "customers": customers}

        timer.step(
            "customers",
            cur,
            f"""
            INSERT INTO complaints_customer
                (id, name, phone, email, tier, language, created_at, merged_into_id, erased_at)
            SELECT {cust0} + g.i,
                   CASE WHEN {u(1)} < 0.7
                        THEN (ARRAY['王','李','张','刘','陈','杨','黄','赵','吴','周'])
                             [1 + floor({u(2)} * 10)::int]
                             || (ARRAY['伟','芳','娜','敏','静','强','磊','洋','艳','军'])
                             [1 + floor({u(3)} * 10)::int]
                        ELSE (ARRAY['Alice','Ben','Chloe','David','Emma','Frank','Grace'])
                             [1 + floor({u(2)} * 7)::int] || ' '
                             || (ARRAY['Smith','Brown','Lee','Wong','Taylor','Clark'])
                             [1 + floor({u(3)} * 6)::int] END,
                   '+86 13' || lpad((g.i::bigint * 7919 %% 1000000000)::text, 9, '0'),
                   CASE WHEN {u(4)} < 0.5 THEN 'c' || g.i || '@example.com' ELSE '' END,
                   CASE WHEN {u(5)} < 0.05 THEN 'vip' ELSE 'standard' END,
                   CASE WHEN {u(1)} < 0.7 THEN 'zh-hans' ELSE 'en' END,
                   %(now)s - interval '400 days' * {u(6)}, NULL, NULL
            FROM generate_series(1, %(customers)s) AS g(i)
            """,
            params,
        )
        timer.step(
            "historical customers",
            cur,
            f"""
            INSERT INTO complaints_historicalcustomer
                (id, name, phone, email, tier, language, created_at, history_date,
                 history_change_reason, history_type, history_user_id, merged_into_id,
                 erased_at)
            SELECT id, name, phone, email, tier, language, created_at, created_at, NULL, '+',
                   NULL, NULL, NULL
            FROM complaints_customer WHERE id > {cust0}
            """,
        )

        # The complaints. Inner level: the draws; outer level: the columns.
        age_days = f"(365.0 * {u(1)})"
        status_case = (
            "(CASE "
            + " ".join(
                f"WHEN d.age < {limit} THEN {weighted(u(2, 'd.i'), weights)}"
                for limit, weights in STATES_BY_AGE[:-1]
            )
            + f" ELSE {weighted(u(2, 'd.i'), STATES_BY_AGE[-1][1])} END)"
        )
        prio_case = weighted(u(4, "d.i"), {prio[k]: w for k, w in PRIORITIES.items()}, False)
        resp_h = (
            "(CASE d.priority_id "
            + " ".join(f"WHEN {prio[k]} THEN {h[0]}" for k, h in SLA_HOURS.items())
            + " END)"
        )
        res_h = (
            "(CASE d.priority_id "
            + " ".join(f"WHEN {prio[k]} THEN {h[1]}" for k, h in SLA_HOURS.items())
            + " END)"
        )
        owned = "('assigned','in_progress','awaiting_customer','resolved','closed')"
        answered = "('in_progress','awaiting_customer','resolved','closed','reopened')"
        done = "('resolved','closed')"
        timer.step(
            "complaints",
            cur,
            f"""
            INSERT INTO complaints_complaint (
                id, tracking_number, title, description, demand, demand_detail, channel,
                order_number, language, status, status_reason, escalation_level,
                resolution_summary, root_cause, remedy_decision, recourse, reopen_count,
                received_at, first_response_at, awaiting_since, resolved_at, closed_at,
                created_at, updated_at, version, assignee_id, category_id, merged_into_id,
                customer_id, priority_id, product_id, team_id, resolution_due_at,
                response_due_at, repeat_of_id, resolution_warn_at, response_warn_at,
                sla_policy_id, customer_notified_at, loop_outcome, import_key)
            SELECT
                {base} + d.i,
                'BENCH-' || to_char(d.received_at, 'YYYYMMDD') || '-' || lpad(d.i::text, 7, '0'),
                replace(({a['title']})[d.s], '{{product}}', d.pname),
                replace(({a['description']})[d.s], '{{product}}', d.pname),
                ({a['demand']})[d.s], ({a['demand_detail']})[d.s],
                {weighted(u(3, 'd.i'), CHANNELS)},
                CASE WHEN {u(7, 'd.i')} < 0.6 THEN 'SO' || lpad((d.i::bigint * 104729 %% 100000000)::text, 8, '0') ELSE '' END,
                ({a['lang']})[d.s], d.status,
                CASE d.status WHEN 'closed' THEN
                    CASE d.outcome {" ".join(f"WHEN '{k}' THEN {_literal(v)}" for k, v in CLOSE_REASONS.items())} END
                    WHEN 'rejected' THEN '非投诉：咨询类 / Not a complaint: an inquiry'
                    WHEN 'reopened' THEN '客户表示问题仍未解决 / The customer says it is not solved'
                    ELSE '' END,
                CASE WHEN d.status IN ('triaged','assigned','in_progress','reopened')
                          AND {u(8, 'd.i')} < 0.05 THEN 1 ELSE 0 END,
                CASE WHEN d.status IN {done} OR d.status = 'reopened'
                     THEN replace(({a['resolution']})[d.s], '{{product}}', d.pname) ELSE '' END,
                CASE WHEN d.status IN {done} OR d.status = 'reopened'
                     THEN ({a['root_cause']})[d.s] ELSE '' END,
                CASE WHEN d.status IN {done} THEN ({a['remedy']})[d.s] ELSE '' END,
                '',
                CASE WHEN d.status = 'reopened' THEN 1 ELSE 0 END,
                d.received_at,
                CASE WHEN d.status IN {answered} THEN d.received_at + interval '1 hour' * (0.2 + 6 * {u(9, 'd.i')}) END,
                CASE WHEN d.status = 'awaiting_customer' THEN LEAST(%(now)s, d.received_at + interval '1 day') END,
                CASE WHEN d.status IN {done} THEN d.resolved_at END,
                CASE WHEN d.status = 'closed' THEN d.closed_at
                     WHEN d.status = 'rejected' THEN d.received_at + interval '2 hours' END,
                d.received_at,
                COALESCE(CASE WHEN d.status = 'closed' THEN d.closed_at END,
                         CASE WHEN d.status IN {done} THEN d.resolved_at END, d.received_at),
                1 + d.steps,
                CASE WHEN d.status IN {owned} THEN
                    ({a['agent0']})[d.s] + floor({u(10, 'd.i')} * ({a['agents']})[d.s])::bigint END,
                CASE WHEN d.status <> 'new' THEN ({a['category']})[d.s] END,
                NULL,
                {cust0} + 1 + floor(%(customers)s * power({u(11, 'd.i')}, 2))::bigint,
                CASE WHEN d.status <> 'new' THEN d.priority_id END,
                CASE WHEN d.has_product = 1 THEN d.product_id END,
                CASE WHEN d.status <> 'new' THEN ({a['team']})[d.s] END,
                d.received_at + interval '1 hour' * {res_h},
                d.received_at + interval '1 hour' * {resp_h},
                NULL,
                d.received_at + interval '1 hour' * {res_h} * 0.75,
                d.received_at + interval '1 hour' * {resp_h} * 0.75,
                NULL,
                CASE WHEN d.status IN {done} THEN d.resolved_at END,
                CASE WHEN d.status = 'closed' THEN d.outcome ELSE '' END,
                ''
            FROM (
                SELECT e.*,
                       GREATEST(e.received_at + interval '1 minute',
                         LEAST(%(now)s - interval '10 minutes',
                             e.received_at + interval '1 hour' * (2 + 100 * power({u(12, 'e.i')}, 2))))
                           AS resolved_at,
                       GREATEST(e.received_at + interval '2 minutes',
                         LEAST(%(now)s - interval '5 minutes',
                             e.received_at + interval '1 hour' * (2 + 100 * power({u(12, 'e.i')}, 2))
                             + interval '1 hour' * (1 + 48 * {u(13, 'e.i')}))) AS closed_at,
                       CASE e.status {" ".join(f"WHEN '{k}' THEN {len(v) + 1}" for k, v in PATHS.items())} END AS steps
                FROM (
                    SELECT g.i, {age_days} AS age,
                           %(now)s - interval '1 day' * {age_days} AS received_at,
                           1 + floor({u(5)} * {a['n']})::int AS s,
                           {weighted(u(14), OUTCOMES)} AS outcome,
                           {prio_case.replace('d.i', 'g.i')} AS priority_id,
                           ({product_ids})[1 + floor({u(6)} * {len(products)})::int] AS product_id
                    FROM generate_series(1, %(n)s) AS g(i)
                ) e0
                CROSS JOIN LATERAL (
                    SELECT e0.i, e0.age, e0.received_at, e0.s, e0.outcome, e0.priority_id,
                           e0.product_id,
                           CASE WHEN ({a['lang']})[e0.s] = 'en'
                                THEN ({product_en})[1 + floor({u(6, 'e0.i')} * {len(products)})::int]
                                ELSE ({product_zh})[1 + floor({u(6, 'e0.i')} * {len(products)})::int]
                           END AS pname,
                           ({a['has_product']})[e0.s] AS has_product,
                           {status_case.replace('d.', 'e0.')} AS status
                ) e
            ) d
            """,
            params,
        )  # fmt: skip
        cur.execute(
            "SELECT setval(pg_get_serial_sequence('complaints_complaint', 'id'), "
            "(SELECT max(id) FROM complaints_complaint))"
        )
        cur.execute(
            "SELECT setval(pg_get_serial_sequence('complaints_customer', 'id'), "
            "(SELECT max(id) FROM complaints_customer))"
        )
        new = f"c.id > {base}"
        hist_cols = [
            "id", "tracking_number", "title", "description", "demand", "demand_detail",
            "channel", "order_number", "language", "status", "status_reason",
            "escalation_level", "resolution_summary", "root_cause", "remedy_decision",
            "recourse", "reopen_count", "received_at", "first_response_at", "awaiting_since",
            "resolved_at", "closed_at", "created_at", "assignee_id", "category_id",
            "customer_id", "merged_into_id", "priority_id", "product_id", "team_id",
            "resolution_due_at", "response_due_at", "repeat_of_id", "resolution_warn_at",
            "response_warn_at", "sla_policy_id", "customer_notified_at", "loop_outcome",
            "import_key",
        ]  # fmt: skip
        initial = {
            "status": "'new'", "status_reason": "''", "resolution_summary": "''",
            "root_cause": "''", "remedy_decision": "''", "first_response_at": "NULL",
            "awaiting_since": "NULL", "resolved_at": "NULL", "closed_at": "NULL",
            "assignee_id": "NULL", "customer_notified_at": "NULL", "loop_outcome": "''",
            "reopen_count": "0", "escalation_level": "0",
        }  # fmt: skip
        cols = ", ".join(hist_cols)
        timer.step(
            "historical complaints (created)",
            cur,
            f"""
            INSERT INTO complaints_historicalcomplaint
                ({cols}, history_date, history_change_reason, history_type, history_user_id)
            SELECT {", ".join(initial.get(c, f"c.{c}") for c in hist_cols)},
                   c.received_at, NULL, '+', NULL
            FROM complaints_complaint c WHERE {new} ORDER BY c.id
            """,
        )
        timer.step(
            "historical complaints (current)",
            cur,
            f"""
            INSERT INTO complaints_historicalcomplaint
                ({cols}, history_date, history_change_reason, history_type, history_user_id)
            SELECT {", ".join(f"c.{c}" for c in hist_cols)},
                   c.updated_at, NULL, '~', c.assignee_id
            FROM complaints_complaint c WHERE {new} AND c.status <> 'new' ORDER BY c.id
            """,
        )

        steps = []
        for state, path in PATHS.items():
            steps.append((state, 0, "receive", "", "new"))
            for n, name in enumerate(path, start=1):
                steps.append((state, n, name, *TARGETS[name]))
        values = ", ".join(f"('{s}', {n}, '{t}', '{f}', '{to}')" for s, n, t, f, to in steps)
        timer.step(
            "status changes",
            cur,
            f"""
            INSERT INTO complaints_statuschange
                (transition, from_status, to_status, reason, created_at, actor_id,
                 complaint_id, chain_hash)
            SELECT p.transition, p.from_status, p.to_status,
                   CASE WHEN p.transition IN ('close', 'reject', 'reopen')
                        THEN c.status_reason ELSE '' END,
                   c.received_at + (c.updated_at - c.received_at) * p.step / (c.version - 1.0 + 1e-9),
                   CASE WHEN p.transition IN ('receive', 'close') THEN NULL ELSE c.assignee_id END,
                   c.id, ''
            FROM complaints_complaint c
            JOIN (VALUES {values}) AS p(state, step, transition, from_status, to_status)
              ON p.state = c.status
            WHERE {new}
            ORDER BY c.id, p.step
            """,
        )
        cycle = ", ".join(
            f"('{k}', {str(internal).lower()}, {_literal(body)})"
            for k, internal, body in EVENT_CYCLE
        )
        timer.step(
            "timeline events",
            cur,
            f"""
            INSERT INTO complaints_complaintevent
                (kind, is_internal, body, data, created_at, actor_id, complaint_id)
            SELECT CASE WHEN k.n = 1 THEN 'received'
                        WHEN k.n = k.total AND c.status <> 'new' THEN 'status_changed'
                        ELSE e.kind END,
                   CASE WHEN k.n = 1 THEN false WHEN k.n = k.total THEN false
                        ELSE e.internal END,
                   CASE WHEN k.n = 1 THEN c.description
                        WHEN k.n = k.total AND c.status <> 'new' THEN ''
                        ELSE e.body END,
                   CASE WHEN k.n = 1 THEN jsonb_build_object('channel', c.channel)
                        WHEN k.n = k.total AND c.status <> 'new'
                        THEN jsonb_build_object('to', c.status)
                        ELSE '{{}}'::jsonb END,
                   c.received_at + (GREATEST(c.updated_at, c.received_at + interval '1 hour')
                                    - c.received_at) * (k.n - 1) / k.total,
                   CASE WHEN e.internal OR e.kind = 'reply_sent' THEN c.assignee_id END,
                   c.id
            FROM complaints_complaint c
            CROSS JOIN LATERAL (
                SELECT gs.n, 5 + floor(bench_u(c.id, 20) * 16)::int AS total
                FROM generate_series(1, 5 + floor(bench_u(c.id, 20) * 16)::int) AS gs(n)
            ) k
            JOIN (SELECT row_number() OVER () - 1 AS r, x.* FROM (VALUES {cycle})
                  AS x(kind, internal, body)) e ON e.r = (k.n + c.id) %% {len(EVENT_CYCLE)}
            WHERE {new}
            ORDER BY c.id, k.n
            """,
            params,
        )
        timer.step(
            "survey responses",
            cur,
            f"""
            INSERT INTO complaints_surveyresponse
                (cycle, rating, solved, comment, answered_at, complaint_id)
            SELECT 0,
                   CASE WHEN c.loop_outcome = 'survey' THEN 4 + floor(bench_u(c.id, 21) * 2)::int
                        ELSE 1 + floor(bench_u(c.id, 21) * 3)::int END,
                   c.loop_outcome = 'survey',
                   CASE WHEN bench_u(c.id, 22) < 0.3
                        THEN CASE WHEN c.language = 'en' THEN 'Thanks, sorted out quickly.'
                                  ELSE '处理很及时，谢谢。' END ELSE '' END,
                   c.customer_notified_at + (c.closed_at - c.customer_notified_at) * 0.9,
                   c.id
            FROM complaints_complaint c
            WHERE {new} AND c.status = 'closed'
              AND (c.loop_outcome = 'survey'
                   OR (c.loop_outcome = 'callback' AND bench_u(c.id, 23) < 0.5))
            """,
        )
        timer.step(
            "durations rollups",
            cur,
            f"""
            INSERT INTO complaints_complaintdurations
                (complaint_id, source_version, first_response_minutes, resolution_minutes,
                 business_calendar, computed_at, first_response_at, resolved_at, team_id,
                 category_id, product_id, channel, assignee_id)
            SELECT c.id, c.version,
                   (extract(epoch FROM c.first_response_at - c.received_at) / 60)::int,
                   (extract(epoch FROM c.resolved_at - c.received_at) / 60)::int,
                   false, %(now)s, c.first_response_at, c.resolved_at, c.team_id,
                   c.category_id, c.product_id, c.channel, c.assignee_id
            FROM complaints_complaint c WHERE {new}
            """,
            params,
        )
        # The crossings the sweep would have recorded by now (so "now" records nothing).
        from complaints.services.sweep import RULES, SWEPT_STATES

        swept = ", ".join(f"'{s}'" for s in SWEPT_STATES)
        for rule in RULES:
            response = "AND c.first_response_at IS NULL" if rule.response else ""
            timer.step(
                f"sla crossings {rule.kind}",
                cur,
                f"""
                INSERT INTO complaints_slacrossing
                    (kind, cycle, due_at, sweep_id, created_at, complaint_id)
                SELECT '{rule.kind}', c.reopen_count, c.{rule.deadline},
                       '00000000-0000-0000-0000-000000000000', c.{rule.moment}, c.id
                FROM complaints_complaint c
                WHERE {new} AND c.status IN ({swept}) AND c.{rule.moment} <= %(now)s
                  AND c.{rule.deadline} IS NOT NULL {response}
                """,
                params,
            )
        for statement in ddl:
            name = statement.split(" INDEX ")[1].split(" ON ")[0]
            timer.step(f"index {name[:31]}", cur, statement)
    with connection.cursor() as cur:
        for table in BIG_TABLES:
            cur.execute(f"VACUUM ANALYZE {table}")
    # The dashboard's daily rollup, as the periodic task would have kept it.
    from complaints.analytics.rollup import rollup_rebuild

    step = time.perf_counter()
    days = rollup_rebuild(now=now)
    with connection.cursor() as cur:
        for table in ROLLUP_TABLES:
            cur.execute(f"VACUUM ANALYZE {table}")
        cur.execute("SELECT count(*) FROM complaints_dailycomplaintstats")
        rows = cur.fetchone()[0]
    label = f"daily rollup ({days} days)"
    log(f"  {label:<38} {rows:>12,} rows {time.perf_counter() - step:7.1f} s")
    log(f"  analyzed; seeding took {time.perf_counter() - started:.0f} s")
    return config
