"""Call-backs (回访): the list of the Call-backs screen (agents and supervisors), one
call-back with its attempts, and recording an attempt. Through
complaints.services.callbacks: a call-back is reached only through the complaints
the caller may see (404 for missing and forbidden alike)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from complaints.api import idempotency
from complaints.api.base import ApiView, Cursor, error_responses
from complaints.api.serializers_handling import CallbackDetailSerializer, CallbackSerializer
from complaints.errors import ActionForbidden, InvalidInput
from complaints.models import CallbackResult, CallbackTask
from complaints.services import callbacks as services


class CallbackRecordSerializer(serializers.Serializer):
    result = serializers.ChoiceField(choices=CallbackResult.choices)
    note = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=services.MAX_NOTE
    )
    expected_attempts = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=0,
        help_text=gettext_lazy(
            "The failed attempts the caller saw (`attempts`): when someone recorded a call "
            "since, this one is refused (409) instead of counted twice."
        ),
    )


class OpenCursor(Cursor):
    ordering = ("next_attempt_at", "pk")


class FinishedCursor(Cursor):
    ordering = ("-finished_at", "-pk")


def _detail(pk: int) -> CallbackTask:
    return (
        CallbackTask.objects.select_related("complaint", "assignee")
        .prefetch_related("attempt_log__actor")
        .get(pk=pk)
    )


def _require_caller(user) -> None:
    if not services.can_record_callbacks(user):
        raise ActionForbidden(_("Only agents and supervisors call customers back."))


class CallbackListView(ApiView):
    pagination_class = OpenCursor

    @extend_schema(
        operation_id="callbacks_list",
        summary="Call-backs of the complaints the caller may see (agents and supervisors)",
        parameters=[
            OpenApiParameter(
                "tab",
                str,
                enum=list(services.TABS),
                description=(
                    "due: open and due now (default); later: open, not yet due; mine: open "
                    "and mine; finished: finished in the last days."
                ),
            )
        ],
        responses={200: CallbackSerializer(many=True), **error_responses(400)},
        tags=["callbacks"],
    )
    def get(self, request: Request) -> Response:
        _require_caller(request.user)
        tab = request.query_params.get("tab") or "due"
        if tab not in services.TABS:
            raise InvalidInput(fields={"tab": [_("Unknown tab.")]})
        rows = services.callbacks_queue(user=request.user, tab=tab).select_related("complaint")
        paginator = FinishedCursor() if tab == "finished" else OpenCursor()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(CallbackSerializer(page, many=True).data)


class CallbackDetailView(ApiView):
    @extend_schema(
        operation_id="callbacks_retrieve",
        summary="One call-back with its attempts",
        responses={200: CallbackDetailSerializer, **error_responses(404)},
        tags=["callbacks"],
    )
    def get(self, request: Request, pk: int) -> Response:
        task = services.callback_get_for_user(user=request.user, pk=pk)
        return Response(CallbackDetailSerializer(_detail(task.pk)).data)


class CallbackAttemptView(ApiView):
    @extend_schema(
        operation_id="callbacks_attempts_create",
        summary="Record a call to the customer",
        description=(
            "Reached and satisfied closes the complaint; reached and not satisfied reopens "
            "and escalates it; not reached counts a failed attempt (the last one allowed "
            "closes the complaint with no response). A finished call-back answers 409."
        ),
        request=CallbackRecordSerializer,
        parameters=idempotency.PARAMETERS,
        responses={
            201: CallbackDetailSerializer,
            200: OpenApiResponse(CallbackDetailSerializer, description="Replayed."),
            **error_responses(400, 404, 409),
        },
        tags=["callbacks"],
    )
    def post(self, request: Request, pk: int) -> Response:
        def create() -> Response:
            task = services.callback_get_for_user(user=request.user, pk=pk)
            serializer = CallbackRecordSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            services.callback_record(task=task, actor=request.user, **serializer.validated_data)
            return Response(
                CallbackDetailSerializer(_detail(task.pk)).data, status=status.HTTP_201_CREATED
            )

        return idempotency.idempotent(request, create)
