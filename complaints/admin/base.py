"""Shared admin pieces: the history admin that refuses revert, the read-only mixin
for the logs, and the category tree filter.

Every other module of complaints.admin builds on these.
"""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from simple_history.admin import SimpleHistoryAdmin
from simple_history.models import DeletedObject
from simple_history.template_utils import HistoricalRecordContextHelper

from complaints import permissions, selectors
from complaints.config_choices import CategoryChoiceField, category_paths
from complaints.models import Category


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
