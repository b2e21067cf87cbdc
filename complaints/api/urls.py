from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView

from complaints.api import (
    base,
    callbacks,
    complaints,
    config,
    docs,
    guidance,
    improvements,
    intake,
    related,
    remedies,
    timeline,
)

app_name = "api"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", docs.ApiDocsView.as_view(), name="docs"),
    path("intake/", intake.IntakeView.as_view(), name="intake"),
    # Complaints and what hangs on them
    path("complaints/", complaints.ComplaintListView.as_view(), name="complaint-list"),
    path("complaints/<int:pk>/", complaints.ComplaintDetailView.as_view(), name="complaint-detail"),
    path(
        "complaints/<int:pk>/transitions/",
        complaints.TransitionListView.as_view(),
        name="complaint-transitions",
    ),
    path(
        "complaints/<int:pk>/transitions/<slug:name>/",
        complaints.TransitionView.as_view(),
        name="complaint-transition",
    ),
    path("complaints/<int:pk>/events/", timeline.EventListView.as_view(), name="complaint-events"),
    path("complaints/<int:pk>/reply/", timeline.ReplyView.as_view(), name="complaint-reply"),
    path("complaints/<int:pk>/note/", timeline.NoteView.as_view(), name="complaint-note"),
    path(
        "complaints/<int:pk>/attachments/",
        timeline.AttachmentListView.as_view(),
        name="complaint-attachments",
    ),
    path(
        "complaints/<int:pk>/collaboration-requests/",
        related.ComplaintCollaborationView.as_view(),
        name="complaint-collaboration",
    ),
    path(
        "complaints/<int:pk>/escalations/",
        related.ComplaintEscalationView.as_view(),
        name="complaint-escalations",
    ),
    path(
        "complaints/<int:pk>/survey-responses/",
        related.SurveyResponseListView.as_view(),
        name="complaint-survey-responses",
    ),
    path(
        "complaints/<int:pk>/remedies/",
        remedies.ComplaintRemedyView.as_view(),
        name="complaint-remedies",
    ),
    path("complaints/<int:pk>/sop/", guidance.SopChecklistView.as_view(), name="complaint-sop"),
    path(
        "complaints/<int:pk>/sop/check/",
        guidance.SopCheckView.as_view(),
        name="complaint-sop-check",
    ),
    path(
        "complaints/<int:pk>/sop/uncheck/",
        guidance.SopUncheckView.as_view(),
        name="complaint-sop-uncheck",
    ),
    path(
        "complaints/<int:pk>/reply-templates/",
        guidance.ReplyTemplateListView.as_view(),
        name="complaint-reply-templates",
    ),
    path(
        "complaints/<int:pk>/reply-templates/<int:template_pk>/render/",
        guidance.ReplyTemplateRenderView.as_view(),
        name="complaint-reply-template-render",
    ),
    path(
        "complaints/<int:pk>/similar/",
        guidance.SimilarListView.as_view(),
        name="complaint-similar",
    ),
    path(
        "attachments/<int:pk>/",
        timeline.AttachmentDownloadView.as_view(),
        name="attachment-download",
    ),
    # Customers
    path("customers/", related.CustomerListView.as_view(), name="customer-list"),
    path("customers/<int:pk>/", related.CustomerDetailView.as_view(), name="customer-detail"),
    # Collaboration requests (the department's side)
    path(
        "collaboration-requests/",
        related.DepartmentRequestListView.as_view(),
        name="collaboration-list",
    ),
    path(
        "collaboration-requests/<int:pk>/answer/",
        related.CollaborationAnswerView.as_view(),
        name="collaboration-answer",
    ),
    path(
        "collaboration-requests/<int:pk>/cancel/",
        related.CollaborationCancelView.as_view(),
        name="collaboration-cancel",
    ),
    # Escalations
    path("escalations/", related.EscalationListView.as_view(), name="escalation-list"),
    path("escalations/<int:pk>/", related.EscalationDetailView.as_view(), name="escalation-detail"),
    path(
        "escalations/<int:pk>/acknowledge/",
        related.EscalationAcknowledgeView.as_view(),
        name="escalation-acknowledge",
    ),
    path(
        "escalations/<int:pk>/instruct/",
        related.EscalationInstructView.as_view(),
        name="escalation-instruct",
    ),
    path(
        "escalations/<int:pk>/settle/",
        related.EscalationSettleView.as_view(),
        name="escalation-settle",
    ),
    # Remedies and approvals
    path("remedies/<int:pk>/", remedies.RemedyDetailView.as_view(), name="remedy-detail"),
    path("remedies/<int:pk>/decide/", remedies.RemedyDecideView.as_view(), name="remedy-decide"),
    path(
        "remedies/<int:pk>/deliver/",
        remedies.RemedyDeliverView.as_view(),
        name="remedy-deliver",
    ),
    path("remedies/<int:pk>/cancel/", remedies.RemedyCancelView.as_view(), name="remedy-cancel"),
    path("approvals/", remedies.ApprovalListView.as_view(), name="approval-list"),
    # Call-backs
    path("callbacks/", callbacks.CallbackListView.as_view(), name="callback-list"),
    path("callbacks/<int:pk>/", callbacks.CallbackDetailView.as_view(), name="callback-detail"),
    path(
        "callbacks/<int:pk>/attempts/",
        callbacks.CallbackAttemptView.as_view(),
        name="callback-attempts",
    ),
    # Improvement actions
    path("improvements/", improvements.ImprovementListView.as_view(), name="improvement-list"),
    path(
        "improvements/<int:pk>/",
        improvements.ImprovementDetailView.as_view(),
        name="improvement-detail",
    ),
    path(
        "improvements/<int:pk>/complaints/",
        improvements.ImprovementLinkView.as_view(),
        name="improvement-link",
    ),
    path(
        "improvements/<int:pk>/complaints/<int:complaint_pk>/",
        improvements.ImprovementUnlinkView.as_view(),
        name="improvement-unlink",
    ),
    path(
        "improvements/<int:pk>/status/",
        improvements.ImprovementStatusView.as_view(),
        name="improvement-status",
    ),
    # Configuration (read only)
    path("categories/", config.CategoryListView.as_view(), name="category-list"),
    path("products/", config.ProductListView.as_view(), name="product-list"),
    path("priorities/", config.PriorityListView.as_view(), name="priority-list"),
    path("teams/", config.TeamListView.as_view(), name="team-list"),
    # Anything else under /api/ (e.g. /api/complaints/abc/) in the error format, not
    # the site's HTML page. Only addresses ending in a slash: CommonMiddleware still
    # redirects /api/teams to /api/teams/.
    re_path(r"^[\s\S]*/$", base.not_found, name="not-found"),
]
