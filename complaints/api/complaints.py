"""/api/complaints/: list (the staff queues' FilterSet, cursor pagination), create
(through intake, as staff), detail and partial update (services.editing; never the
status), and the transitions (GET what the caller may do, POST one by name).

Every complaint is reached through selectors: complaints_visible_to for lists,
complaint_get_for_user for one (404 for missing and forbidden alike).
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from complaints import roles, selectors
from complaints.api import idempotency
from complaints.api.base import (
    IF_MATCH,
    ApiView,
    Cursor,
    check_version,
    error_responses,
    etag,
    expected_version,
)
from complaints.api.intake import IntakeInputSerializer
from complaints.api.serializers import ComplaintDetailSerializer, ComplaintListSerializer
from complaints.errors import InvalidInput
from complaints.filters import ComplaintFilter
from complaints.models import Category, Channel, Complaint, Demand, Priority, Product, Team, User
from complaints.services.editing import EDITABLE_FIELDS, complaint_update
from complaints.services.intake import complaint_submit
from complaints.services.transitions import complaint_transition
from complaints.workflow import TRANSITIONS

# --- List -------------------------------------------------------------------------------------

# Cursor pagination needs non-null, stable orderings: the last field is unique.
ORDERINGS: dict[str, tuple[str, ...]] = {
    "received": ("received_at", "pk"),
    "-received": ("-received_at", "-pk"),
    "updated": ("updated_at", "pk"),
    "-updated": ("-updated_at", "-pk"),
    "number": ("tracking_number",),
    "-number": ("-tracking_number",),
}
DEFAULT_ORDERING = "-received"


class ApiComplaintFilter(ComplaintFilter):
    """The staff queues' filters; ordering narrowed to what a cursor can page through."""

    ordering = django_filters.OrderingFilter(
        label=gettext_lazy("Sort by"),
        fields=(
            ("received_at", "received"),
            ("updated_at", "updated"),
            ("tracking_number", "number"),
        ),
    )


class ComplaintCursor(Cursor):
    def get_ordering(self, request: Request, queryset: Any, view: Any) -> tuple[str, ...]:
        chosen = (request.query_params.get("ordering") or "").split(",")[0].strip()
        return ORDERINGS.get(chosen, ORDERINGS[DEFAULT_ORDERING])


def _list_queryset(user: Any):
    return selectors.complaints_visible_to(user).select_related(
        "customer", "category", "product", "priority", "team", "assignee"
    )


class ComplaintCreateSerializer(IntakeInputSerializer):
    """A complaint recorded by staff (phone, in store, or from another system)."""

    channel = serializers.ChoiceField(choices=Channel.choices)


class ComplaintListView(ApiView, GenericAPIView):
    serializer_class = ComplaintListSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = ApiComplaintFilter
    pagination_class = ComplaintCursor

    def get_queryset(self):
        return _list_queryset(self.request.user)

    @extend_schema(
        operation_id="complaints_list",
        summary="List complaints",
        description=(
            "The complaints this account may see (an agent: their teams' and the "
            "untriaged intake; a responder: their department's and those it was asked "
            "about; a supervisor: all), filtered like the staff queues. Newest first by "
            "default; follow `next` for the next page."
        ),
        responses={200: ComplaintListSerializer(many=True), **error_responses(400)},
        tags=["complaints"],
    )
    def get(self, request: Request) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        operation_id="complaints_create",
        summary="Record a complaint",
        description=(
            "Records a complaint as staff (any channel) through intake: the customer is "
            "matched or created, the complaint acknowledged and checked for duplicates."
        ),
        request=ComplaintCreateSerializer,
        parameters=idempotency.PARAMETERS,
        responses={
            201: ComplaintDetailSerializer,
            200: OpenApiResponse(ComplaintDetailSerializer, description="Replayed."),
            **error_responses(400, 409),
        },
        tags=["complaints"],
    )
    def post(self, request: Request) -> Response:
        def create() -> Response:
            serializer = ComplaintCreateSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            complaint = complaint_submit(actor=request.user, **serializer.validated_data)
            complaint = selectors.complaint_get_for_user(user=roles.SYSTEM, pk=complaint.pk)
            return Response(
                ComplaintDetailSerializer(complaint).data,
                status=status.HTTP_201_CREATED,
                headers={"ETag": etag(complaint.version)},
            )

        return idempotency.idempotent(request, create)


# --- Detail and update -------------------------------------------------------------------------


