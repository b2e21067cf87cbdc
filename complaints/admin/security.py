"""The access log in the admin: read only, and only for admins (it records who
signed in from where, and who was refused what)."""

from __future__ import annotations

from django.contrib import admin

from complaints import roles
from complaints.models import AccessLog


@admin.register(AccessLog)
class AccessLogAdmin(admin.ModelAdmin):
    list_display = ("at", "event", "username", "user", "ip", "path", "target")
    list_filter = ("event", "at")
    list_select_related = ("user",)
    search_fields = ("username", "ip", "path", "target")
    date_hierarchy = "at"
    readonly_fields = ("at", "event", "user", "username", "ip", "path", "target", "detail")

    def has_module_permission(self, request) -> bool:
        return roles.is_admin(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return roles.is_admin(request.user)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
