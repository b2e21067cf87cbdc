"""Reads of the dashboard from a PostgreSQL replica (off by default).

With DATABASE_REPLICA_URL set, settings add a "replica" database. Only code run
inside `replica_reads()` (the dashboard views and exports, wrapped with
`@use_replica`) reads from it; everything else, every write, and any read inside a
transaction stays on "default". The replica is never migrated (it copies the primary).
A replica lags by a few seconds: fine for figures, never used for a complaint's page.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps

from django.conf import settings
from django.db import connections

REPLICA = "replica"
_reading_replica: ContextVar[bool] = ContextVar("reading_replica", default=False)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


@contextmanager
def replica_reads() -> Iterator[None]:
    token = _reading_replica.set(True)
    try:
        yield
    finally:
        _reading_replica.reset(token)


def use_replica(view):
    """Decorate a read-only view (the dashboard) so its queries go to the replica."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        with replica_reads():
            return view(*args, **kwargs)

    return wrapper


class AnalyticsReplicaRouter:
    def db_for_read(self, model, **hints):
        if not _reading_replica.get() or not replica_configured():
            return None
        # A read inside a write transaction must see that transaction's rows.
        if connections["default"].in_atomic_block:
            return None
        return REPLICA

    def db_for_write(self, model, **hints):
        return None

    def allow_relation(self, obj1, obj2, **hints):
        if {obj1._state.db, obj2._state.db} <= {"default", REPLICA}:
            return True
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return False if db == REPLICA else None
