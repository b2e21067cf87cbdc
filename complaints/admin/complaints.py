"""The complaint admin: a read-mostly view of complaints, with their status log and
timeline as inlines, and admin actions for the transitions.

A complaint's status and bookkeeping are read-only here. Field edits go through
services.editing.complaint_update and status changes through the transition
services, exactly as on the staff screens (STYLE.md, "Admin actions … call the
same services"). The explicit logs and the field history are never edited.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from complaints import permissions, selectors
from complaints.admin.base import CategoryTreeFilter, HistoryAdmin, ReadOnlyAdminMixin
from complaints.errors import ServiceError
from complaints.forms import TRANSITION_FIELDS, TransitionActionForm
from complaints.models import Complaint, ComplaintEvent, StatusChange
from complaints.services.editing import EDITABLE_FIELDS, complaint_update
from complaints.services.transitions import complaint_transition
from complaints.workflow import TRANSITIONS, ComplaintStatus

# --- The complaint's logs, as inlines: read only ----------------------------------------------


def _status_label(value: str) -> str:
    if not value:
        return "∅"
    return str(ComplaintStatus(value).label) if value in ComplaintStatus.values else value


class StatusChangeInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = StatusChange
    extra = 0
    can_delete = False
    fields = ("created_at", "transition", "from_label", "to_label", "actor", "reason")
    readonly_fields = fields
    ordering = ("created_at", "pk")

    @admin.display(description=_("from"))
    def from_label(self, obj: StatusChange) -> str:
        return _status_label(obj.from_status)

    @admin.display(description=_("to"))
    def to_label(self, obj: StatusChange) -> str:
        return _status_label(obj.to_status)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


class ComplaintEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ComplaintEvent
    extra = 0
    can_delete = False
    fields = ("created_at", "kind", "actor", "is_internal", "body")
    readonly_fields = fields
    ordering = ("created_at", "pk")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


# --- Complaints -----------------------------------------------------------------------------------


class ComplaintAdminForm(forms.ModelForm):
    # The version the user saw: a save over someone else's change is refused
    # (services.base.locked), instead of silently overwriting it.
    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    change_reason = forms.CharField(
        label=_("Reason for the change"),
        required=False,
        max_length=500,
        help_text=_("Recorded in the history and the timeline."),
    )

    class Meta:
        model = Complaint
        fields = sorted(EDITABLE_FIELDS)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["expected_version"].initial = self.instance.version


# Everything but the fields services.editing lets staff change: status, ownership,
# resolution, counters, timestamps, version (the fieldsets below set the order).
_READ_ONLY_FIELDS = tuple(
    f.name for f in Complaint._meta.concrete_fields if f.name not in {*EDITABLE_FIELDS, "id"}
)


def _transition_action(name: str):
    """An admin action applying one transition (with a page for its inputs if any)."""
    rule = TRANSITIONS[name]

    def action(modeladmin: ComplaintAdmin, request, queryset):
        return modeladmin.transition_action(request, queryset, name)

    action.__name__ = f"transition_{name}"
    action.allowed_permissions = ("change",)
    asks = any(TRANSITION_FIELDS[name])
    action.short_description = format_lazy("{}…", rule.label) if asks else rule.label
    return action


def _transition_table() -> list[dict[str, Any]]:
    """What the generic transition page shows as a reminder of the rules."""
    return [
        {
            "label": rule.label,
            "sources": ", ".join(str(ComplaintStatus(s).label) for s in rule.sources),
            "target": ComplaintStatus(rule.target).label,
            "who": rule.who,
        }
        for rule in TRANSITIONS.values()
    ]


# One action for each transition that needs nothing beyond a reason; the rest go
# through "Apply a transition…".
_SIMPLE_TRANSITIONS = [
    name for name in TRANSITIONS if set(TRANSITION_FIELDS[name][0]) <= {"reason"}
]


@admin.register(Complaint)
class ComplaintAdmin(HistoryAdmin):
    form = ComplaintAdminForm
    list_display = (
        "tracking_number",
        "title",
        "status",
        "priority",
        "category",
        "team",
        "assignee",
        "channel",
        "received_at",
    )
    list_display_links = ("tracking_number", "title")
    list_filter = (
        "status",
        "channel",
        "demand",
        "priority",
        ("category", CategoryTreeFilter),
        "team",
        ("assignee", admin.RelatedOnlyFieldListFilter),
        "received_at",
    )
    list_select_related = ("priority", "category", "team", "assignee")
    category_relation = "category"
    search_fields = (
        "tracking_number",
        "title",
        "customer__phone",
        "customer__email",
        "customer__name",
    )
    readonly_fields = _READ_ONLY_FIELDS
    fieldsets = (
        (None, {"fields": ("tracking_number", "status", "status_reason", "customer")}),
        (
            _("Complaint"),
            {
                "fields": (
                    "title",
                    "description",
                    "demand",
                    "demand_detail",
                    "order_number",
                    "channel",
                    "language",
                )
            },
        ),
        (_("Classification"), {"fields": ("category", "product", "priority")}),
        (_("Ownership"), {"fields": ("team", "assignee", "escalation_level")}),
        (
            _("Resolution"),
            {
                "fields": (
                    "resolution_summary",
                    "root_cause",
                    "remedy_decision",
                    "recourse",
                    "merged_into",
                    "reopen_count",
                )
            },
        ),
        (
            _("Times"),
            {
                "classes": ("collapse",),
                "fields": (
                    "received_at",
                    "first_response_at",
                    "awaiting_since",
                    "resolved_at",
                    "closed_at",
                    "created_at",
                    "updated_at",
                    "version",
                ),
            },
        ),
        (_("Save"), {"fields": ("change_reason", "expected_version")}),
    )
    inlines = (StatusChangeInline, ComplaintEventInline)
    actions = [
        "apply_transition",
        *(_transition_action(name) for name in _SIMPLE_TRANSITIONS),
    ]

    def get_queryset(self, request):
        qs = selectors.complaints_visible_to(request.user)
        ordering = self.get_ordering(request)
        return qs.order_by(*ordering) if ordering else qs

    # Intake goes through the public form, email and the API; tracking numbers are
    # never reused and history is never deleted.
    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and not permissions.can_edit_complaint(request.user, obj):
            return False
        return super().has_change_permission(request, obj)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if not self.has_change_permission(request, obj):
            # View only: no reason to give, no version to carry.
            return [fs for fs in fieldsets if "change_reason" not in fs[1]["fields"]]
        return fieldsets

    # --- Editing fields through the service ---------------------------------------------------

    def save_model(self, request, obj, form, change):
        changes = {
            name: form.cleaned_data[name] for name in form.changed_data if name in EDITABLE_FIELDS
        }
        if not changes:
            return
        # `obj` already carries the submitted values; the service compares against
        # the stored row, checked against the version the user saw.
        current = Complaint.objects.get(pk=obj.pk)
        expected = form.cleaned_data.get("expected_version")
        if expected is not None:
            current.version = expected
        try:
            complaint_update(
                complaint=current,
                actor=request.user,
                reason=form.cleaned_data.get("change_reason", ""),
                **changes,
            )
        except ServiceError as err:
            request._complaint_save_failed = True
            self.message_user(request, str(err), messages.ERROR)

    def log_change(self, request, obj, message):
        if getattr(request, "_complaint_save_failed", False):
            return None
        return super().log_change(request, obj, message)

    def response_change(self, request, obj):
        if getattr(request, "_complaint_save_failed", False):
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

    # --- Transitions -------------------------------------------------------------------------------

    @admin.action(description=_("Apply a transition…"), permissions=["change"])
    def apply_transition(self, request, queryset):
        return self.transition_action(request, queryset, None)

    def transition_action(self, request, queryset, name: str | None):
        """Ask for the transition's inputs if it has any, then apply it to each complaint."""
        action_name = f"transition_{name}" if name else "apply_transition"
        if name is not None and not any(TRANSITION_FIELDS[name]):
            self._apply(request, queryset, name, {})
            return None
        if "apply" in request.POST:
            form = TransitionActionForm(request.POST, actor=request.user, transition=name)
            if form.is_valid():
                self._apply(
                    request, queryset, form.cleaned_data["transition"], form.service_inputs()
                )
                return None
        else:
            form = TransitionActionForm(actor=request.user, transition=name)
        complaints = list(queryset.select_related("assignee"))
        context = {
            **self.admin_site.each_context(request),
            "title": TRANSITIONS[name].label if name else _("Apply a transition"),
            "opts": self.model._meta,
            "form": form,
            "complaints": complaints,
            "action_name": action_name,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "transitions": [] if name else _transition_table(),
            "media": self.media + form.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/complaints/complaint/transition.html", context)

    def _apply(self, request, queryset, name: str, inputs: dict[str, Any]) -> None:
        label = TRANSITIONS[name].label
        # Fetched before the first change; each complaint is its own transaction.
        for complaint in list(queryset.select_related("team", "assignee", "merged_into")):
            try:
                complaint_transition(complaint=complaint, actor=request.user, name=name, **inputs)
            except ServiceError as err:
                self.message_user(
                    request,
                    _("%(number)s: %(error)s")
                    % {"number": complaint.tracking_number, "error": err},
                    messages.ERROR,
                )
            else:
                self.message_user(
                    request,
                    _("%(number)s: “%(action)s” done, now “%(status)s”.")
                    % {
                        "number": complaint.tracking_number,
                        "action": label,
                        "status": complaint.get_status_display(),
                    },
                    messages.SUCCESS,
                )
