"""Bulk actions on the complaints selected on a queue page, and the "assign to"
select they load. The actions offered are BULK_ACTIONS in forms."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from complaints import roles
from complaints.errors import ServiceError
from complaints.models import Team, TeamMembership, User
from complaints.views.common import staff_required
from complaints.views.workbench.forms import BULK_ACTIONS, BulkActionForm, _form_errors


def _back(request) -> str:
    """Where the form came from (a queue page), if it is ours."""
    target = request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("complaints:staff-home")


@staff_required
@require_POST
def bulk_action(request):
    back = _back(request)
    ids = request.POST.getlist("ids")
    if not ids:
        messages.error(request, _("Select at least one complaint."))
        return redirect(back)
    form = BulkActionForm(request.POST, actor=request.user)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect(back)
    try:
        results = form.run(actor=request.user, ids=ids)
    except ServiceError as err:
        messages.error(request, str(err))
        return redirect(back)
    context = {
        "action": BULK_ACTIONS[form.cleaned_data["action"]],
        "results": results,
        "done": sum(1 for r in results if r.ok),
        "back": back,
    }
    return render(request, "complaints/staff/workbench_bulk_result.html", context)


@staff_required
@require_GET
def bulk_assignees(request):
    """The "assign to" select of the bulk actions, by team (loaded by htmx)."""
    if not roles.is_supervisor(request.user):
        raise PermissionDenied
    memberships = (
        TeamMembership.objects.filter(
            team__is_active=True, team__kind=Team.Kind.FRONT_LINE, user__is_active=True
        )
        .select_related("team", "user")
        .order_by("team__name", "user__username")
    )
    teams: dict[Team, list[User]] = {}
    for m in memberships:
        teams.setdefault(m.team, []).append(m.user)
    return render(request, "complaints/staff/_workbench_assignee_select.html", {"teams": teams})
