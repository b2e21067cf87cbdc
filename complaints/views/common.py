"""What every staff view shares: the staff check and turning service errors into
responses."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from complaints import roles


def staff_required(view):
    """Signed in (else to the login page) and holding a staff role (else 403)."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not roles.is_staff_member(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper
