"""Customers, collaboration requests, escalations and survey responses: each scoped
to the complaints the caller may see, each write through its service."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from complaints import selectors
from complaints.api import idempotency
from complaints.api.base import ApiView, Cursor, error_responses
from complaints.api.serializers import (
    CollaborationRequestSerializer,
    CustomerSerializer,
    EscalationSerializer,
    SurveyResponseSerializer,
)
from complaints.errors import InvalidInput, NotFound
from complaints.models import Customer, CustomerExternalId, Escalation, Team
from complaints.services import collaboration as collab
from complaints.services import escalation as esc

# --- Customers ----------------------------------------------------------------------------


def customers_visible_to(user: Any):
    """Customers of at least one complaint the user may see."""
    visible = selectors.complaints_visible_to(user).values("customer_id")
    return Customer.objects.filter(pk__in=visible).prefetch_related(
        Prefetch("external_ids", queryset=CustomerExternalId.objects.order_by("system", "value"))
    )


class CustomerCursor(Cursor):
    ordering = ("-created_at", "-pk")


class CustomerListView(ApiView):
    pagination_class = CustomerCursor

    @extend_schema(
        operation_id="customers_list",
        summary="Customers of the complaints the caller may see",
        responses={200: CustomerSerializer(many=True), **error_responses(400)},
        tags=["customers"],
    )
    def get(self, request: Request) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(customers_visible_to(request.user), request, view=self)
        return paginator.get_paginated_response(CustomerSerializer(page, many=True).data)


class CustomerDetailView(ApiView):
    @extend_schema(
        operation_id="customers_retrieve",
        summary="One customer",
        responses={200: CustomerSerializer, **error_responses(404)},
        tags=["customers"],
    )
    def get(self, request: Request, pk: int) -> Response:
        customer = customers_visible_to(request.user).filter(pk=pk).first()
        if customer is None:
            raise NotFound(_("No such customer, or you may not see them."))
        return Response(CustomerSerializer(customer).data)


# --- Collaboration requests ---------------------------------------------------------------


class CollaborationAskSerializer(serializers.Serializer):
    department = serializers.IntegerField(help_text=gettext_lazy("A department's team id."))
    question = serializers.CharField(max_length=collab.QUESTION_MAX)


class CollaborationAnswerSerializer(serializers.Serializer):
    answer = serializers.CharField(max_length=collab.ANSWER_MAX)


class CollaborationCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class ComplaintCollaborationView(ApiView):
    @extend_schema(
        operation_id="complaints_collaboration_list",
        summary="The complaint's collaboration requests",
        responses={200: CollaborationRequestSerializer(many=True), **error_responses(404)},
        tags=["collaboration"],
    )
    def get(self, request: Request, pk: int) -> Response:
        complaint = selectors.complaint_get_for_user(user=request.user, pk=pk)
        rows = collab.collaboration_requests_of(complaint).select_related("complaint")
        return Response(CollaborationRequestSerializer(rows, many=True).data)

    @extend_schema(
        operation_id="complaints_collaboration_create",
        summary="Ask a department about the complaint",
        request=CollaborationAskSerializer,
        parameters=idempotency.PARAMETERS,
        responses={
            201: CollaborationRequestSerializer,
            200: OpenApiResponse(CollaborationRequestSerializer, description="Replayed."),
            **error_responses(400, 404, 409),
        },
        tags=["collaboration"],
    )
    def post(self, request: Request, pk: int) -> Response:
        def create() -> Response:
            complaint = selectors.complaint_get_for_user(user=request.user, pk=pk)
            serializer = CollaborationAskSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
            department = Team.objects.filter(pk=data["department"]).first()
            if department is None:
                raise InvalidInput(
                    _("Choose an active collaborating department."),
                    fields={"department": [_("No such department.")]},
                )
            row = collab.collaboration_ask(
                complaint=complaint,
                actor=request.user,
                department=department,
                question=data["question"],
            )
            return Response(
                CollaborationRequestSerializer(row).data, status=status.HTTP_201_CREATED
            )

        return idempotency.idempotent(request, create)


class DepartmentRequestCursor(Cursor):
    ordering = ("due_at", "pk")


class DepartmentRequestListView(ApiView):
    pagination_class = DepartmentRequestCursor

    @extend_schema(
        operation_id="collaboration_requests_list",
        summary="Requests to the caller's departments",
        parameters=[
            OpenApiParameter(
                "status", str, enum=list(collab.Status.values), description="Only this status."
            )
        ],
        responses={200: CollaborationRequestSerializer(many=True), **error_responses(400)},
        tags=["collaboration"],
    )
    def get(self, request: Request) -> Response:
        rows = collab.collaboration_requests_for_department_user(request.user)
        wanted = request.query_params.get("status")
        if wanted:
            if wanted not in collab.Status.values:
                raise InvalidInput(fields={"status": [_("Unknown status.")]})
            rows = rows.filter(status=wanted)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(
            CollaborationRequestSerializer(page, many=True).data
        )


class CollaborationAnswerView(ApiView):
    @extend_schema(
        operation_id="collaboration_requests_answer",
        summary="Answer a request (its department, or a supervisor)",
        request=CollaborationAnswerSerializer,
        responses={200: CollaborationRequestSerializer, **error_responses(400, 404, 409)},
        tags=["collaboration"],
    )
    def post(self, request: Request, pk: int) -> Response:
        row = collab.collaboration_get_for_department_user(user=request.user, pk=pk)
        serializer = CollaborationAnswerSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        collab.collaboration_answer(
            request=row, actor=request.user, answer=serializer.validated_data["answer"]
        )
        return Response(CollaborationRequestSerializer(row).data)


class CollaborationCancelView(ApiView):
    @extend_schema(
        operation_id="collaboration_requests_cancel",
        summary="Withdraw an open request",
        request=CollaborationCancelSerializer,
        responses={200: CollaborationRequestSerializer, **error_responses(400, 404, 409)},
        tags=["collaboration"],
    )
    def post(self, request: Request, pk: int) -> Response:
        row = collab.collaboration_get_for_user(user=request.user, pk=pk)
        serializer = CollaborationCancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        collab.collaboration_cancel(
            request=row, actor=request.user, reason=serializer.validated_data["reason"]
        )
        return Response(CollaborationRequestSerializer(row).data)


# --- Escalations --------------------------------------------------------------------------


def _escalations(qs):
    return qs.select_related("complaint", "opened_by", "acknowledged_by", "settled_by")


class EscalationOpenSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=[(r.value, r.label) for r in esc.MANUAL_REASONS])
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)
    level = serializers.ChoiceField(choices=Escalation.Level.choices, default=1)


class EscalationTextSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=4000)


class ComplaintEscalationView(ApiView):
    @extend_schema(
        operation_id="complaints_escalations_list",
        summary="The complaint's escalations, open and settled",
        responses={200: EscalationSerializer(many=True), **error_responses(404)},
        tags=["escalations"],
    )
    def get(self, request: Request, pk: int) -> Response:
        complaint = selectors.complaint_get_for_user(user=request.user, pk=pk)
        rows = _escalations(complaint.escalations.order_by("-opened_at", "-pk"))
        return Response(EscalationSerializer(rows, many=True).data)

    @extend_schema(
        operation_id="complaints_escalations_create",
        summary="Escalate the complaint",
        description="An escalation already open for the same reason is returned as it is.",
        request=EscalationOpenSerializer,
        parameters=idempotency.PARAMETERS,
        responses={
            201: EscalationSerializer,
            200: OpenApiResponse(EscalationSerializer, description="Already open, or replayed."),
            **error_responses(400, 404, 409),
        },
        tags=["escalations"],
    )
    def post(self, request: Request, pk: int) -> Response:
        def create() -> Response:
            complaint = selectors.complaint_get_for_user(user=request.user, pk=pk)
            serializer = EscalationOpenSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            if not esc.can_raise_escalation(request.user, complaint):
                raise InvalidInput(_("A rejected or merged complaint cannot be escalated."))
            row, opened = esc.escalation_open_or_existing(
                complaint=complaint, actor=request.user, **serializer.validated_data
            )
            row = _escalations(Escalation.objects.filter(pk=row.pk)).get()
            return Response(
                EscalationSerializer(row).data,
                status=status.HTTP_201_CREATED if opened else status.HTTP_200_OK,
            )

        return idempotency.idempotent(request, create)


class EscalationCursor(Cursor):
    ordering = ("-opened_at", "-pk")


class EscalationListView(ApiView):
    pagination_class = EscalationCursor

    @extend_schema(
        operation_id="escalations_list",
        summary="Escalations of the complaints the caller may see",
        parameters=[OpenApiParameter("open", bool, description="Only open (true) or settled.")],
        responses={200: EscalationSerializer(many=True), **error_responses(400)},
        tags=["escalations"],
    )
    def get(self, request: Request) -> Response:
        rows = _escalations(esc.escalations_visible_to(request.user))
        wanted = (request.query_params.get("open") or "").lower()
        if wanted:
            if wanted not in ("true", "false"):
                raise InvalidInput(fields={"open": [_("Must be true or false.")]})
            rows = rows.filter(settled_at__isnull=wanted == "true")
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(EscalationSerializer(page, many=True).data)


class EscalationDetailView(ApiView):
    @extend_schema(
        operation_id="escalations_retrieve",
        summary="One escalation",
        responses={200: EscalationSerializer, **error_responses(404)},
        tags=["escalations"],
    )
    def get(self, request: Request, pk: int) -> Response:
        row = esc.escalation_get_for_user(user=request.user, pk=pk)
        return Response(
            EscalationSerializer(_escalations(Escalation.objects.filter(pk=row.pk)).get()).data
        )


def _escalation_action(action: str, summary: str, with_text: bool) -> type[ApiView]:
    class EscalationActionView(ApiView):
        @extend_schema(
            operation_id=f"escalations_{action}",
            summary=summary,
            request=EscalationTextSerializer if with_text else None,
            responses={200: EscalationSerializer, **error_responses(400, 404)},
            tags=["escalations"],
        )
        def post(self, request: Request, pk: int) -> Response:
            row = esc.escalation_get_for_user(user=request.user, pk=pk)
            text = ""
            if with_text:
                serializer = EscalationTextSerializer(data=request.data)
                serializer.is_valid(raise_exception=True)
                text = serializer.validated_data["text"]
            if action == "acknowledge":
                esc.escalation_acknowledge(escalation=row, actor=request.user)
            elif action == "instruct":
                esc.escalation_instruct(escalation=row, actor=request.user, note=text)
            else:
                esc.escalation_settle(escalation=row, actor=request.user, settlement=text)
            fresh = _escalations(Escalation.objects.filter(pk=row.pk)).get()
            return Response(EscalationSerializer(fresh).data)

    EscalationActionView.__name__ = f"Escalation{action.title()}View"
    return EscalationActionView


EscalationAcknowledgeView = _escalation_action(
    "acknowledge", "Acknowledge (supervisors)", with_text=False
)
EscalationInstructView = _escalation_action(
    "instruct", "Instruct the handler (supervisors)", with_text=True
)
EscalationSettleView = _escalation_action("settle", "Settle (supervisors)", with_text=True)


# --- Survey responses ---------------------------------------------------------------------


class SurveyResponseListView(ApiView):
    @extend_schema(
        operation_id="complaints_survey_responses_list",
        summary="The customer's survey answers on the complaint",
        responses={200: SurveyResponseSerializer(many=True), **error_responses(404)},
        tags=["survey"],
    )
    def get(self, request: Request, pk: int) -> Response:
        complaint = selectors.complaint_get_for_user(user=request.user, pk=pk)
        rows = complaint.survey_responses.order_by("-answered_at", "-pk")
        return Response(SurveyResponseSerializer(rows, many=True).data)
