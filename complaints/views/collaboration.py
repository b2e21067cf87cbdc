"""Collaboration requests on screen: the department queue and its answer form (for the
department's people), and asking / withdrawing from a complaint (the asking side; its
panel on the detail page is templates/complaints/collaboration/_panel.html).

The department side reaches a request only through
services.collaboration.collaboration_get_for_department_user (404 for missing and
forbidden alike): a responder need not be able to open the complaint itself.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from complaints import roles, selectors
from complaints.config_choices import CachedModelChoiceField
from complaints.errors import ComplaintConflict, NotFound, ServiceError
from complaints.models import CollaborationRequest, Complaint
from complaints.services import collaboration as services
from complaints.views.common import staff_required

Status = CollaborationRequest.Status
RECENTLY_ANSWERED = 20
OPEN_SHOWN = 200


# --- Forms ---------------------------------------------------------------------------------


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label=gettext_lazy("Answer"),
        max_length=services.ANSWER_MAX,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 4, "class": "form-control"}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class AskForm(forms.Form):
    department = CachedModelChoiceField(
        label=gettext_lazy("Department"),
        queryset=services.collaboration_departments(),
        empty_label=None,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    question = forms.CharField(
        label=gettext_lazy("Question"),
        max_length=services.QUESTION_MAX,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 4, "class": "form-control"}),
    )


# --- Helpers ---------------------------------------------------------------------------------


def _queue_url() -> str:
    return reverse("complaints:collab-queue")


def _detail_url(complaint_id: int) -> str:
    return reverse("complaints:staff-detail", args=[complaint_id])


def _back(request, default: str) -> HttpResponseRedirect:
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = default
    return HttpResponseRedirect(target)


def _department_request(request, pk: int) -> CollaborationRequest:
    try:
        return services.collaboration_get_for_department_user(user=request.user, pk=pk)
    except NotFound:
        raise Http404 from None


def _complaint(request, pk: int) -> Complaint:
    try:
        return selectors.complaint_get_for_user(user=request.user, pk=pk)
    except NotFound:
        raise Http404 from None


# --- The department side ---------------------------------------------------------------------


@staff_required
@require_GET
def department_queue(request):
    """Open requests to the user's departments, the soonest due first; then the latest
    answers."""
    user = request.user
    requests = services.collaboration_requests_for_department_user(user)
    open_requests = list(requests.filter(status=Status.OPEN).order_by("due_at", "pk")[:OPEN_SHOWN])
    answered = list(
        requests.filter(status=Status.ANSWERED).order_by("-answered_at", "-pk")[:RECENTLY_ANSWERED]
    )
    context = {
        "open_requests": open_requests,
        "answered": answered,
        "has_departments": bool(services.department_ids_of(user)),
        "answer_max": services.ANSWER_MAX,
    }
    return render(request, "complaints/collaboration/queue.html", context)


def _request_page(request, collab: CollaborationRequest, form: AnswerForm | None, status=200):
    user = request.user
    context = {
        "collab": collab,
        "complaint": collab.complaint,
        "form": form if form is not None else AnswerForm(initial={"version": collab.version}),
        "can_open_complaint": roles.is_staff_member(user)
        and selectors.complaints_visible_to(user).filter(pk=collab.complaint_id).exists(),
    }
    return render(request, "complaints/collaboration/request.html", context, status=status)


@staff_required
@require_GET
def request_detail(request, pk: int):
    """One request with what the department needs to know of the complaint."""
    return _request_page(request, _department_request(request, pk), None)


@staff_required
@require_POST
def request_answer(request, pk: int):
    collab = _department_request(request, pk)
    form = AnswerForm(request.POST)
    if not form.is_valid():
        return _request_page(request, collab, form, status=400)
    if form.cleaned_data["version"] != collab.version:
        form.add_error(None, _("This request was changed by someone else since you opened it."))
        return _request_page(request, collab, form, status=409)
    try:
        services.collaboration_answer(
            request=collab, actor=request.user, answer=form.cleaned_data["answer"]
        )
    except NotFound:
        raise Http404 from None
    except ComplaintConflict as err:
        collab = _department_request(request, pk)
        form.add_error(None, err.message)
        return _request_page(request, collab, form, status=409)
    except ServiceError as err:
        collab = _department_request(request, pk)
        form.add_error(None, err.message)
        return _request_page(request, collab, form, status=err.status_code)
    messages.success(
        request,
        _("Answer sent for %(number)s.") % {"number": collab.complaint.tracking_number},
    )
    return _back(request, _queue_url())


# --- The asking side ---------------------------------------------------------------------------


@staff_required
@require_http_methods(["GET", "POST"])
def ask(request, pk: int):
    """Ask a department about the complaint (posted from the detail page's panel; the
    page itself shows the form again with what was wrong)."""
    complaint = _complaint(request, pk)
    if not services.can_ask(request.user, complaint):
        raise Http404
    form = AskForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                collab = services.collaboration_ask(
                    complaint=complaint,
                    actor=request.user,
                    department=form.cleaned_data["department"],
                    question=form.cleaned_data["question"],
                )
            except NotFound:
                raise Http404 from None
            except ServiceError as err:
                form.add_error(None, err.message)
                status = err.status_code
            else:
                messages.success(
                    request,
                    _("%(department)s was asked; the answer is due %(due)s.")
                    % {
                        "department": collab.department,
                        "due": services.format_due(collab.due_at),
                    },
                )
                return HttpResponseRedirect(_detail_url(complaint.pk))
        else:
            status = 400
    context = {"complaint": complaint, "form": form}
    return render(request, "complaints/collaboration/ask.html", context, status=status)


@staff_required
@require_POST
def cancel(request, pk: int):
    try:
        collab = services.collaboration_get_for_user(user=request.user, pk=pk)
    except NotFound:
        raise Http404 from None
    try:
        services.collaboration_cancel(
            request=collab, actor=request.user, reason=request.POST.get("reason", "")[:500]
        )
    except NotFound:
        raise Http404 from None
    except ServiceError as err:
        messages.error(request, err.message)
    else:
        messages.success(
            request,
            _("The question to %(department)s was withdrawn.") % {"department": collab.department},
        )
    return _back(request, _detail_url(collab.complaint_id))


urlpatterns = [
    path("department/", department_queue, name="collab-queue"),
    path("department/requests/<int:pk>/", request_detail, name="collab-request"),
    path("department/requests/<int:pk>/answer/", request_answer, name="collab-answer"),
    path("complaints/<int:pk>/collaboration/ask/", ask, name="collab-ask"),
    path("collaboration/<int:pk>/cancel/", cancel, name="collab-cancel"),
]
