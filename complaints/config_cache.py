"""Configuration and people's standing read on nearly every page, kept between requests.

What is kept: the category tree, priorities, products, teams, authority limits, the
current SOPs, the reply templates, the keyword rules and priority grid, routing rules,
SLA policies and their calendars, the webhooks, the active users (assignee filters),
and per staff user their roles, teams, departments and permissions. These change a
few times a day; every page used to read them again
(a queue page ran five of its seventeen queries on them).

How it stays right: each process keeps what it read, tagged with a generation number
held in Django's cache (shared by every process when CACHE_URL is Redis, as
production requires). Saving or deleting a row of any model below, or changing a
user's groups or permissions, moves the generation on twice: at once (this process
and its open transaction see the change) and again when the transaction commits (so
no other process can keep what it read from the old rows in between). A process then
reads afresh on its next lookup. Entries also expire after MAX_AGE seconds, which
bounds how long a change made without signals (a bulk UPDATE) can go unseen.

Values handed out are shared between requests: callers must not change them.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

GENERATION_KEY = "complaints:config-generation"
MAX_AGE = 60.0
# A process re-reads the shared generation at most this often (a page makes dozens of
# lookups; each would otherwise be a round trip to the cache): another process's
# change counts here within this many seconds, this process's own at once.
GENERATION_TTL = 1.0
# Per-user entries beyond this many are dropped wholesale (a bounded memory).
MAX_ENTRIES = 5000

_lock = threading.Lock()
_memo: dict[str, tuple[str, float, Any]] = {}
_generation: tuple[str, float] | None = None  # (value, when read)


def generation() -> str:
    global _generation
    now = time.monotonic()
    known = _generation
    if known is not None and now - known[1] < GENERATION_TTL:
        return known[0]
    value = cache.get(GENERATION_KEY)
    if value is None:
        cache.add(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
        value = cache.get(GENERATION_KEY) or ""
    _generation = (value, now)
    return value


def lookup[T](name: str, loader: Callable[[], T]) -> T:
    """The value kept under `name`, or `loader()` (kept for next time)."""
    current = generation()
    now = time.monotonic()
    hit = _memo.get(name)
    if hit is not None and hit[0] == current and now - hit[1] < MAX_AGE:
        return hit[2]
    value = loader()
    with _lock:
        if len(_memo) >= MAX_ENTRIES:
            _memo.clear()
        _memo[name] = (current, now, value)
    return value


def for_user[T](kind: str, user: Any, loader: Callable[[], T]) -> T:
    """A per-user value (roles, teams…); unsaved users are not kept."""
    if getattr(user, "pk", None) is None:
        return loader()
    return lookup(f"{kind}:{user.pk}", loader)


def invalidate() -> None:
    """Every process reads the configuration afresh on its next lookup (this one at
    once, the others within GENERATION_TTL)."""
    global _generation
    value = uuid.uuid4().hex
    cache.set(GENERATION_KEY, value, timeout=None)
    with _lock:
        _memo.clear()
        _generation = (value, time.monotonic())


def _changed(**kwargs: Any) -> None:
    invalidate()
    transaction.on_commit(invalidate, robust=True)


def _user_saved(update_fields: Any = None, **kwargs: Any) -> None:
    # A login stamps last_login: nothing kept depends on it (every login would
    # otherwise make every process read the configuration again).
    if update_fields and set(update_fields) <= {"last_login"}:
        return
    _changed()


def _m2m_changed(action: str = "", **kwargs: Any) -> None:
    if action.startswith("post_"):
        _changed()


def connect() -> None:
    """Listen to the models whose rows are kept (called once from AppConfig.ready)."""
    from django.contrib.auth.models import Group, Permission

    from complaints import models as m

    for model in (
        m.Category,
        m.Product,
        m.Priority,
        m.Team,
        m.TeamMembership,
        m.AuthorityLimit,
        m.Sop,
        m.ReplyTemplate,
        # What intake reads for every complaint: triage, routing, SLA, webhooks.
        m.KeywordRule,
        m.PriorityMatrix,
        m.RoutingRule,
        m.SlaPolicy,
        m.BusinessCalendar,
        m.CalendarDay,
        m.Webhook,
        Group,
        Permission,
    ):
        uid = f"config-cache:{model._meta.label}"
        post_save.connect(_changed, sender=model, dispatch_uid=f"{uid}:save")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"{uid}:delete")
    # Staff lists (the queue's assignee filter) and per-user standing (is_active…).
    post_save.connect(_user_saved, sender=m.User, dispatch_uid="config-cache:user:save")
    post_delete.connect(_changed, sender=m.User, dispatch_uid="config-cache:user:delete")
    for through in (m.User.groups.through, m.User.user_permissions.through):
        m2m_changed.connect(_m2m_changed, sender=through, dispatch_uid=f"config-cache:{through}")
    m2m_changed.connect(
        _m2m_changed, sender=Group.permissions.through, dispatch_uid="config-cache:group-perms"
    )
