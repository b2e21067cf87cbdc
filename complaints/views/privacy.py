"""Revealing a customer's masked phone and email (logged in the access log).

Any staff member who may see the complaint may reveal its customer's contact data:
agents need the number to call back. What is masked is the browsing (lists, cards);
what is logged is each reveal, with who, when, from where and for which complaint.
"""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_POST

from complaints import selectors
from complaints.errors import NotFound
from complaints.services import privacy
from complaints.views.common import staff_required

PURPOSES = {"reveal", "call"}


@staff_required
@require_POST
def customer_contact_reveal(request, pk: int):
    try:
        complaint = selectors.complaint_get_for_user(user=request.user, pk=pk)
    except NotFound:
        raise Http404 from None
    purpose = request.POST.get("purpose", "reveal")
    if purpose not in PURPOSES:
        purpose = "reveal"
    customer = complaint.customer
    privacy.customer_contact_viewed(
        actor=request.user, customer=customer, request=request, purpose=purpose, complaint=complaint
    )
    context = {"customer": customer, "complaint": complaint, "purpose": purpose}
    if request.htmx:
        return render(request, "complaints/privacy/_contact.html", context)
    return render(request, "complaints/privacy/contact.html", context)


urlpatterns = [
    path(
        "complaints/<int:pk>/customer/contact/",
        customer_contact_reveal,
        name="staff-customer-contact",
    ),
]
