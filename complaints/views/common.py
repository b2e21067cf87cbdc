"""What every staff view shares: the staff check and turning service errors into
responses."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404

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


def attachment_response(attachment) -> FileResponse:
    """A stored attachment as a download: never shown inline, never sniffed.

    FileResponse writes the original name into Content-Disposition (RFC 5987
    filename* for non-ASCII names). A file missing from storage is a 404.
    """
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
