"""A complaint's timeline through the API: events (GET), replies and internal notes
(POST), attachments (list, upload, download with the screens' checks)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from complaints import selectors
from complaints.api import idempotency
from complaints.api.base import (
    IF_MATCH,
    ApiView,
    Cursor,
    check_version,
    error_responses,
    expected_version,
)
from complaints.api.serializers import AttachmentSerializer, EventSerializer
from complaints.models import Attachment
from complaints.services import attachments as attachment_services
from complaints.services.messages import complaint_add_note, complaint_reply
from complaints.views.common import attachment_response


class EventCursor(Cursor):
    ordering = ("created_at", "pk")
    page_size = 100


class EventListView(ApiView):
    pagination_class = EventCursor

    @extend_schema(
        operation_id="complaints_events_list",
        summary="The complaint's timeline, oldest first",
        description="Internal events (notes, field changes) included: the API is for staff.",
        responses={200: EventSerializer(many=True), **error_responses(404)},
        tags=["timeline"],
    )
    def get(self, request: Request, pk: int) -> Response:
        complaint = selectors.complaint_get_for_user(user=request.user, pk=pk)
        events = selectors.complaint_timeline(complaint=complaint, include_internal=True)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(events.select_related("actor"), request, view=self)
        return paginator.get_paginated_response(EventSerializer(page, many=True).data)


class MessageInputSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=20000)
    version = serializers.IntegerField(
        required=False, help_text=gettext_lazy("Refuse if the complaint changed since (409).")
    )


def _message_view(kind: str, service: Any, summary: str) -> type[ApiView]:
    class MessageView(ApiView):
        @extend_schema(
            operation_id=f"complaints_{kind}_create",
            summary=summary,
            request=MessageInputSerializer,
            parameters=[IF_MATCH, *idempotency.PARAMETERS],
            responses={
                201: EventSerializer,
                200: OpenApiResponse(EventSerializer, description="Replayed."),
                **error_responses(400, 404, 409),
            },
            tags=["timeline"],
        )
        def post(self, request: Request, pk: int) -> Response:
            def create() -> Response:
                complaint = selectors.complaint_get_for_user(user=request.user, pk=pk)
                serializer = MessageInputSerializer(data=request.data)
                serializer.is_valid(raise_exception=True)
                data = serializer.validated_data
                check_version(complaint, expected_version(request, data.get("version")))
                event = service(complaint=complaint, actor=request.user, body=data["body"])
                return Response(EventSerializer(event).data, status=status.HTTP_201_CREATED)

            return idempotency.idempotent(request, create)

    MessageView.__name__ = f"{kind.title()}View"
    return MessageView


ReplyView = _message_view(
    "reply", complaint_reply, "Reply to the customer (sent by email when they have one)"
)
NoteView = _message_view("note", complaint_add_note, "Add an internal note (@username notifies)")


class AttachmentUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    visible_to_customer = serializers.BooleanField(
        required=False, default=False, help_text=gettext_lazy("Otherwise internal, staff only.")
    )


class AttachmentListView(ApiView):
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(
        operation_id="complaints_attachments_list",
        summary="The complaint's attachments",
        responses={200: AttachmentSerializer(many=True), **error_responses(404)},
        tags=["attachments"],
    )
    def get(self, request: Request, pk: int) -> Response:
        complaint = selectors.complaint_get_for_user(user=request.user, pk=pk)
        rows = Attachment.objects.filter(complaint=complaint).order_by("created_at", "pk")
        return Response(AttachmentSerializer(rows, many=True).data)

    @extend_schema(
        operation_id="complaints_attachments_create",
        summary="Attach a file",
        description=(
            "Checked like the screens: size, and type by content (an image must be an "
            "image whatever its name says)."
        ),
        request={"multipart/form-data": AttachmentUploadSerializer},
        parameters=idempotency.PARAMETERS,
        responses={
            201: AttachmentSerializer,
            200: OpenApiResponse(AttachmentSerializer, description="Replayed."),
            **error_responses(400, 404, 409),
        },
        tags=["attachments"],
    )
    def post(self, request: Request, pk: int) -> Response:
        def create() -> Response:
            complaint = selectors.complaint_get_for_user(user=request.user, pk=pk)
            serializer = AttachmentUploadSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
            with transaction.atomic():
                attachment = attachment_services.attachment_add(
                    complaint=complaint,
                    actor=request.user,
                    upload=data["file"],
                    internal=not data["visible_to_customer"],
                )
            return Response(AttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)

        return idempotency.idempotent(request, create)


class PassthroughRenderer(BaseRenderer):
    """Lets a client ask for the file's bytes (`Accept: */*` or any type)."""

    media_type = "*/*"
    format = "file"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return JSONRenderer().render(data) if isinstance(data, dict) else data


class AttachmentDownloadView(ApiView):
    renderer_classes = [JSONRenderer, PassthroughRenderer]

    @extend_schema(
        operation_id="attachments_download",
        summary="Download an attachment",
        description="The file, as a download (never inline), if its complaint is visible.",
        responses={
            (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY),
            **error_responses(404),
        },
        tags=["attachments"],
    )
    def get(self, request: Request, pk: int):
        attachment = attachment_services.attachment_get_for_user(user=request.user, pk=pk)
        return attachment_response(attachment)