class ComplaintUpdateSerializer(serializers.Serializer):
    """The fields staff may change directly (team and assignee change through the
    assign / reassign / release transitions, the status only through transitions)."""

    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False)
    demand = serializers.ChoiceField(choices=Demand.choices, required=False)
    demand_detail = serializers.CharField(required=False, allow_blank=True)
    order_number = serializers.CharField(max_length=64, required=False, allow_blank=True)
    category = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.filter(is_active=True), required=False, allow_null=True
    )
    product = serializers.PrimaryKeyRelatedField(
        queryset=Product.objects.filter(is_active=True), required=False, allow_null=True
    )
    priority = serializers.PrimaryKeyRelatedField(
        queryset=Priority.objects.all(), required=False, allow_null=True
    )
    reason = serializers.CharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        help_text=gettext_lazy("Why; recorded in the timeline."),
    )
    version = serializers.IntegerField(
        required=False,
        help_text=gettext_lazy("The version edited (or send If-Match)."),
    )

    def validate(self, attrs: dict) -> dict:
        unknown = set(self.initial_data) - set(self.fields)
        if unknown:
            raise ValidationError(
                {name: [_("This field cannot be changed here.")] for name in sorted(unknown)}
            )
        return attrs


def _detail_response(complaint: Complaint, *, http_status: int = 200) -> Response:
    return Response(
        ComplaintDetailSerializer(complaint).data,
        status=http_status,
        headers={"ETag": etag(complaint.version)},
    )


class ComplaintDetailView(ApiView):
    @extend_schema(
        operation_id="complaints_retrieve",
        summary="One complaint",
        responses={200: ComplaintDetailSerializer, **error_responses(404)},
        tags=["complaints"],
    )
    def get(self, request: Request, pk: int) -> Response:
        return _detail_response(selectors.complaint_get_for_user(user=request.user, pk=pk))

    @extend_schema(
        operation_id="complaints_partial_update",
        summary="Change a complaint's fields",
        description=(
            "Changes the fields staff may edit (never the status: use the transitions). "
            "Send the version you edit, as If-Match or `version`: a complaint changed "
            "since answers 409, without a version 428."
        ),
        request=ComplaintUpdateSerializer,
        parameters=[IF_MATCH],
        responses={200: ComplaintDetailSerializer, **error_responses(400, 404, 409, 428)},
        tags=["complaints"],
    )
    def patch(self, request: Request, pk: int) -> Response:
        complaint = selectors.complaint_get_for_user(user=request.user, pk=pk)
        serializer = ComplaintUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        version = expected_version(request, data.pop("version", None))
        if version is None:
            return Response(
                {
                    "code": "precondition_required",
                    "message": _(
                        "Send the version you edit (If-Match header or `version`), so a "
                        "change made by someone else meanwhile is not overwritten."
                    ),
                },
                status=status.HTTP_428_PRECONDITION_REQUIRED,
            )
        check_version(complaint, version)
        reason = data.pop("reason", "")
        changes = {k: v for k, v in data.items() if k in EDITABLE_FIELDS}
        if not changes:
            raise InvalidInput(_("Nothing to change."))
        complaint_update(complaint=complaint, actor=request.user, reason=reason, **changes)
        return _detail_response(selectors.complaint_get_for_user(user=request.user, pk=pk))


# --- Transitions ------------------------------------------------------------------------------


class TransitionInputSerializer(serializers.Serializer):
    """Every input a transition may take; each transition uses its own (see GET
    .../transitions/ for which)."""

    reason = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    question = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    summary = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    root_cause = serializers.CharField(required=False, allow_blank=True, max_length=20)
    remedy = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    recourse = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    told_customer = serializers.BooleanField(required=False)
    category = serializers.IntegerField(required=False, allow_null=True)
    priority = serializers.IntegerField(required=False, allow_null=True)
    product = serializers.IntegerField(required=False, allow_null=True)
    team = serializers.IntegerField(required=False, allow_null=True)
    assignee = serializers.IntegerField(required=False, allow_null=True)
    target = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=40,
        help_text=gettext_lazy("merge: the tracking number of the complaint to merge into."),
    )
    version = serializers.IntegerField(required=False)


