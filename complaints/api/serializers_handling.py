"""Output serializers of the handling aids: remedies, call-backs, improvement actions,
the SOP checklist, reply templates and similar complaints. Read-only, explicit
fields (see serializers.py)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy
from rest_framework import serializers

from complaints.api.serializers import ComplaintRefSerializer, TeamRefSerializer, UserRefSerializer
from complaints.models import (
    CallbackAttempt,
    CallbackTask,
    Complaint,
    ImprovementAction,
    Remedy,
    ReplyTemplate,
)
from complaints.selectors_remedies import currency

# --- Remedies -----------------------------------------------------------------------------


class RemedySerializer(serializers.ModelSerializer):
    complaint = ComplaintRefSerializer(read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    currency = serializers.SerializerMethodField()
    proposed_by = UserRefSerializer(read_only=True)
    decided_by = UserRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Remedy
        fields = [
            "id",
            "complaint",
            "kind",
            "kind_label",
            "amount",
            "currency",
            "description",
            "status",
            "status_label",
            "proposed_by",
            "proposed_at",
            "decided_by",
            "decided_at",
            "decision_reason",
        ]
        read_only_fields = fields

    def get_currency(self, obj: Remedy) -> str:
        return currency()


class ApprovalSerializer(RemedySerializer):
    proposer_limit = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        allow_null=True,
        read_only=True,
        help_text=gettext_lazy("The proposer's own limit for this type (null: no limit)."),
    )

    class Meta(RemedySerializer.Meta):
        fields = [*RemedySerializer.Meta.fields, "proposer_limit"]
        read_only_fields = fields


# --- Call-backs ---------------------------------------------------------------------------


class CallbackAttemptSerializer(serializers.ModelSerializer):
    actor = UserRefSerializer(read_only=True)

    class Meta:
        model = CallbackAttempt
        fields = ["id", "result", "note", "actor", "at"]
        read_only_fields = fields


class CallbackSerializer(serializers.ModelSerializer):
    complaint = ComplaintRefSerializer(read_only=True)
    assignee = UserRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = CallbackTask
        fields = [
            "id",
            "complaint",
            "cycle",
            "status",
            "outcome",
            "attempts",
            "assignee",
            "created_at",
            "next_attempt_at",
            "finished_at",
        ]
        read_only_fields = fields


class CallbackDetailSerializer(CallbackSerializer):
    attempt_log = CallbackAttemptSerializer(many=True, read_only=True)

    class Meta(CallbackSerializer.Meta):
        fields = [*CallbackSerializer.Meta.fields, "attempt_log"]
        read_only_fields = fields


# --- Improvement actions ------------------------------------------------------------------


class ImprovementSerializer(serializers.ModelSerializer):
    owner_team = TeamRefSerializer(read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = ImprovementAction
        fields = [
            "id",
            "title",
            "problem",
            "owner_team",
            "due_date",
            "status",
            "status_label",
            "outcome",
            "notify_customers",
            "created_at",
            "done_at",
            "verified_at",
        ]
        read_only_fields = fields


class StatusChangeSerializer(serializers.Serializer):
    at = serializers.DateTimeField(read_only=True)
    user = UserRefSerializer(read_only=True, allow_null=True)
    from_status = serializers.ChoiceField(
        choices=ImprovementAction.Status.choices, allow_null=True, read_only=True
    )
    to_status = serializers.ChoiceField(choices=ImprovementAction.Status.choices, read_only=True)
    reason = serializers.CharField(read_only=True)


class ImprovementDetailSerializer(ImprovementSerializer):
    created_by = UserRefSerializer(read_only=True)
    verified_by = UserRefSerializer(read_only=True, allow_null=True)
    complaints = ComplaintRefSerializer(
        many=True,
        read_only=True,
        source="visible_complaints",
        help_text=gettext_lazy("The linked complaints the caller may see."),
    )
    hidden_count = serializers.IntegerField(
        read_only=True, help_text=gettext_lazy("Linked complaints the caller may not see.")
    )
    changes = StatusChangeSerializer(many=True, read_only=True)
    allowed_statuses = serializers.ListField(
        child=serializers.ChoiceField(choices=ImprovementAction.Status.choices),
        read_only=True,
        help_text=gettext_lazy("The statuses the caller may move the action to now."),
    )

    class Meta(ImprovementSerializer.Meta):
        fields = [
            *ImprovementSerializer.Meta.fields,
            "customer_message",
            "customers_notified_at",
            "created_by",
            "verified_by",
            "complaints",
            "hidden_count",
            "changes",
            "allowed_statuses",
        ]
        read_only_fields = fields


# --- SOP checklist ------------------------------------------------------------------------


class SopSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(read_only=True)
    version = serializers.IntegerField(read_only=True)
    time_limit_hours = serializers.IntegerField(read_only=True, allow_null=True)
    standard_wording = serializers.CharField(read_only=True)
    allowed_remedies = serializers.ListField(child=serializers.CharField(), read_only=True)


class ChecklistStepSerializer(serializers.Serializer):
    number = serializers.IntegerField(read_only=True)
    text = serializers.CharField(read_only=True)
    done = serializers.BooleanField(read_only=True)
    by = UserRefSerializer(read_only=True, allow_null=True)
    at = serializers.DateTimeField(read_only=True, allow_null=True)


class ChecklistSerializer(serializers.Serializer):
    sop = SopSerializer(
        read_only=True,
        allow_null=True,
        help_text=gettext_lazy("The SOP version followed; null when none applies."),
    )
    steps = ChecklistStepSerializer(many=True, read_only=True)
    done_count = serializers.IntegerField(read_only=True)
    total = serializers.IntegerField(read_only=True)
    complete = serializers.BooleanField(read_only=True)
    due_at = serializers.DateTimeField(read_only=True, allow_null=True)


# --- Reply templates ----------------------------------------------------------------------


class ReplyTemplateSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReplyTemplate
        fields = ["id", "name", "category", "language", "body"]
        read_only_fields = fields


class RenderedReplySerializer(serializers.Serializer):
    template = serializers.IntegerField(read_only=True)
    text = serializers.CharField(
        read_only=True, help_text=gettext_lazy("The text to edit, then send as a reply.")
    )


# --- Similar complaints -------------------------------------------------------------------


class SimilarComplaintRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Complaint
        fields = [
            "id",
            "tracking_number",
            "title",
            "status",
            "resolution_summary",
            "root_cause",
            "remedy_decision",
            "resolved_at",
        ]
        read_only_fields = fields


class SimilarSerializer(serializers.Serializer):
    complaint = SimilarComplaintRefSerializer(read_only=True)
    score = serializers.FloatField(
        read_only=True, help_text=gettext_lazy("How alike, from 0 to 1.")
    )
