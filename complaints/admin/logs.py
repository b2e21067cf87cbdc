"""Read-only admins of the explicit logs: status changes and timeline events, each
limited to the complaints the user may see.
"""

from __future__ import annotations

from django.contrib import admin

from complaints.admin.base import ReadOnlyAdminMixin
from complaints.admin.complaints import StatusChangeInline
from complaints.models import ComplaintEvent, StatusChange, SurveyResponse


@admin.register(StatusChange)
class StatusChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "complaint", "transition", "from_label", "to_label", "actor")
    list_filter = ("transition", "to_status", "created_at")
    list_select_related = ("complaint", "actor")
    search_fields = ("complaint__tracking_number", "reason")
    date_hierarchy = "created_at"

    from_label = StatusChangeInline.from_label
    to_label = StatusChangeInline.to_label


@admin.register(ComplaintEvent)
class ComplaintEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "complaint", "kind", "actor", "is_internal")
    list_filter = ("kind", "is_internal", "created_at")
    list_select_related = ("complaint", "actor")
    search_fields = ("complaint__tracking_number", "body")
    date_hierarchy = "created_at"


@admin.register(SurveyResponse)
class SurveyResponseAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("answered_at", "complaint", "cycle", "rating", "solved")
    list_filter = ("rating", "solved", "answered_at")
    list_select_related = ("complaint",)
    search_fields = ("complaint__tracking_number", "comment")
    date_hierarchy = "answered_at"
