"""Output serializers of the API: explicit fields, so the OpenAPI schema stays true.
Every field is read-only here; writes have their own input serializers beside their
views. Users appear by id, username and display name only."""

from __future__ import annotations

from django.urls import reverse
from rest_framework import serializers

from complaints.models import (
    Attachment,
    Category,
    CollaborationRequest,
    Complaint,
    ComplaintEvent,
    Customer,
    Escalation,
    Priority,
    Product,
    SurveyResponse,
    Team,
    User,
)


class UserRefSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="__str__", read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "name"]
        read_only_fields = fields


class TeamSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "name", "code", "kind", "is_active"]
        read_only_fields = fields


class TeamRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "name", "code"]
        read_only_fields = fields


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "code", "parent", "default_team", "is_active", "sort_order"]
        read_only_fields = fields


class CategoryRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "code"]
        read_only_fields = fields


class ProductSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["id", "name", "sku", "category", "is_active"]
        read_only_fields = fields


class ProductRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["id", "name", "sku"]
        read_only_fields = fields


class PrioritySerializer(serializers.ModelSerializer):
    class Meta:
        model = Priority
        fields = ["id", "code", "level", "name", "color"]
        read_only_fields = fields


class CustomerRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "name", "tier"]
        read_only_fields = fields


class ComplaintRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Complaint
        fields = ["id", "tracking_number"]
        read_only_fields = fields


class ComplaintListSerializer(serializers.ModelSerializer):
    """A queue row: what a list needs, from one query with its joins."""

    status_label = serializers.CharField(source="get_status_display", read_only=True)
    customer = CustomerRefSerializer(read_only=True)
    category = CategoryRefSerializer(read_only=True, allow_null=True)
    product = ProductRefSerializer(read_only=True, allow_null=True)
    priority = PrioritySerializer(read_only=True, allow_null=True)
    team = TeamRefSerializer(read_only=True, allow_null=True)
    assignee = UserRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Complaint
        fields = [
            "id",
            "tracking_number",
            "title",
            "status",
            "status_label",
            "channel",
            "demand",
            "customer",
            "category",
            "product",
            "priority",
            "team",
            "assignee",
            "escalation_level",
            "received_at",
            "response_due_at",
            "resolution_due_at",
            "updated_at",
            "version",
        ]
        read_only_fields = fields


class ComplaintDetailSerializer(ComplaintListSerializer):
    merged_into = ComplaintRefSerializer(read_only=True, allow_null=True)

    class Meta(ComplaintListSerializer.Meta):
        fields = [
            *ComplaintListSerializer.Meta.fields,
            "description",
            "demand_detail",
            "order_number",
            "language",
            "status_reason",
            "resolution_summary",
            "root_cause",
            "remedy_decision",
            "recourse",
            "customer_notified_at",
            "loop_outcome",
            "merged_into",
            "repeat_of",
            "reopen_count",
            "first_response_at",
            "awaiting_since",
            "resolved_at",
            "closed_at",
            "created_at",
        ]
        read_only_fields = fields


class AttachmentSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = [
            "id",
            "complaint",
            "event",
            "original_name",
            "content_type",
            "size",
            "sha256",
            "is_internal",
            "created_at",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, obj: Attachment) -> str:
        return reverse("api:attachment-download", args=[obj.pk])


class EventSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    actor = UserRefSerializer(read_only=True, allow_null=True)
    attachments = AttachmentSerializer(many=True, read_only=True)
    data = serializers.JSONField(read_only=True)

    class Meta:
        model = ComplaintEvent
        fields = [
            "id",
            "complaint",
            "kind",
            "kind_label",
            "actor",
            "is_internal",
            "body",
            "data",
            "created_at",
            "attachments",
        ]
        read_only_fields = fields


class ExternalIdSerializer(serializers.Serializer):
    system = serializers.CharField(read_only=True)
    value = serializers.CharField(read_only=True)


class CustomerSerializer(serializers.ModelSerializer):
    external_ids = ExternalIdSerializer(many=True, read_only=True)

    class Meta:
        model = Customer
        fields = [
            "id",
            "name",
            "phone",
            "email",
            "tier",
            "language",
            "created_at",
            "merged_into",
            "external_ids",
        ]
        read_only_fields = fields


class CollaborationRequestSerializer(serializers.ModelSerializer):
    complaint = ComplaintRefSerializer(read_only=True)
    department = TeamRefSerializer(read_only=True)
    asked_by = UserRefSerializer(read_only=True)
    answered_by = UserRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = CollaborationRequest
        fields = [
            "id",
            "complaint",
            "department",
            "question",
            "asked_by",
            "asked_at",
            "due_at",
            "status",
            "answer",
            "answered_by",
            "answered_at",
            "overdue_at",
            "version",
        ]
        read_only_fields = fields


class EscalationSerializer(serializers.ModelSerializer):
    complaint = ComplaintRefSerializer(read_only=True)
    opened_by = UserRefSerializer(read_only=True, allow_null=True)
    acknowledged_by = UserRefSerializer(read_only=True, allow_null=True)
    settled_by = UserRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Escalation
        fields = [
            "id",
            "complaint",
            "reason",
            "level",
            "note",
            "opened_at",
            "opened_by",
            "climb_at",
            "acknowledged_at",
            "acknowledged_by",
            "settled_at",
            "settled_by",
            "settlement",
        ]
        read_only_fields = fields


class SurveyResponseSerializer(serializers.ModelSerializer):
    class Meta:
        model = SurveyResponse
        fields = ["id", "complaint", "cycle", "rating", "solved", "comment", "answered_at"]
        read_only_fields = fields
