"""The Django admin: configuration, and a read-mostly view of complaints.

Django's autodiscovery imports this package; importing the modules below registers
their models with the admin site.

    base        shared pieces: HistoryAdmin (field history, never reverted),
                ReadOnlyAdminMixin, CategoryTreeFilter
    org         users, teams, team memberships
    catalog     categories, products, priorities, customers
    complaints  the complaint admin, its log inlines and transition actions
    logs        status changes and timeline events, read only
    escalation  escalations, the escalation ladder, collaboration requests
    sla         business calendars, SLA policies, SLA crossings
    triage      keyword rules (and their "try it" page), priority grid, routing, proposals
    guidance    SOPs (versioned) and reply templates
    remedy      authority limits; remedies, read only
    callback    call-backs and their attempts, read only
    improvement improvement actions, read only
    webhooks    webhook endpoints and their delivery log
    security    the access log, read only, admins only
"""

from complaints.admin import (  # noqa: F401 — imported to register their models
    callback,
    catalog,
    complaints,
    escalation,
    guidance,
    improvement,
    logs,
    org,
    remedy,
    security,
    sla,
    triage,
    webhooks,
)
from complaints.admin.base import (
    CategoryTreeFilter,
    HistoryAdmin,
    ReadableHistoryHelper,
    ReadOnlyAdminMixin,
    link_category_parents,
)

__all__ = [
    "CategoryTreeFilter",
    "HistoryAdmin",
    "ReadOnlyAdminMixin",
    "ReadableHistoryHelper",
    "link_category_parents",
]