class TransitionInputDescriptionSerializer(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.ChoiceField(choices=["string", "integer", "boolean"])
    description = serializers.CharField()


class TransitionSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    target = serializers.CharField()
    inputs = TransitionInputDescriptionSerializer(many=True)
    conditions = serializers.ListField(
        child=serializers.CharField(), help_text=gettext_lazy("What must hold to be done.")
    )
    unmet = serializers.ListField(
        child=serializers.CharField(),
        help_text=gettext_lazy("The conditions not met now (its inputs may meet them)."),
    )


def _input_descriptions() -> dict[str, tuple[str, str]]:
    return {
        "reason": ("string", _("Why (recorded; some transitions need it).")),
        "question": ("string", _("The question put to the customer.")),
        "summary": ("string", _("The resolution summary, told to the customer.")),
        "root_cause": ("string", _("The root cause code.")),
        "remedy": ("string", _("The remedy decided.")),
        "recourse": ("string", _("Where the customer may turn (e.g. 12315).")),
        "told_customer": ("boolean", _("The customer was told the result in person.")),
        "category": ("integer", _("A category id (/api/categories/).")),
        "priority": ("integer", _("A priority id (/api/priorities/).")),
        "product": ("integer", _("A product id (/api/products/).")),
        "team": ("integer", _("A front-line team id (/api/teams/).")),
        "assignee": ("integer", _("A user id; an agent claims for themself (leave it out).")),
        "target": ("string", _("The tracking number of the complaint to merge into.")),
    }


def _inputs_for(rule: Any, user: Any) -> list[str]:
    names = list(rule.inputs)
    if rule.name == "assign" and not roles.is_supervisor(user):
        names = [n for n in names if n != "team"]  # a claim: the complaint's own team
    return names


class TransitionListView(ApiView):
    @extend_schema(
        operation_id="complaints_transitions_list",
        summary="What the caller may do to the complaint now",
        responses={200: TransitionSerializer(many=True), **error_responses(404)},
        tags=["transitions"],
    )
    def get(self, request: Request, pk: int) -> Response:
        complaint = selectors.complaint_get_for_user(user=request.user, pk=pk)
        described = _input_descriptions()
        rows = []
        for rule in selectors.complaint_available_transitions(
            complaint=complaint, user=request.user
        ):
            rows.append(
                {
                    "name": rule.name,
                    "label": str(rule.label),
                    "target": str(rule.target),
                    "inputs": [
                        {"name": n, "type": described[n][0], "description": described[n][1]}
                        for n in _inputs_for(rule, request.user)
                    ],
                    "conditions": [str(c.message) for c in rule.conditions],
                    "unmet": [str(c.message) for c in rule.conditions if not c(complaint)],
                }
            )
        return Response(TransitionSerializer(rows, many=True).data)


def _resolve_inputs(complaint: Complaint, user: Any, rule: Any, data: dict) -> dict[str, Any]:
    """The posted inputs as the service's keyword arguments (ids become rows)."""
    allowed = _inputs_for(rule, user)
    extra = sorted(set(data) - set(allowed))
    if extra:
        raise InvalidInput(
            _("“%(action)s” does not take these fields.") % {"action": rule.label},
            fields={name: [_("Not an input of this transition.")] for name in extra},
        )
    lookups = {
        "category": Category.objects.filter(is_active=True),
        "priority": Priority.objects.all(),
        "product": Product.objects.filter(is_active=True),
        "team": Team.objects.filter(is_active=True, kind=Team.Kind.FRONT_LINE),
        "assignee": User.objects.filter(is_active=True),
    }
    inputs: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    described = _input_descriptions()
    for name in allowed:
        if name not in data:
            # As an empty form field: the service says what is missing.
            kind = described[name][0]
            inputs[name] = "" if kind == "string" and name != "target" else None
            if kind == "boolean":
                inputs[name] = False
            continue
        value = data[name]
        if name in lookups and value is not None:
            row = lookups[name].filter(pk=value).first()
            if row is None:
                errors[name] = [_("No such choice.")]
            value = row
        elif name == "target":
            number = (value or "").strip()
            value = (
                selectors.complaints_visible_to(user)
                .filter(tracking_number__in={number, number.upper()})
                .exclude(pk=complaint.pk)
                .first()
                if number
                else None
            )
            if value is None and number:
                errors[name] = [_("No other complaint you may see has this tracking number.")]
        inputs[name] = value
    if errors:
        raise InvalidInput(_("Please correct the marked fields."), fields=errors)
    if rule.name == "assign" and not roles.is_supervisor(user) and inputs.get("assignee") is None:
        inputs["assignee"] = user  # an agent claims
    return inputs


class TransitionView(ApiView):
    @extend_schema(
        operation_id="complaints_transition",
        summary="Change the complaint's status by a transition",
        description=(
            "Runs the transition `name` with its inputs (GET .../transitions/ lists them). "
            "Refused with 409 when the status does not allow it or a condition is not "
            "met (`conditions` names them), 403 when the caller may not use it."
        ),
        request=TransitionInputSerializer,
        parameters=[
            IF_MATCH,
            OpenApiParameter("name", str, OpenApiParameter.PATH, enum=sorted(TRANSITIONS)),
        ],
        responses={200: ComplaintDetailSerializer, **error_responses(400, 404, 409)},
        tags=["transitions"],
    )
    def post(self, request: Request, pk: int, name: str) -> Response:
        complaint = selectors.complaint_get_for_user(user=request.user, pk=pk)
        rule = TRANSITIONS.get(name)
        if rule is None:
            return Response(
                {"code": "not_found", "message": _("No such transition.")},
                status=status.HTTP_404_NOT_FOUND,
            )
        serializer = TransitionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        check_version(complaint, expected_version(request, data.pop("version", None)))
        inputs = _resolve_inputs(complaint, request.user, rule, data)
        with transaction.atomic():
            complaint_transition(complaint=complaint, actor=request.user, name=name, **inputs)
        return _detail_response(selectors.complaint_get_for_user(user=roles.SYSTEM, pk=pk))
