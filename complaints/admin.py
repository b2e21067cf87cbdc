"""The Django admin: configuration, and a read-mostly view of complaints.

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
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin
from simple_history.models import DeletedObject
from simple_history.template_utils import HistoricalRecordContextHelper

from complaints import permissions, selectors
from complaints.errors import ServiceError
from complaints.forms import (
    TRANSITION_FIELDS,
    CategoryChoiceField,
    TransitionActionForm,
    category_paths,
)
from complaints.models import (
    Category,
    Complaint,
    ComplaintEvent,
    Customer,
    CustomerExternalId,
    Priority,
    Product,
    StatusChange,
    Team,
    TeamMembership,
    User,
)
from complaints.services.editing import EDITABLE_FIELDS, complaint_update
from complaints.services.transitions import complaint_transition
from complaints.workflow import TRANSITIONS, ComplaintStatus

# --- Shared pieces ------------------------------------------------------------------------


class HistoryAdmin(SimpleHistoryAdmin):
    """Field history to read, never to revert.

    simple_history's per-version page is a form that saves the old version on POST
    (whatever `revert_disabled` says), so it is refused outright and the history list
    does not link to it. A model without HistoricalRecords falls back to the
    admin's own change log.
    """

    object_history_list_template = "admin/simple_history/object_history_list.html"

    def __init__(self, model, admin_site):
        super().__init__(model, admin_site)
        self.has_field_history = _has_field_history(model)
        if not self.has_field_history:
            self.object_history_template = None

    def history_view(self, request, object_id, extra_context=None):
        if not self.has_field_history:
            return admin.ModelAdmin.history_view(self, request, object_id, extra_context)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        raise PermissionDenied

    def revert_disabled(self, request, obj=None) -> bool:
        return True

    def get_historical_record_context_helper(self, request, historical_record):
        return ReadableHistoryHelper(self.model, historical_record)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Category:
            kwargs.setdefault("form_class", CategoryChoiceField)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # The rows' category ("category"), or the rows themselves (""), whose full names
    # the list shows: their ancestors are attached from one query.
    category_relation: str | None = None

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        if self.category_relation is not None:
            rows = list(changelist.result_list)  # evaluated once, cached for the template
            attr = self.category_relation
            link_category_parents([getattr(row, attr) for row in rows] if attr else rows)
        return changelist


class ReadableHistoryHelper(HistoricalRecordContextHelper):
    """Shows choice labels, and an empty foreign key as empty.

    simple_history shows an empty foreign key as "Deleted <model> (pk=None)".
    """

    def prepare_delta_change_value(self, change, value):
        if isinstance(value, DeletedObject) and value.pk is None:
            return "—"
        field = self.model._meta.get_field(change.field)
        if field.choices and isinstance(value, str | int):
            return dict(field.flatchoices).get(value, value) if value != "" else "—"
        return super().prepare_delta_change_value(change, value)


def _has_field_history(model) -> bool:
    # Set by simple_history on every model it tracks.
    return hasattr(model._meta, "simple_history_manager_attribute")


def link_category_parents(categories: list[Category | None]) -> None:
    """Attach every ancestor of `categories` from one query.

    Category.__str__ (full_name) walks the parents one query each; a list of many
    categories would do that per row.
    """
    nodes = {node.pk: node for node in Category.objects.only("pk", "parent_id", "name")}
    for node in [*nodes.values(), *categories]:
        if node is not None and node.parent_id in nodes:
            node.parent = nodes[node.parent_id]


class CategoryTreeFilter(admin.RelatedFieldListFilter):
    """Filter by category, labelled with full names from one query."""

    def field_choices(self, field, request, model_admin):
        paths = category_paths()
        return sorted(paths.items(), key=lambda item: item[1])


class ReadOnlyAdminMixin:
    """View only, for everybody (superusers included)."""

    def get_queryset(self, request):
        # The logs of the complaints this user may see (everything, for supervisors).
        qs = super().get_queryset(request)
        if permissions.visibility_filter(request.user) is None:
            return qs
        return qs.filter(complaint__in=selectors.complaints_visible_to(request.user))

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# --- People and teams -------------------------------------------------------------------------


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


# --- Catalogue ------------------------------------------------------------------------------


@admin.register(Category)
class CategoryAdmin(HistoryAdmin):
    list_display = ("full_name_column", "code", "parent", "default_team", "is_active", "sort_order")
    list_filter = ("is_active", ("parent", CategoryTreeFilter), "default_team")
    list_select_related = ("default_team",)
    search_fields = ("name", "code")
    category_relation = ""

    @admin.display(description=_("full name"), ordering="name")
    def full_name_column(self, obj: Category) -> str:
        return obj.full_name


@admin.register(Product)
class ProductAdmin(HistoryAdmin):
    list_display = ("name", "sku", "category", "is_active")
    list_filter = ("is_active", ("category", CategoryTreeFilter))
    list_select_related = ("category",)
    category_relation = "category"
    search_fields = ("name", "sku")


@admin.register(Priority)
class PriorityAdmin(HistoryAdmin):
    list_display = ("code", "level", "name", "color")
    list_filter = ("level",)
    search_fields = ("code", "name")


class CustomerExternalIdInline(admin.TabularInline):
    model = CustomerExternalId
    extra = 0


@admin.register(Customer)
class CustomerAdmin(HistoryAdmin):
    list_display = ("__str__", "name", "phone", "email", "tier", "language", "created_at")
    list_filter = ("tier", "language")
    search_fields = ("name", "phone", "email", "external_ids__value")
    inlines = (CustomerExternalIdInline,)


# --- The explicit logs: read only ------------------------------------------------------------------


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


# Registrations that live in their own modules (imported for their side effect).
from complaints import admin_escalation, admin_sla, admin_triage  # noqa: E402, F401
