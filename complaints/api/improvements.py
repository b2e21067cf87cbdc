"""Improvement actions (纠正预防措施): list, detail, create, link and unlink a
complaint, change the status. Through complaints.services.improvements, which decides
who sees and may change what."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from complaints import selectors
from complaints.api import idempotency
from complaints.api.base import ApiView, Cursor, error_responses
from complaints.api.serializers_handling import (
    ImprovementDetailSerializer,
    ImprovementSerializer,
)
from complaints.errors import ActionForbidden, InvalidInput, NotFound
from complaints.models import ImprovementAction, Team
from complaints.services import improvements as services

Status = ImprovementAction.Status
# As many complaints as a queue page may select at once.
MAX_COMPLAINTS = 200


class ImprovementCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=services.TITLE_MAX)
    problem = serializers.CharField(max_length=services.TEXT_MAX)
    owner_team = serializers.IntegerField(help_text=gettext_lazy("An active team's id."))
    due_date = serializers.DateField()
    complaints = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        default=list,
        max_length=MAX_COMPLAINTS,
        help_text=gettext_lazy("Ids of complaints to link (each one the caller may see)."),
    )
    notify_customers = serializers.BooleanField(required=False, default=False)
    customer_message = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=services.TEXT_MAX
    )


class ImprovementLinkSerializer(serializers.Serializer):
    complaint = serializers.IntegerField()


class ImprovementStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Status.choices)
    outcome = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=services.TEXT_MAX,
        help_text=gettext_lazy("What was done: required for done."),
    )
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=services.TEXT_MAX,
        help_text=gettext_lazy("Why the verification failed: required from done back."),
    )


def _detail(request: Request, pk: int) -> dict[str, Any]:
    action = services.improvement_get_for_user(user=request.user, pk=pk)
    visible = list(
        selectors.complaints_visible_to(request.user)
        .filter(improvement_actions=action)
        .order_by("pk")
    )
    action.visible_complaints = visible
    action.hidden_count = action.complaints.count() - len(visible)
    action.changes = services.status_changes(action)
    action.allowed_statuses = services.allowed_statuses(request.user, action)
    return ImprovementDetailSerializer(action).data


def _team(pk: int) -> Team:
    team = services.owner_teams().filter(pk=pk).first()
    if team is None:
        raise InvalidInput(
            _("Choose an active team to own the action."),
            fields={"owner_team": [_("No such active team.")]},
        )
    return team


def _complaints(user: Any, ids: list[int]) -> list:
    """The complaints named, each visible to the caller; a 400 naming the field else
    (missing and forbidden alike)."""
    ids = list(dict.fromkeys(ids))
    found = {c.pk: c for c in selectors.complaints_visible_to(user).filter(pk__in=ids)}
    if len(found) != len(ids):
        raise InvalidInput(
            _("No such complaint, or you may not see it."),
            fields={"complaints": [_("No such complaint, or you may not see it.")]},
        )
    return [found[pk] for pk in ids]


class ImprovementCursor(Cursor):
    ordering = ("due_date", "pk")


class ImprovementListView(ApiView):
    pagination_class = ImprovementCursor

    @extend_schema(
        operation_id="improvements_list",
        summary="Improvement actions the caller may see, the earliest due first",
        parameters=[
            OpenApiParameter("status", str, enum=list(Status.values), description="Only this."),
            OpenApiParameter("owner_team", int, description="Only this owner team."),
            OpenApiParameter("overdue", bool, description="Only open ones past their date."),
        ],
        responses={200: ImprovementSerializer(many=True), **error_responses(400)},
        tags=["improvements"],
    )
    def get(self, request: Request) -> Response:
        rows = services.improvements_visible_to(request.user).select_related("owner_team")
        params = request.query_params
        errors: dict[str, list[str]] = {}
        if params.get("status"):
            if params["status"] in Status.values:
                rows = rows.filter(status=params["status"])
            else:
                errors["status"] = [_("Unknown status.")]
        if params.get("owner_team"):
            if params["owner_team"].isdigit():
                rows = rows.filter(owner_team_id=int(params["owner_team"]))
            else:
                errors["owner_team"] = [_("A team id.")]
        overdue = (params.get("overdue") or "").lower()
        if overdue not in ("", "true", "false"):
            errors["overdue"] = [_("Must be true or false.")]
        elif overdue == "true":
            rows = rows.filter(Q(status__in=services.OPEN_STATUSES, due_date__lt=services.today()))
        if errors:
            raise InvalidInput(_("Please correct the marked fields."), fields=errors)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(ImprovementSerializer(page, many=True).data)

    @extend_schema(
        operation_id="improvements_create",
        summary="Open an improvement action (agents and supervisors)",
        request=ImprovementCreateSerializer,
        parameters=idempotency.PARAMETERS,
        responses={
            201: ImprovementDetailSerializer,
            200: OpenApiResponse(ImprovementDetailSerializer, description="Replayed."),
            **error_responses(400, 409),
        },
        tags=["improvements"],
    )
    def post(self, request: Request) -> Response:
        def create() -> Response:
            serializer = ImprovementCreateSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = dict(serializer.validated_data)
            if not services.can_create(request.user):
                # Before looking at teams and complaints: nothing is revealed.
                raise ActionForbidden(
                    _("Only agents and supervisors may create improvement actions.")
                )
            data["owner_team"] = _team(data["owner_team"])
            data["complaints"] = _complaints(request.user, data["complaints"])
            action = services.improvement_create(actor=request.user, **data)
            return Response(_detail(request, action.pk), status=status.HTTP_201_CREATED)

        return idempotency.idempotent(request, create)


class ImprovementDetailView(ApiView):
    @extend_schema(
        operation_id="improvements_retrieve",
        summary="One improvement action, its linked complaints and status changes",
        responses={200: ImprovementDetailSerializer, **error_responses(404)},
        tags=["improvements"],
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(_detail(request, pk))


def _linkable(user: Any, pk: int) -> ImprovementAction:
    """An action the caller may link to: one they see, or any open one they may link."""
    action = (
        services.improvements_visible_to(user).filter(pk=pk).first()
        or services.improvements_open_for_linking(user).filter(pk=pk).first()
    )
    if action is None:
        raise NotFound(_("No such improvement action, or you may not see it."))
    return action


class ImprovementLinkView(ApiView):
    @extend_schema(
        operation_id="improvements_link",
        summary="Link a complaint to an open or in-progress action",
        description="Linking a complaint already linked changes nothing (200).",
        request=ImprovementLinkSerializer,
        responses={
            201: ImprovementDetailSerializer,
            200: OpenApiResponse(ImprovementDetailSerializer, description="Already linked."),
            **error_responses(400, 404, 409),
        },
        tags=["improvements"],
    )
    def post(self, request: Request, pk: int) -> Response:
        action = _linkable(request.user, pk)
        serializer = ImprovementLinkSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        complaint = selectors.complaint_get_for_user(
            user=request.user, pk=serializer.validated_data["complaint"]
        )
        linked = services.improvement_link(action=action, complaint=complaint, actor=request.user)
        return Response(
            _detail(request, action.pk),
            status=status.HTTP_201_CREATED if linked else status.HTTP_200_OK,
        )


class ImprovementUnlinkView(ApiView):
    @extend_schema(
        operation_id="improvements_unlink",
        summary="Take a complaint off an open or in-progress action",
        description="Unlinking a complaint not linked changes nothing.",
        responses={204: None, **error_responses(404, 409)},
        tags=["improvements"],
    )
    def delete(self, request: Request, pk: int, complaint_pk: int) -> Response:
        action = services.improvement_get_for_user(user=request.user, pk=pk)
        complaint = selectors.complaint_get_for_user(user=request.user, pk=complaint_pk)
        services.improvement_unlink(action=action, complaint=complaint, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ImprovementStatusView(ApiView):
    @extend_schema(
        operation_id="improvements_status",
        summary="Move the action's status",
        description=(
            "open → in_progress → done → verified, and done → in_progress when the "
            "verification fails. See `allowed_statuses` in the detail for the caller's."
        ),
        request=ImprovementStatusSerializer,
        responses={200: ImprovementDetailSerializer, **error_responses(400, 404, 409)},
        tags=["improvements"],
    )
    def post(self, request: Request, pk: int) -> Response:
        action = services.improvement_get_for_user(user=request.user, pk=pk)
        serializer = ImprovementStatusSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.improvement_set_status(
            action=action, actor=request.user, **serializer.validated_data
        )
        return Response(_detail(request, action.pk))
