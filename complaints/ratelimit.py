"""A fixed-window rate limiter on Django's cache (atomic add/incr on Redis and locmem)."""

from __future__ import annotations

import hashlib
import time

from django.conf import settings
from django.core.cache import cache


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, or the header a trusted proxy sets
    (settings.CLIENT_IP_HEADER, e.g. HTTP_X_REAL_IP behind nginx). Headers a client
    could send itself are not read otherwise."""
    header = getattr(settings, "CLIENT_IP_HEADER", "")
    value = request.META.get(header, "") if header else ""
    return value.split(",")[0].strip() or request.META.get("REMOTE_ADDR") or "unknown"


def hit(scope: str, ident: str, *, limit: int, window: int) -> bool:
    """Count one request of `ident` in `scope`; False once `limit` is passed in the window."""
    bucket = int(time.time() // window)
    digest = hashlib.sha256(ident.encode()).hexdigest()[:32]
    key = f"rl:{scope}:{digest}:{bucket}"
    # add() only sets a missing key, so concurrent first hits do not reset the count.
    cache.add(key, 0, timeout=window + 5)
    try:
        count = cache.incr(key)
    except ValueError:
        # Expired between add and incr: this is the first hit of a new window.
        cache.add(key, 1, timeout=window + 5)
        count = 1
    return count <= limit
