"""The complaint detail page and the actions on it."""

from django.http import Http404
from django.shortcuts import render
from django.urls import path

from complaints import selectors
from complaints.errors import NotFound
from complaints.views.common import staff_required


@staff_required
def detail(request, pk: int):
    try:
        complaint = selectors.complaint_get_for_user(user=request.user, pk=pk)
    except NotFound:
        raise Http404 from None
    context = {
        "complaint": complaint,
        "events": selectors.complaint_timeline(complaint=complaint, include_internal=True),
        "transitions": selectors.complaint_available_transitions(
            complaint=complaint, user=request.user
        ),
    }
    return render(request, "complaints/staff/detail.html", context)


urlpatterns = [
    path("complaints/<int:pk>/", detail, name="staff-detail"),
]
