"""Workbench screens around the queues: recording phone and in-store complaints,
notifications, workload, bulk actions and saved filters.

The screens live in submodules: ``forms`` (the forms and the bulk actions offered),
``recording``, ``notifications``, ``workload``, ``bulk`` and ``saved_filters``.
"""

from django.urls import path

from complaints.views.workbench import bulk, notifications, recording, saved_filters, workload
from complaints.views.workbench.forms import BULK_ACTIONS, MAX_SAVED_FILTERS
from complaints.views.workbench.recording import _TOKENS, record

__all__ = ["BULK_ACTIONS", "MAX_SAVED_FILTERS", "_TOKENS", "record", "urlpatterns"]

urlpatterns = [
    path("complaints/new/", record, name="staff-record"),
    path("complaints/new/lookup/", recording.record_lookup, name="staff-record-lookup"),
    path("notifications/", notifications.notifications, name="staff-notifications"),
    path(
        "notifications/read/",
        notifications.notifications_read_all,
        name="staff-notifications-read",
    ),
    path(
        "notifications/<int:pk>/open/",
        notifications.notification_open,
        name="staff-notification-open",
    ),
    path("workload/", workload.workload, name="staff-workload"),
    path("bulk/", bulk.bulk_action, name="staff-bulk"),
    path("bulk/assignees/", bulk.bulk_assignees, name="staff-bulk-assignees"),
    path("saved-filters/", saved_filters.saved_filter_create, name="staff-saved-filter-create"),
    path(
        "saved-filters/<int:pk>/delete/",
        saved_filters.saved_filter_delete,
        name="staff-saved-filter-delete",
    ),
]
