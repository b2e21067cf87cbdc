from complaints.models.catalog import Category, Priority, Product
from complaints.models.complaint import Channel, Complaint, Demand, RootCause
from complaints.models.customer import Customer, CustomerExternalId
from complaints.models.escalation import CollaborationRequest, Escalation, EscalationStep
from complaints.models.intake import DuplicateFlag, IdempotencyKey, InboundMessage, MailThread
from complaints.models.org import Team, TeamMembership, User
from complaints.models.outbox import OutboxMessage
from complaints.models.routing import (
    Impact,
    KeywordRule,
    PriorityMatrix,
    RoutingRule,
    TriageProposal,
    Urgency,
)
from complaints.models.sla import BusinessCalendar, CalendarDay, SlaCrossing, SlaPolicy
from complaints.models.survey import SurveyResponse
from complaints.models.timeline import ComplaintEvent, StatusChange
from complaints.models.workspace import Attachment, Notification, Presence, SavedFilter

__all__ = [
    "Attachment",
    "BusinessCalendar",
    "CalendarDay",
    "Category",
    "Channel",
    "CollaborationRequest",
    "Complaint",
    "ComplaintEvent",
    "Customer",
    "CustomerExternalId",
    "Demand",
    "DuplicateFlag",
    "Escalation",
    "EscalationStep",
    "IdempotencyKey",
    "Impact",
    "InboundMessage",
    "KeywordRule",
    "MailThread",
    "Notification",
    "OutboxMessage",
    "Presence",
    "Priority",
    "PriorityMatrix",
    "Product",
    "RootCause",
    "RoutingRule",
    "SavedFilter",
    "SlaCrossing",
    "SlaPolicy",
    "StatusChange",
    "SurveyResponse",
    "Team",
    "TeamMembership",
    "TriageProposal",
    "Urgency",
    "User",
]
