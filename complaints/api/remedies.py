"""Remedies and approvals: a complaint's remedies (list, propose), one remedy (read,
approve or reject, mark delivered, cancel) and the remedies waiting for the caller's
approval. Reads through complaints.selectors_remedies, writes through
complaints.services.remedies, which check who may do what."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from complaints import roles, selectors
from complaints import selectors_remedies as remedy_selectors
from complaints.api import idempotency
from complaints.api.base import ApiView, Cursor, error_responses
from complaints.api.serializers_handling import ApprovalSerializer, RemedySerializer
from complaints.errors import ActionForbidden
from complaints.models import Remedy, RemedyKind
from complaints.services import remedies as services


class RemedyProposeSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=RemedyKind.choices)
    amount = serializers.CharField(
        max_length=40,
        help_text=gettext_lazy(
            'In the installation\'s currency, at most two decimals, e.g. "120.50"; 0 for '
            "an apology."
        ),
    )
    description = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=services.DESCRIPTION_MAX
    )


class RemedyDecideSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=[("approve", "approve"), ("reject", "reject")])
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=services.REASON_MAX,
        help_text=gettext_lazy("Required to reject."),
    )


class RemedyCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=services.REASON_MAX)


def _fresh(pk: int) -> Remedy:
    return Remedy.objects.select_related("complaint", "proposed_by", "decided_by").get(pk=pk)


class ComplaintRemedyView(ApiView):
    @extend_schema(
        operation_id="complaints_remedies_list",
        summary="The complaint's remedies, the oldest first",
        responses={200: RemedySerializer(many=True), **error_responses(404)},
        tags=["remedies"],
    )
    def get(self, request: Request, pk: int) -> Response:
        complaint = selectors.complaint_get_for_user(user=request.user, pk=pk)
        rows = remedy_selectors.remedies_of(complaint).select_related("complaint")
        return Response(RemedySerializer(rows, many=True).data)

    @extend_schema(
        operation_id="complaints_remedies_create",
        summary="Propose a remedy",
        description=(
            "Within the caller's authority limit the remedy is approved at once "
            "(`approved`); above it, it waits (`pending`) for a supervisor, who is told."
        ),
        request=RemedyProposeSerializer,
        parameters=idempotency.PARAMETERS,
        responses={
            201: RemedySerializer,
            200: OpenApiResponse(RemedySerializer, description="Replayed."),
            **error_responses(400, 404, 409),
        },
        tags=["remedies"],
    )
    def post(self, request: Request, pk: int) -> Response:
        def create() -> Response:
            complaint = selectors.complaint_get_for_user(user=request.user, pk=pk)
            serializer = RemedyProposeSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            remedy = services.remedy_propose(
                complaint=complaint, actor=request.user, **serializer.validated_data
            )
            return Response(
                RemedySerializer(_fresh(remedy.pk)).data, status=status.HTTP_201_CREATED
            )

        return idempotency.idempotent(request, create)


class RemedyDetailView(ApiView):
    @extend_schema(
        operation_id="remedies_retrieve",
        summary="One remedy",
        responses={200: RemedySerializer, **error_responses(404)},
        tags=["remedies"],
    )
    def get(self, request: Request, pk: int) -> Response:
        remedy = remedy_selectors.remedy_get_for_user(user=request.user, pk=pk)
        return Response(RemedySerializer(remedy).data)


class RemedyDecideView(ApiView):
    @extend_schema(
        operation_id="remedies_decide",
        summary="Approve or reject a remedy waiting for approval (supervisors)",
        description=(
            "Not by its proposer, and only within the supervisor's own limit (403). "
            "Decided meanwhile by someone else: 409."
        ),
        request=RemedyDecideSerializer,
        responses={200: RemedySerializer, **error_responses(400, 404, 409)},
        tags=["remedies"],
    )
    def post(self, request: Request, pk: int) -> Response:
        remedy = remedy_selectors.remedy_get_for_user(user=request.user, pk=pk)
        serializer = RemedyDecideSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.remedy_decide(
            remedy=remedy,
            actor=request.user,
            approve=data["decision"] == "approve",
            reason=data["reason"],
        )
        return Response(RemedySerializer(_fresh(remedy.pk)).data)


class RemedyDeliverView(ApiView):
    @extend_schema(
        operation_id="remedies_deliver",
        summary="Mark an approved remedy delivered",
        request=None,
        responses={200: RemedySerializer, **error_responses(404, 409)},
        tags=["remedies"],
    )
    def post(self, request: Request, pk: int) -> Response:
        remedy = remedy_selectors.remedy_get_for_user(user=request.user, pk=pk)
        services.remedy_mark_delivered(remedy=remedy, actor=request.user)
        return Response(RemedySerializer(_fresh(remedy.pk)).data)


class RemedyCancelView(ApiView):
    @extend_schema(
        operation_id="remedies_cancel",
        summary="Cancel a remedy not yet delivered (with a reason)",
        request=RemedyCancelSerializer,
        responses={200: RemedySerializer, **error_responses(400, 404, 409)},
        tags=["remedies"],
    )
    def post(self, request: Request, pk: int) -> Response:
        remedy = remedy_selectors.remedy_get_for_user(user=request.user, pk=pk)
        serializer = RemedyCancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.remedy_cancel(
            remedy=remedy, actor=request.user, reason=serializer.validated_data["reason"]
        )
        return Response(RemedySerializer(_fresh(remedy.pk)).data)


class ApprovalCursor(Cursor):
    ordering = ("proposed_at", "pk")


class ApprovalListView(ApiView):
    pagination_class = ApprovalCursor

    @extend_schema(
        operation_id="approvals_list",
        summary="Remedies waiting for the caller's approval (supervisors)",
        description="The oldest first; only those the caller may decide.",
        responses={200: ApprovalSerializer(many=True), **error_responses(400)},
        tags=["remedies"],
    )
    def get(self, request: Request) -> Response:
        if not roles.is_supervisor(request.user):
            raise ActionForbidden(_("Only supervisors approve remedies."))
        limits = services.authority_limits()
        rows = remedy_selectors.remedies_awaiting_approval(request.user, limits=limits)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(rows, request, view=self)
        page = remedy_selectors.with_proposer_limits(list(page), limits=limits)
        return paginator.get_paginated_response(ApprovalSerializer(page, many=True).data)
