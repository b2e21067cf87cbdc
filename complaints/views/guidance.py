"""Handling aids on the complaint detail page: tick the steps of the complaint's SOP
(the panel templates/complaints/guidance/_sop_panel.html) and insert a reply template
into the reply box (templates/complaints/guidance/_template_picker.html).

Thin htmx views: staff only; the complaint comes through
selectors.complaint_get_for_user (404 for missing and forbidden alike); the writes are
complaints.services.guidance.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from complaints import permissions, selectors
from complaints.errors import NotFound, ServiceError
from complaints.forms import MessageForm
from complaints.models import Complaint
from complaints.services import guidance as services
from complaints.services import reply_templates
from complaints.views.common import staff_required

PANEL = "complaints/guidance/_sop_panel.html"


class SopStepForm(forms.Form):
    step = forms.IntegerField(min_value=1, max_value=services.STEPS_MAX)
    action = forms.ChoiceField(choices=[("check", "check"), ("uncheck", "uncheck")])


def _complaint(request, pk: int) -> Complaint:
    try:
        return selectors.complaint_get_for_user(user=request.user, pk=pk)
    except NotFound:
        raise Http404 from None


def _panel(request, complaint: Complaint, *, error: str = "", status: int = 200) -> HttpResponse:
    response = render(request, PANEL, {"complaint": complaint, "sop_error": error}, status=status)
    if status >= 400:
        # static/js/app.js swaps a refused htmx answer that names its target.
        response["HX-Retarget"] = "#sop-panel"
        response["HX-Reswap"] = "outerHTML"
    return response


@staff_required
@require_POST
def sop_step(request, pk: int):
    """Tick or untick one step; answers with the panel (htmx) or goes back to the page."""
    complaint = _complaint(request, pk)
    form = SopStepForm(request.POST)
    error, status = "", 200
    if not form.is_valid():
        error, status = _("Choose a step of the checklist."), 400
    else:
        service = (
            services.sop_step_check
            if form.cleaned_data["action"] == "check"
            else services.sop_step_uncheck
        )
        try:
            service(complaint=complaint, actor=request.user, step=form.cleaned_data["step"])
        except NotFound:
            raise Http404 from None
        except ServiceError as err:
            error, status = err.message, err.status_code
    if request.htmx:
        return _panel(request, complaint, error=error, status=status)
    if error:
        messages.error(request, error)
    return redirect(reverse("complaints:staff-detail", args=[complaint.pk]))


@staff_required
@require_GET
def reply_template(request, pk: int):
    """The reply box filled with a template rendered for this complaint, to edit before
    sending. Only templates offered for the complaint; only for those who may reply."""
    complaint = _complaint(request, pk)
    if not permissions.can_edit_complaint(request.user, complaint):
        return HttpResponse(_("You may not reply to this complaint."), status=403)
    if not request.GET.get("template"):
        return HttpResponse(status=204)  # nothing chosen: htmx leaves the box alone
    try:
        template = reply_templates.reply_template_get_for(
            complaint=complaint, pk=request.GET["template"]
        )
    except NotFound:
        raise Http404 from None
    text = reply_templates.reply_template_render(
        template=template, complaint=complaint, actor=request.user
    )
    form = MessageForm(initial={"body": text})
    return render(request, "complaints/guidance/_reply_body.html", {"form": form})


urlpatterns = [
    path("complaints/<int:pk>/sop/step/", sop_step, name="sop-step"),
    path("complaints/<int:pk>/reply-template/", reply_template, name="reply-template"),
]
