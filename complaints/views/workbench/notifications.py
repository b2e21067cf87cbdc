"""The staff member's in-app notifications: the list, marking them read, and
opening one (which goes to its complaint if they may still see it)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from complaints import permissions
from complaints.models import Notification
from complaints.services import inapp
from complaints.views.common import staff_required


@staff_required
@require_GET
def notifications(request):
    rows = Notification.objects.filter(user=request.user).select_related("complaint")
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    context = {"page": page, "unread": inapp.unread_count(request.user)}
    return render(request, "complaints/staff/workbench_notifications.html", context)


@staff_required
@require_POST
def notifications_read_all(request):
    count = inapp.notifications_mark_read(user=request.user)
    messages.success(
        request,
        ngettext(
            "%(count)d notification marked as read.",
            "%(count)d notifications marked as read.",
            count,
        )
        % {"count": count},
    )
    return redirect("complaints:staff-notifications")


@staff_required
@require_http_methods(["GET", "POST"])
def notification_open(request, pk: int):
    """Mark one notification read and go to its complaint (a link in the list)."""
    notification = get_object_or_404(
        Notification.objects.select_related("complaint"), pk=pk, user=request.user
    )
    inapp.notifications_mark_read(user=request.user, ids=[notification.pk])
    complaint = notification.complaint
    if complaint is None:
        return redirect("complaints:staff-notifications")
    if not permissions.can_view_complaint(request.user, complaint):
        messages.info(request, _("You can no longer see this complaint."))
        return redirect("complaints:staff-notifications")
    return redirect("complaints:staff-detail", pk=complaint.pk)
