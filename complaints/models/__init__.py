from complaints.models.analytics import (
    ComplaintDurations,
    DailyComplaintStats,
    DailyDurationBuckets,
    RollupMark,
    RollupState,
    TrendWarning,
)
from complaints.models.callback import CallbackAttempt, CallbackResult, CallbackTask
from complaints.models.catalog import Category, Priority, Product
from complaints.models.complaint import Channel, Complaint, Demand, LoopOutcome, RootCause
from complaints.models.customer import Customer, CustomerExternalId
from complaints.models.escalation import CollaborationRequest, Escalation, EscalationStep
from complaints.models.guidance import ReplyTemplate, Sop, SopCheck
from complaints.models.imports import ExportJob, ImportJob
from complaints.models.improvement import ImprovementAction
from complaints.models.intake import DuplicateFlag, IdempotencyKey, InboundMessage, MailThread
from complaints.models.org import Team, TeamMembership, User
from complaints.models.outbox import OutboxMessage
from complaints.models.remedy import AuthorityLimit, Remedy, RemedyKind
from complaints.models.routing import (
    Impact,
    KeywordRule,
    PriorityMatrix,
    RoutingRule,
    TriageProposal,
    Urgency,
)
from complaints.models.security import AccessLog
from complaints.models.sla import BusinessCalendar, CalendarDay, SlaCrossing, SlaPolicy
from complaints.models.survey import SurveyResponse
from complaints.models.timeline import ComplaintEvent, StatusChange
from complaints.models.workspace import Attachment, Notification, Presence, SavedFilter

__all__ = [
    "AccessLog",
    "Attachment",
    "AuthorityLimit",
    "BusinessCalendar",
    "CalendarDay",
    "CallbackAttempt",
    "CallbackResult",
    "CallbackTask",
    "Category",
    "Channel",
    "CollaborationRequest",
    "Complaint",
    "ComplaintDurations",
    "ComplaintEvent",
    "Customer",
    "CustomerExternalId",
    "DailyComplaintStats",
    "DailyDurationBuckets",
    "Demand",
    "DuplicateFlag",
    "Escalation",
    "EscalationStep",
    "ExportJob",
    "IdempotencyKey",
    "Impact",
    "ImportJob",
    "ImprovementAction",
    "InboundMessage",
    "KeywordRule",
    "LoopOutcome",
    "MailThread",
    "Notification",
    "OutboxMessage",
    "Presence",
    "Priority",
    "PriorityMatrix",
    "Product",
    "Remedy",
    "RemedyKind",
    "ReplyTemplate",
    "RollupMark",
    "RollupState",
    "RootCause",
    "RoutingRule",
    "SavedFilter",
    "SlaCrossing",
    "SlaPolicy",
    "Sop",
    "SopCheck",
    "StatusChange",
    "SurveyResponse",
    "Team",
    "TeamMembership",
    "TrendWarning",
    "TriageProposal",
    "Urgency",
    "User",
]
from complaints.models.webhooks import (
    IdempotentRequest,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
)

__all__ += ["IdempotentRequest", "Webhook", "WebhookDelivery", "WebhookEvent"]
