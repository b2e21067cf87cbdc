"""Admin registrations of escalations, the escalation ladder and collaboration
requests (imported by complaints/admin/__init__.py).

Escalations and collaboration requests are written by their services: here they are
read (with their field history); the only write is the "acknowledge" action, which
calls the service. Settling needs a text: the Escalations screen does it. The
ladder (EscalationStep) is configuration and editable.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from complaints.admin.base import HistoryAdmin, ReadOnlyAdminMixin
from complaints.errors import ServiceError
from complaints.models import CollaborationRequest, Escalation, EscalationStep
from complaints.services import escalation as escalation_services


class _ReadOnlyHistoryAdmin(ReadOnlyAdminMixin, HistoryAdmin):
    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.concrete_fields]


@admin.register(Escalation)
class EscalationAdmin(_ReadOnlyHistoryAdmin):
    list_display = (
        "opened_at",
        "complaint",
        "reason",
        "level",
        "climb_at",
        "acknowledged_at",
        "settled_at",
    )
    list_filter = ("reason", "level", ("settled_at", admin.EmptyFieldListFilter), "opened_at")
    list_select_related = ("complaint",)
    search_fields = ("complaint__tracking_number", "note", "settlement")
    date_hierarchy = "opened_at"
    actions = ("acknowledge",)

    def has_acknowledge_permission(self, request) -> bool:
        return escalation_services.can_manage_escalations(request.user)

    @admin.action(
        description=_("Acknowledge the selected escalations"), permissions=["acknowledge"]
    )
    def acknowledge(self, request, queryset):
        done = 0
        for escalation in queryset.filter(settled_at__isnull=True, acknowledged_at__isnull=True):
            try:
                escalation_services.escalation_acknowledge(
                    escalation=escalation, actor=request.user
                )
            except ServiceError as err:
                self.message_user(request, f"{escalation}: {err}", messages.ERROR)
            else:
                done += 1
        self.message_user(
            request,
            ngettext(
                "%(count)d escalation acknowledged.", "%(count)d escalations acknowledged.", done
            )
            % {"count": done},
            messages.SUCCESS,
        )


@admin.register(EscalationStep)
class EscalationStepAdmin(HistoryAdmin):
    list_display = ("priority", "level", "climb_after_minutes")
    list_filter = ("priority", "level")
    list_select_related = ("priority",)


@admin.register(CollaborationRequest)
class CollaborationRequestAdmin(_ReadOnlyHistoryAdmin):
    list_display = ("asked_at", "complaint", "department", "status", "due_at", "overdue_at")
    list_filter = ("status", "department", ("overdue_at", admin.EmptyFieldListFilter))
    list_select_related = ("complaint", "department")
    search_fields = ("complaint__tracking_number", "question", "answer")
    date_hierarchy = "asked_at"
