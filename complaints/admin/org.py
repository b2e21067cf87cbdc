"""Admin of people and teams: users (with the Admin role's limits on superusers),
teams and their memberships.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from complaints.admin.base import HistoryAdmin
from complaints.models import Team, TeamMembership, User


@admin.register(User)
class UserAdmin(HistoryAdmin, BaseUserAdmin):
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (_("Back office"), {"fields": ("display_name", "language", "is_away")}),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        (_("Back office"), {"fields": ("display_name", "email", "language")}),
    )
    list_display = (
        "username",
        "display_name",
        "email",
        "language",
        "is_away",
        "is_active",
        "is_staff",
    )
    list_filter = ("is_active", "is_away", "is_staff", "is_superuser", "language", "groups")
    search_fields = ("username", "display_name", "first_name", "last_name", "email")

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # The Admin role manages people and roles, but may not mint superusers
            # or hand out permissions that bypass the roles.
            fields += ["is_superuser", "user_permissions"]
        return fields

    def _guards_superuser(self, request, obj) -> bool:
        # Changing a superuser's password or roles would be a way to become one.
        return obj is not None and obj.is_superuser and not request.user.is_superuser

    def has_change_permission(self, request, obj=None) -> bool:
        if self._guards_superuser(request, obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        if self._guards_superuser(request, obj):
            return False
        return super().has_delete_permission(request, obj)


class TeamMembershipInline(admin.TabularInline):
    model = TeamMembership
    extra = 0
    fields = ("user", "joined_at")
    readonly_fields = ("joined_at",)
    autocomplete_fields = ("user",)


@admin.register(Team)
class TeamAdmin(HistoryAdmin):
    list_display = ("name", "code", "kind", "supervisor", "assignment_strategy", "is_active")
    list_filter = ("kind", "assignment_strategy", "is_active")
    list_select_related = ("supervisor",)
    search_fields = ("name", "code")
    autocomplete_fields = ("supervisor",)
    inlines = (TeamMembershipInline,)


@admin.register(TeamMembership)
class TeamMembershipAdmin(HistoryAdmin):
    list_display = ("user", "team", "joined_at")
    list_filter = ("team",)
    list_select_related = ("user", "team")
    search_fields = ("user__username", "user__display_name", "team__name", "team__code")
    autocomplete_fields = ("user", "team")
