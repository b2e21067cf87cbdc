"""Handling aids of one complaint: its SOP checklist (read, tick, untick), the reply
templates offered for it (list, render) and the similar resolved complaints. The
complaint comes through selectors.complaint_get_for_user (404 for missing and
forbidden alike); the writes are complaints.services.guidance."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from complaints import permissions, selectors
from complaints.api.base import ApiView, error_responses
from complaints.api.serializers_handling import (
    ChecklistSerializer,
    RenderedReplySerializer,
    ReplyTemplateSerializer,
    SimilarSerializer,
)
from complaints.errors import ActionForbidden, InvalidInput
from complaints.models import Complaint
from complaints.services import guidance as services
from complaints.services import reply_templates, similar

SIMILAR_DEFAULT = 5
SIMILAR_MAX = 20


class SopStepSerializer(serializers.Serializer):
    step = serializers.IntegerField(min_value=1, max_value=services.STEPS_MAX)


def _checklist(complaint: Complaint) -> dict[str, Any]:
    checklist = services.sop_checklist(complaint)
    if checklist is None:
        empty = {"sop": None, "steps": [], "done_count": 0, "total": 0, "complete": False}
        return ChecklistSerializer({**empty, "due_at": None}).data
    return ChecklistSerializer(checklist).data


class SopChecklistView(ApiView):
    @extend_schema(
        operation_id="complaints_sop_retrieve",
        summary="The complaint's SOP checklist",
        description="`sop` is null when no SOP applies to the complaint's category.",
        responses={200: ChecklistSerializer, **error_responses(404)},
        tags=["guidance"],
    )
    def get(self, request: Request, pk: int) -> Response:
        complaint = selectors.complaint_get_for_user(user=request.user, pk=pk)
        return Response(_checklist(complaint))


def _sop_step_view(action: str, summary: str) -> type[ApiView]:
    service = services.sop_step_check if action == "check" else services.sop_step_uncheck

    class SopStepView(ApiView):
        @extend_schema(
            operation_id=f"complaints_sop_{action}",
            summary=summary,
            description="Ticking a done step (or unticking an open one) changes nothing.",
            request=SopStepSerializer,
            responses={200: ChecklistSerializer, **error_responses(400, 404)},
            tags=["guidance"],
        )
        def post(self, request: Request, pk: int) -> Response:
            complaint = selectors.complaint_get_for_user(user=request.user, pk=pk)
            serializer = SopStepSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            service(complaint=complaint, actor=request.user, step=serializer.validated_data["step"])
            return Response(_checklist(complaint))

    SopStepView.__name__ = f"Sop{action.title()}View"
    return SopStepView


SopCheckView = _sop_step_view("check", "Tick a step of the checklist as done")
SopUncheckView = _sop_step_view("uncheck", "Take back a step ticked as done")


def _may_reply(user: Any, complaint: Complaint) -> None:
    if not permissions.can_edit_complaint(user, complaint):
        raise ActionForbidden(_("You may not reply to this complaint."))


class ReplyTemplateListView(ApiView):
    @extend_schema(
        operation_id="complaints_reply_templates_list",
        summary="The reply templates offered for the complaint",
        description=(
            "Active templates of its category (or an ancestor's, or every category's) in "
            "the customer's language (or any), the most specific first. For who may reply."
        ),
        responses={200: ReplyTemplateSerializer(many=True), **error_responses(404)},
        tags=["guidance"],
    )
    def get(self, request: Request, pk: int) -> Response:
        complaint = selectors.complaint_get_for_user(user=request.user, pk=pk)
        _may_reply(request.user, complaint)
        rows = reply_templates.reply_templates_for(complaint=complaint)
        return Response(ReplyTemplateSerializer(rows, many=True).data)


class ReplyTemplateRenderView(ApiView):
    @extend_schema(
        operation_id="complaints_reply_templates_render",
        summary="A template's text filled in for the complaint",
        description="To edit, then send with POST .../reply/. Nothing is sent here.",
        responses={200: RenderedReplySerializer, **error_responses(404)},
        tags=["guidance"],
    )
    def get(self, request: Request, pk: int, template_pk: int) -> Response:
        complaint = selectors.complaint_get_for_user(user=request.user, pk=pk)
        _may_reply(request.user, complaint)
        template = reply_templates.reply_template_get_for(complaint=complaint, pk=template_pk)
        text = reply_templates.reply_template_render(
            template=template, complaint=complaint, actor=request.user
        )
        return Response(RenderedReplySerializer({"template": template.pk, "text": text}).data)


class SimilarListView(ApiView):
    @extend_schema(
        operation_id="complaints_similar_list",
        summary="Resolved complaints like this one, the most similar first",
        description="Only complaints the caller may see, each with its resolution.",
        parameters=[
            OpenApiParameter(
                "limit",
                int,
                description=f"How many (1 to {SIMILAR_MAX}, default {SIMILAR_DEFAULT}).",
            )
        ],
        responses={200: SimilarSerializer(many=True), **error_responses(400, 404)},
        tags=["guidance"],
    )
    def get(self, request: Request, pk: int) -> Response:
        complaint = selectors.complaint_get_for_user(user=request.user, pk=pk)
        raw = request.query_params.get("limit") or str(SIMILAR_DEFAULT)
        if not raw.isdigit() or not 1 <= int(raw) <= SIMILAR_MAX:
            raise InvalidInput(
                fields={"limit": [_("A number from 1 to %(max)d.") % {"max": SIMILAR_MAX}]}
            )
        rows = similar.similar_resolved(complaint=complaint, user=request.user, limit=int(raw))
        response = Response(SimilarSerializer(rows, many=True).data)
        response["Cache-Control"] = "private, no-store"
        return response
