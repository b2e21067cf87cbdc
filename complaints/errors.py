"""Errors raised by services, each with a message a user or API client can read.

The API exception handler and the views map them to 400/403/404/409.
"""

from django.utils.translation import gettext_lazy as _


class ServiceError(Exception):
    status_code = 400
    code = "invalid"
    default_message = _("The request could not be carried out.")

    def __init__(
        self,
        message: str | None = None,
        *,
        reasons: list[str] | None = None,
        fields: dict[str, list[str]] | None = None,
    ):
        self.message = str(message or self.default_message)
        self.reasons = list(reasons or [])
        # Per-field messages for forms and API clients ({"email": ["…"]}).
        self.fields = {k: [str(m) for m in v] for k, v in (fields or {}).items()}
        super().__init__(self.message)

    def __str__(self) -> str:
        if self.reasons:
            return f"{self.message} {'; '.join(self.reasons)}"
        return self.message


class NotFound(ServiceError):
    """Missing and forbidden objects look the same to the caller."""

    status_code = 404
    code = "not_found"
    default_message = _("No such complaint, or you may not see it.")


class ActionForbidden(ServiceError):
    status_code = 403
    code = "forbidden"
    default_message = _("You may not do this.")


class TransitionRefused(ServiceError):
    status_code = 409
    code = "transition_refused"
    default_message = _("This change of status is not possible now.")


class ComplaintConflict(ServiceError):
    status_code = 409
    code = "conflict"
    default_message = _(
        "This complaint was changed by someone else in the meantime. Reload it and try again."
    )


class InvalidInput(ServiceError):
    status_code = 400
    code = "invalid"
