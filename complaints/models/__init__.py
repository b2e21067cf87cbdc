from complaints.models.catalog import Category, Priority, Product
from complaints.models.complaint import Channel, Complaint, Demand, RootCause
from complaints.models.customer import Customer, CustomerExternalId
from complaints.models.org import Team, TeamMembership, User
from complaints.models.timeline import ComplaintEvent, StatusChange

__all__ = [
    "Category",
    "Channel",
    "Complaint",
    "ComplaintEvent",
    "Customer",
    "CustomerExternalId",
    "Demand",
    "Priority",
    "Product",
    "RootCause",
    "StatusChange",
    "Team",
    "TeamMembership",
    "User",
]
