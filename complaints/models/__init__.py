from complaints.models.catalog import Category, Priority, Product
from complaints.models.complaint import Channel, Complaint, Demand, RootCause
from complaints.models.customer import Customer, CustomerExternalId
from complaints.models.intake import DuplicateFlag, IdempotencyKey, InboundMessage, MailThread
from complaints.models.org import Team, TeamMembership, User
from complaints.models.timeline import ComplaintEvent, StatusChange
from complaints.models.workspace import Attachment, Notification, Presence, SavedFilter

__all__ = [
    "Attachment",
    "Category",
    "Channel",
    "Complaint",
    "ComplaintEvent",
    "Customer",
    "CustomerExternalId",
    "Demand",
    "DuplicateFlag",
    "IdempotencyKey",
    "InboundMessage",
    "MailThread",
    "Notification",
    "Presence",
    "Priority",
    "Product",
    "RootCause",
    "SavedFilter",
    "StatusChange",
    "Team",
    "TeamMembership",
    "User",
]
