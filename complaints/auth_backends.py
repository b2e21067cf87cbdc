"""Django's model backend with each user's permissions kept between requests
(config_cache forgets them when any group, permission or user's groups change)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from complaints import config_cache


class CachedPermissionsBackend(ModelBackend):
    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            # Superusers hold every permission: a separate entry, in case the flag moves.
            kind = "perms-super" if user_obj.is_superuser else "perms"
            user_obj._perm_cache = config_cache.for_user(
                kind,
                user_obj,
                lambda: frozenset(
                    super(CachedPermissionsBackend, self).get_all_permissions(user_obj)
                ),
            )
        return user_obj._perm_cache
