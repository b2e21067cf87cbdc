"""POST /api/intake/: complaints from connectors (social media / IM, shops, other
systems). Thin: validate, call services.intake.complaint_submit, answer.

Retries are safe with an `Idempotency-Key` header: the key is stored with a hash of
the body in the same transaction as the complaint, so the same key and body return
the first complaint (200, `Idempotent-Replayed: true`), the same key with another body
is refused (409), and two requests racing with one key create one complaint (the
second waits on the key's unique index and then replays the first).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions as drf_permissions
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from complaints import roles
from complaints.api.base import ErrorSerializer, UserScopedThrottle
from complaints.errors import ServiceError
from complaints.models import Channel, Complaint, Demand, DuplicateFlag, IdempotencyKey, Product
from complaints.services.intake import MAX_DESCRIPTION, complaint_submit

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 200
# Channels a connector may report; phone and in-store complaints are recorded by staff.
API_CHANNELS = [Channel.SOCIAL, Channel.API, Channel.WEB, Channel.EMAIL]


class CanSubmitComplaints(drf_permissions.BasePermission):
    """Back-office staff, or an integration account given `complaints.add_complaint`
    (e.g. through a group named "Integration" in the admin)."""

    message = gettext_lazy("This account may not submit complaints.")

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        return roles.is_staff_member(user) or user.has_perm("complaints.add_complaint")


class IntakeInputSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(
        choices=[(c.value, c.label) for c in API_CHANNELS], default=Channel.API
    )
    external_system = serializers.CharField(
        max_length=50,
        required=False,
        allow_blank=True,
        default="",
        help_text=gettext_lazy("Where external_id comes from, e.g. wechat."),
    )
    external_id = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        help_text=gettext_lazy("The customer's id in that system."),
    )
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    email = serializers.CharField(max_length=254, required=False, allow_blank=True, default="")
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    description = serializers.CharField(max_length=MAX_DESCRIPTION)
    demand = serializers.ChoiceField(choices=Demand.choices)
    demand_detail = serializers.CharField(required=False, allow_blank=True, default="")
    order_number = serializers.CharField(
        max_length=64, required=False, allow_blank=True, default=""
    )
    product = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        default="",
        help_text=gettext_lazy("The product's SKU / model."),
    )
    language = serializers.CharField(max_length=10, required=False, allow_blank=True, default="")

    def validate_product(self, value: str) -> Product | None:
        sku = value.strip()
        if not sku:
            return None
        product = Product.objects.filter(sku__iexact=sku, is_active=True).first()
        if product is None:
            raise serializers.ValidationError(_("Unknown product: %(sku)s.") % {"sku": sku})
        return product


class IntakeOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    tracking_number = serializers.CharField()
    status = serializers.CharField()
    customer_id = serializers.IntegerField()
    duplicate_of = serializers.ListField(
        child=serializers.IntegerField(),
        help_text=gettext_lazy("Ids of complaints this one may duplicate (flagged for an agent)."),
    )


def _output(complaint: Complaint) -> dict[str, Any]:
    flagged = (
        DuplicateFlag.objects.filter(complaint=complaint)
        .order_by("other_id")
        .values_list("other_id", flat=True)
    )
    return {
        "id": complaint.pk,
        "tracking_number": complaint.tracking_number,
        "status": complaint.status,
        "customer_id": complaint.customer_id,
        "duplicate_of": list(flagged),
    }


def _error(code: str, message: str, http_status: int, fields: dict | None = None) -> Response:
    body: dict[str, Any] = {"code": code, "message": str(message)}
    if fields:
        body["fields"] = fields
    return Response(body, status=http_status)


def fingerprint(data: Any) -> str:
    """sha256 of the body as canonical JSON (sorted keys, no spaces), so key order and
    formatting do not matter but every value does."""
    if hasattr(data, "lists"):  # a QueryDict (form-encoded body)
        data = {k: v if len(v) != 1 else v[0] for k, v in data.lists()}
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


_ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid input, with per-field messages."),
    401: OpenApiResponse(ErrorSerializer, description="No or invalid credentials."),
    403: OpenApiResponse(ErrorSerializer, description="This account may not submit complaints."),
    409: OpenApiResponse(
        ErrorSerializer,
        description="The Idempotency-Key was already used with a different body.",
    ),
}


class IntakeView(APIView):
    permission_classes = [drf_permissions.IsAuthenticated, CanSubmitComplaints]
    throttle_classes = [UserScopedThrottle]

    @extend_schema(
        operation_id="intake_create",
        summary="Submit a complaint",
        description=(
            "Records a complaint for the customer identified by external id, phone or "
            "email (matched to an existing customer when possible), acknowledges it to "
            "the customer and flags possible duplicates. Send an Idempotency-Key to make "
            "retries safe."
        ),
        request=IntakeInputSerializer,
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER,
                str,
                OpenApiParameter.HEADER,
                required=False,
                description=(
                    "A unique key per complaint (e.g. a UUID). Repeating a request with "
                    "the same key and body returns the first result instead of creating "
                    "a second complaint."
                ),
            ),
            OpenApiParameter(
                REPLAYED_HEADER,
                str,
                OpenApiParameter.HEADER,
                response=[200],
                description="`true` when the response replays an earlier request.",
            ),
        ],
        responses={
            201: OpenApiResponse(IntakeOutputSerializer, description="The complaint created."),
            200: OpenApiResponse(
                IntakeOutputSerializer,
                description="Replayed: the complaint an earlier request with this key created.",
            ),
            **_ERRORS,
        },
        tags=["intake"],
    )
    def post(self, request: Request) -> Response:
        key = (request.headers.get(IDEMPOTENCY_HEADER) or "").strip()
        if len(key) > MAX_KEY_LENGTH:
            return _error(
                "invalid",
                _("The Idempotency-Key is too long (at most %(n)d characters).")
                % {"n": MAX_KEY_LENGTH},
                status.HTTP_400_BAD_REQUEST,
            )
        if key:
            # A retry of a finished request is answered before validation: the body
            # was valid the first time even if, say, its product was retired since.
            replay = self._replay(self._scope(request), key, fingerprint(request.data))
            if replay is not None:
                return replay
        serializer = IntakeInputSerializer(data=request.data)
        if not serializer.is_valid():
            return _error(
                "invalid",
                _("Please correct the marked fields."),
                status.HTTP_400_BAD_REQUEST,
                fields={k: [str(m) for m in v] for k, v in serializer.errors.items()},
            )
        try:
            if key:
                return self._create_once(request, key, serializer.validated_data)
            complaint = complaint_submit(actor=request.user, **serializer.validated_data)
        except ServiceError as err:
            return _error(err.code, err.message, err.status_code, fields=err.fields or None)
        return Response(_output(complaint), status=status.HTTP_201_CREATED)

    def handle_exception(self, exc: Exception) -> Response:
        """DRF's own refusals (401, 403, malformed JSON) in the same shape as ours."""
        response = super().handle_exception(exc)
        if isinstance(exc, APIException) and isinstance(response.data, dict):
            detail = response.data.get("detail")
            if detail is not None:
                codes = exc.get_codes()
                code = codes.get("detail") if isinstance(codes, dict) else codes
                response.data = {"code": str(code), "message": str(detail)}
        return response

    @staticmethod
    def _scope(request: Request) -> str:
        return f"api-intake:{request.user.pk}"

    def _create_once(self, request: Request, key: str, data: dict[str, Any]) -> Response:
        scope = self._scope(request)
        digest = fingerprint(request.data)
        with transaction.atomic():
            try:
                # A savepoint: on PostgreSQL a concurrent request with the same key
                # blocks on the unique index here until the first commits (→ replay)
                # or rolls back (→ this one creates).
                with transaction.atomic():
                    record = IdempotencyKey.objects.create(scope=scope, key=key, fingerprint=digest)
            except IntegrityError:
                replay = self._replay(scope, key, digest)
                if replay is None:
                    raise
                return replay
            complaint = complaint_submit(actor=request.user, **data)
            record.complaint = complaint
            record.save(update_fields=["complaint"])
        return Response(_output(complaint), status=status.HTTP_201_CREATED)

    def _replay(self, scope: str, key: str, digest: str) -> Response | None:
        """The answer to a key used before, or None for a new key."""
        record = (
            IdempotencyKey.objects.select_related("complaint").filter(scope=scope, key=key).first()
        )
        if record is None:
            return None
        if record.complaint is None:
            # Keys are stored with their complaint in one transaction: not expected.
            return _error(
                "conflict",
                _("This Idempotency-Key was used before; use a new key."),
                status.HTTP_409_CONFLICT,
            )
        if record.fingerprint != digest:
            return _error(
                "conflict",
                _(
                    "This Idempotency-Key was already used with a different request body. "
                    "Use a new key for a new complaint."
                ),
                status.HTTP_409_CONFLICT,
            )
        response = Response(_output(record.complaint), status=status.HTTP_200_OK)
        response[REPLAYED_HEADER] = "true"
        return response
