"""Admin registrations of authority limits (configuration, editable by admins) and
remedies (read only: they are proposed, decided, delivered and cancelled through
complaints.services.remedies, from the complaint page and the Approvals screen)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from complaints.admin.base import HistoryAdmin, ReadOnlyAdminMixin
from complaints.models import AuthorityLimit, Remedy
from complaints.services.remedies import format_amount


@admin.register(AuthorityLimit)
class AuthorityLimitAdmin(HistoryAdmin):
    list_display = ("role", "kind", "max_amount_display")
    list_filter = ("role", "kind")
    ordering = ("role", "kind")
    fieldsets = (
        (
            None,
            {
                "fields": ("role", "kind", "max_amount"),
                "description": _(
                    "The largest amount a role may grant for a type of remedy without "
                    "approval; above it the remedy waits for a supervisor. No limit for "
                    "agents: every amount above zero needs approval. No limit for "
                    "supervisors: they may grant any amount. A person with several roles "
                    "gets the most generous limit; admins count as supervisors."
                ),
            },
        ),
    )

    @admin.display(description=_("largest amount"), ordering="max_amount")
    def max_amount_display(self, obj: AuthorityLimit) -> str:
        return format_amount(obj.max_amount)


@admin.register(Remedy)
class RemedyAdmin(ReadOnlyAdminMixin, HistoryAdmin):
    list_display = (
        "proposed_at",
        "complaint",
        "kind",
        "amount_display",
        "status",
        "proposed_by",
        "decided_by",
    )
    list_filter = ("status", "kind", "proposed_at")
    list_select_related = ("complaint", "proposed_by", "decided_by")
    search_fields = ("complaint__tracking_number", "description", "decision_reason")
    date_hierarchy = "proposed_at"

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.concrete_fields]

    @admin.display(description=_("amount"), ordering="amount")
    def amount_display(self, obj: Remedy) -> str:
        return format_amount(obj.amount)
