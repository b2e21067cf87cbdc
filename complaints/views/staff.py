"""The staff workspace (queues and detail grow in their own issue)."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render

from complaints import roles, selectors
from complaints.errors import NotFound


def _require_staff(request) -> None:
    if not roles.is_staff_member(request.user):
        raise PermissionDenied


@login_required
def home(request):
    _require_staff(request)
    complaints = (
        selectors.complaints_visible_to(request.user)
        .select_related("customer", "category", "priority", "assignee")
        .order_by("-received_at")[:50]
    )
    return render(request, "complaints/staff/home.html", {"complaints": complaints})


@login_required
def detail(request, pk: int):
    _require_staff(request)
    try:
        complaint = selectors.complaint_get_for_user(user=request.user, pk=pk)
    except NotFound:
        raise Http404 from None
    context = {
        "complaint": complaint,
        "events": selectors.complaint_timeline(complaint=complaint, include_internal=True),
        "status_changes": selectors.complaint_status_changes(complaint=complaint),
        "transitions": selectors.complaint_available_transitions(
            complaint=complaint, user=request.user
        ),
    }
    return render(request, "complaints/staff/detail.html", context)
