"""The roles of the product, as Django groups (created by a data migration).

Pure predicates on a user: no database access beyond the user's cached groups.
"""

from __future__ import annotations

from typing import Any

AGENT = "Agent"
SUPERVISOR = "Supervisor"
RESPONDER = "Department responder"
ADMIN = "Admin"
ALL_ROLES = (AGENT, SUPERVISOR, RESPONDER, ADMIN)


class SystemActor:
    """The product itself acting (keyword triage, auto-assignment, survey, sweeps).

    Passed where a user would be, so transition permissions can tell the two apart.
    """

    is_system = True
    is_authenticated = True
    is_active = True
    is_superuser = False
    pk = None
    id = None

    def __str__(self) -> str:
        return "system"


SYSTEM = SystemActor()


def is_system(user: Any) -> bool:
    return bool(getattr(user, "is_system", False))


def role_names(user: Any) -> frozenset[str]:
    """The names of the user's role groups (kept between requests by config_cache,
    which forgets them when anyone's groups change)."""
    if user is None or is_system(user) or not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_role_names", None)
    if cached is None:
        from complaints import config_cache

        cached = config_cache.for_user(
            "roles", user, lambda: frozenset(user.groups.values_list("name", flat=True))
        )
        user._role_names = cached
    return cached


def is_admin(user: Any) -> bool:
    return bool(getattr(user, "is_superuser", False)) or ADMIN in role_names(user)


def is_supervisor(user: Any) -> bool:
    """Supervisors and admins: admins may do whatever a supervisor may."""
    return is_admin(user) or SUPERVISOR in role_names(user)


def is_agent(user: Any) -> bool:
    return AGENT in role_names(user)


def is_responder(user: Any) -> bool:
    return RESPONDER in role_names(user)


def is_staff_member(user: Any) -> bool:
    """Anyone who works complaints in the back office."""
    return getattr(user, "is_active", False) and bool(
        is_supervisor(user) or is_agent(user) or is_responder(user)
    )
