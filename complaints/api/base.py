"""What every API view shares: one error format, the staff permission, per-user
throttling, cursor pagination and the version check (If-Match).

Errors always look like `{"code": "...", "message": "...", "fields": {...}}`:
`fields` carries per-field messages (400), `conditions` the unmet conditions of a
refused transition (409). Service errors map to their status (NotFound 404,
ActionForbidden 403, TransitionRefused and ComplaintConflict 409, InvalidInput 400).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import exceptions, serializers
from rest_framework import permissions as drf_permissions
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from complaints import roles
from complaints.errors import ComplaintConflict, InvalidInput, ServiceError

# --- The error format ---------------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text=gettext_lazy("A stable, machine-readable code."))
    message = serializers.CharField(help_text=gettext_lazy("A message a client can show."))
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text=gettext_lazy("Messages per input field (validation errors)."),
    )
    conditions = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text=gettext_lazy("The conditions a refused transition did not meet."),
    )


def error_body(
    code: str, message: Any, *, fields: dict | None = None, conditions: list | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"code": str(code), "message": str(message)}
    if fields:
        body["fields"] = {k: [str(m) for m in v] for k, v in fields.items()}
    if conditions:
        body["conditions"] = [str(c) for c in conditions]
    return body


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested validation detail as {"field": [...], "nested.field": [...]}."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            for k, v in _flatten(value, name).items():
                out.setdefault(k, []).extend(v)
    elif isinstance(detail, list):
        for item in detail:
            if isinstance(item, dict | list):
                for k, v in _flatten(item, prefix).items():
                    out.setdefault(k, []).extend(v)
            else:
                out.setdefault(prefix or api_settings.NON_FIELD_ERRORS_KEY, []).append(str(item))
    else:
        out.setdefault(prefix or api_settings.NON_FIELD_ERRORS_KEY, []).append(str(detail))
    return out


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """Service errors and DRF's own refusals, all in the one error format."""
    if isinstance(exc, ServiceError):
        return Response(
            error_body(exc.code, exc.message, fields=exc.fields, conditions=exc.reasons),
            status=exc.status_code,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Not found, or you may not see it."))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a bug: a 500, logged by Django
    if isinstance(exc, exceptions.ValidationError):
        response.data = error_body(
            "invalid", _("Please correct the marked fields."), fields=_flatten(exc.detail)
        )
        return response
    if isinstance(exc, exceptions.APIException):
        detail = response.data.get("detail") if isinstance(response.data, dict) else None
        codes = exc.get_codes()
        code = codes.get("detail") if isinstance(codes, dict) else codes
        response.data = error_body(str(code), detail if detail is not None else exc.detail)
    return response


def error_responses(*statuses: int, **descriptions: str) -> dict[int, OpenApiResponse]:
    """The schema's error responses of an operation, all with the error format."""
    default = {
        400: gettext_lazy("Invalid input, with messages per field."),
        401: gettext_lazy("No or invalid credentials."),
        403: gettext_lazy("Not allowed for this account."),
        404: gettext_lazy("Missing, or not visible to this account (the two look the same)."),
        409: gettext_lazy("Refused: the state does not allow it, or it changed meanwhile."),
        412: gettext_lazy("If-Match does not match the current version."),
        428: gettext_lazy("Send the version you edit (If-Match header or `version`)."),
        429: gettext_lazy("Too many requests; retry after the Retry-After header's seconds."),
    }
    out = {}
    for status in sorted({401, 403, 429, *statuses}):
        text = descriptions.get(f"r{status}", default.get(status, ""))
        out[status] = OpenApiResponse(ErrorSerializer, description=str(text))
    return out


@csrf_exempt  # it changes nothing, and must not answer a POST with the CSRF page
def not_found(request: Any, *args: Any, **kwargs: Any) -> JsonResponse:
    """An address the API does not have, in the error format."""
    return JsonResponse(error_body("not_found", _("The API has no such address.")), status=404)


# --- Who may use the API --------------------------------------------------------------------


class IsStaffMember(drf_permissions.BasePermission):
    """Back-office staff (agents, supervisors, department responders, admins), the
    same people the staff screens let in."""

    message = gettext_lazy("This account has no back-office role.")

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated) and roles.is_staff_member(
            request.user
        )


# --- Throttling ---------------------------------------------------------------------------

# Per account (a token belongs to one account): reads and writes counted apart.
# REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] may override any of these.
DEFAULT_RATES = {"api-read": "1200/min", "api-write": "120/min"}


class UserScopedThrottle(SimpleRateThrottle):
    """Counts requests per user (per token, per session) and per scope: `api-read` for
    safe methods, `api-write` for the others, or the view's `throttle_scope`."""

    def __init__(self) -> None:  # the rate depends on the request: see allow_request
        pass

    def get_rate(self) -> str | None:
        configured = api_settings.DEFAULT_THROTTLE_RATES or {}
        return configured.get(self.scope, DEFAULT_RATES.get(self.scope))

    def allow_request(self, request: Request, view: Any) -> bool:
        write = request.method not in drf_permissions.SAFE_METHODS
        default = "api-write" if write else "api-read"
        self.scope = getattr(view, "throttle_scope", None) or default
        self.rate = self.get_rate()
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request: Request, view: Any) -> str:
        if request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"ip-{self.get_ident(request)}"
        return f"throttle:{self.scope}:{ident}"


# --- Pagination ---------------------------------------------------------------------------


class Cursor(CursorPagination):
    """Cursor pagination (stable under inserts, fast on large tables). Views set the
    ordering from their allow-list; the last field is unique so no row is skipped."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-pk"

    def decode_cursor(self, request: Request):
        # DRF answers a bad cursor with 404, which reads as "no such list": it is bad
        # input (400), in the error format.
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound:
            raise InvalidInput(
                _("This cursor is not valid: follow the `next` and `previous` links."),
                fields={self.cursor_query_param: [_("Invalid cursor.")]},
            ) from None


def paginated(paginator: Cursor, serializer_class, name: str) -> type:
    """The schema of a cursor page of `serializer_class`."""
    return type(
        name,
        (serializers.Serializer,),
        {
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": serializer_class(many=True),
        },
    )


# --- The base view ------------------------------------------------------------------------


class ApiView(APIView):
    permission_classes = [drf_permissions.IsAuthenticated, IsStaffMember]
    throttle_classes = [UserScopedThrottle]

    def get_exception_handler(self):
        return exception_handler


IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description=(
        'The complaint\'s version as returned in its ETag (`"7"`). A request made on an '
        "older version is refused with 409."
    ),
)


def expected_version(request: Request, body_version: int | None = None) -> int | None:
    """The version the client edits: If-Match ("7", W/"7" or 7) or the body's `version`."""
    header = (request.headers.get("If-Match") or "").strip()
    if header and header != "*":
        raw = header.removeprefix("W/").strip('"')
        if not raw.isdigit():
            raise InvalidInput(
                _('If-Match must be the complaint\'s version, e.g. "7".'),
                fields={"If-Match": [_("Not a version.")]},
            )
        return int(raw)
    return body_version


def check_version(complaint: Any, version: int | None) -> None:
    """ComplaintConflict when the client's copy is older than the complaint.

    The services check again under the row lock (services.base.locked): the copy
    given to them carries the version the client saw.
    """
    if version is None:
        return
    if version != complaint.version:
        raise ComplaintConflict()


def etag(version: int) -> str:
    return f'"{version}"'
