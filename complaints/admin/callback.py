"""Admin registration of call-backs (回访) with their attempts (imported by
complaints/admin/__init__.py).

Read only: call-backs are opened by the periodic sweep and recorded on the
Call-backs screen, through complaints.services.callbacks.
"""

from __future__ import annotations

from django.contrib import admin

from complaints.admin.base import HistoryAdmin, ReadOnlyAdminMixin
from complaints.models import CallbackAttempt, CallbackTask


class CallbackAttemptInline(admin.TabularInline):
    model = CallbackAttempt
    fields = ("at", "result", "actor", "note")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CallbackTask)
class CallbackTaskAdmin(ReadOnlyAdminMixin, HistoryAdmin):
    list_display = (
        "created_at",
        "complaint",
        "cycle",
        "status",
        "outcome",
        "attempts",
        "next_attempt_at",
        "assignee",
        "finished_at",
    )
    list_filter = ("status", "outcome", "created_at")
    list_select_related = ("complaint", "assignee")
    search_fields = ("complaint__tracking_number", "attempt_log__note")
    date_hierarchy = "created_at"
    inlines = (CallbackAttemptInline,)

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.concrete_fields]
