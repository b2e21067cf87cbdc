"""Admin registration of improvement actions (纠正预防措施) (imported by
complaints/admin/__init__.py).

Read only, with the linked complaints and the field history: actions are created,
linked and moved through their statuses on the Improvement actions screens, through
complaints.services.improvements.
"""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from complaints.admin.base import HistoryAdmin, ReadOnlyAdminMixin
from complaints.models import ImprovementAction
from complaints.services import improvements

# The change page lists at most this many linked complaints.
LINKED_SHOWN = 200


@admin.register(ImprovementAction)
class ImprovementActionAdmin(ReadOnlyAdminMixin, HistoryAdmin):
    list_display = (
        "title",
        "owner_team",
        "status",
        "due_date",
        "created_by",
        "created_at",
        "done_at",
        "verified_at",
    )
    list_filter = ("status", "owner_team", "notify_customers", "due_date")
    list_select_related = ("owner_team", "created_by")
    search_fields = ("title", "problem", "outcome", "complaints__tracking_number")
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        # The actions this user may see (the mixin's filter is for complaint logs).
        qs = HistoryAdmin.get_queryset(self, request)
        return qs.filter(pk__in=improvements.improvements_visible_to(request.user).values("pk"))

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.concrete_fields] + ["linked_complaints"]

    def get_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.concrete_fields if f.name != "id"] + [
            "linked_complaints"
        ]

    @admin.display(description=_("linked complaints"))
    def linked_complaints(self, obj: ImprovementAction) -> str:
        complaints = obj.complaints.order_by("pk").only("pk", "tracking_number", "title")
        rows = [
            (reverse("admin:complaints_complaint_change", args=[c.pk]), c.tracking_number, c.title)
            for c in complaints[:LINKED_SHOWN]
        ]
        if not rows:
            return "—"
        return format_html(
            "<ul>{}</ul>",
            format_html_join("", '<li><a href="{}">{}</a> {}</li>', rows),
        )
