"""The supervisors' Escalations screen, and the escalation forms of the complaint
detail page (its panel: templates/complaints/escalations/_panel.html).

Thin views: validate, call complaints.services.escalation, go back where the user
was with a message. Supervisors (and admins) only, except raising an escalation,
which any staff member who may see the complaint can do.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from complaints import selectors
from complaints.errors import NotFound, ServiceError
from complaints.models import Escalation
from complaints.services import escalation as services
from complaints.views.common import staff_required

PAGE_SIZE = 50
TEXT_MAX = 4000


# --- Forms ----------------------------------------------------------------------------------


class SettleForm(forms.Form):
    settlement = forms.CharField(label=gettext_lazy("Settlement"), max_length=TEXT_MAX, strip=True)


class InstructForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("Instruction"), max_length=TEXT_MAX, strip=True)


class RaiseForm(forms.Form):
    reason = forms.ChoiceField(
        label=gettext_lazy("Reason"),
        choices=[(r.value, r.label) for r in services.MANUAL_REASONS],
        initial=Escalation.Reason.MANUAL,
    )
    level = forms.TypedChoiceField(
        label=gettext_lazy("Level"),
        choices=Escalation.Level.choices,
        coerce=int,
        initial=Escalation.Level.SUPERVISOR,
    )
    note = forms.CharField(label=gettext_lazy("Why"), max_length=TEXT_MAX, strip=True)


# --- Helpers ----------------------------------------------------------------------------------


def _list_url() -> str:
    return reverse("complaints:escalation-list")


def _back(request, default: str) -> HttpResponseRedirect:
    """Back to the page the form was on (`next`, same site only), else `default`."""
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = default
    return HttpResponseRedirect(target)


def _require_manager(request) -> None:
    if not services.can_manage_escalations(request.user):
        raise PermissionDenied


def _escalation(request, pk: int) -> Escalation:
    try:
        return services.escalation_get_for_user(user=request.user, pk=pk)
    except NotFound:
        raise Http404 from None


def _form_errors(form: forms.Form) -> str:
    return " ".join(str(message) for errors in form.errors.values() for message in errors)


# --- The screen ---------------------------------------------------------------------------------


@staff_required
@require_GET
def escalation_list(request):
    """Open escalations, the oldest first."""
    _require_manager(request)
    escalations = services.escalations_open_for_user(request.user)
    reason = request.GET.get("reason", "")
    if reason in Escalation.Reason.values:
        escalations = escalations.filter(reason=reason)
    else:
        reason = ""
    level = request.GET.get("level", "")
    if level.isdigit() and int(level) in Escalation.Level.values:
        escalations = escalations.filter(level=int(level))
    else:
        level = ""
    page = Paginator(escalations, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "reasons": Escalation.Reason.choices,
        "levels": Escalation.Level.choices,
        "current_reason": reason,
        "current_level": level,
        "text_max": TEXT_MAX,
    }
    return render(request, "complaints/escalations/list.html", context)


# --- Writes --------------------------------------------------------------------------------------


def _act(request, pk: int, *, form_class=None, call, done: str) -> HttpResponse:
    """The supervisors' write actions: check the role and the escalation, validate the
    form (if any), call the service, report in a message, go back to the list."""
    _require_manager(request)
    escalation = _escalation(request, pk)
    data = {}
    if form_class is not None:
        form = form_class(request.POST)
        if not form.is_valid():
            messages.error(request, _form_errors(form))
            return _back(request, _list_url())
        data = form.cleaned_data
    try:
        call(escalation, data)
    except NotFound:
        raise Http404 from None
    except ServiceError as err:
        messages.error(request, err.message)
    else:
        messages.success(request, done % {"number": escalation.complaint.tracking_number})
    return _back(request, _list_url())


@staff_required
@require_POST
def escalation_acknowledge(request, pk: int):
    return _act(
        request,
        pk,
        call=lambda e, data: services.escalation_acknowledge(escalation=e, actor=request.user),
        done=_("Escalation of %(number)s acknowledged."),
    )


@staff_required
@require_POST
def escalation_instruct(request, pk: int):
    return _act(
        request,
        pk,
        form_class=InstructForm,
        call=lambda e, data: services.escalation_instruct(
            escalation=e, actor=request.user, note=data["note"]
        ),
        done=_("Instruction added to %(number)s."),
    )


@staff_required
@require_POST
def escalation_settle(request, pk: int):
    return _act(
        request,
        pk,
        form_class=SettleForm,
        call=lambda e, data: services.escalation_settle(
            escalation=e, actor=request.user, settlement=data["settlement"]
        ),
        done=_("Escalation of %(number)s settled."),
    )


@staff_required
@require_POST
def escalation_raise(request, pk: int):
    """From the complaint detail page: raise an escalation by hand."""
    try:
        complaint = selectors.complaint_get_for_user(user=request.user, pk=pk)
    except NotFound:
        raise Http404 from None
    detail_url = reverse("complaints:staff-detail", args=[complaint.pk])
    form = RaiseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return HttpResponseRedirect(detail_url)
    try:
        escalation, opened = services.escalation_open_or_existing(
            complaint=complaint,
            actor=request.user,
            reason=form.cleaned_data["reason"],
            note=form.cleaned_data["note"],
            level=form.cleaned_data["level"],
        )
    except NotFound:
        raise Http404 from None
    except ServiceError as err:
        messages.error(request, err.message)
        return HttpResponseRedirect(detail_url)
    if opened:
        messages.success(
            request,
            _("%(number)s escalated to level %(level)d.")
            % {"number": complaint.tracking_number, "level": escalation.level},
        )
    else:
        messages.info(
            request,
            _("An escalation for “%(reason)s” is already open (level %(level)d).")
            % {"reason": escalation.get_reason_display(), "level": escalation.level},
        )
    return HttpResponseRedirect(detail_url)


urlpatterns = [
    path("escalations/", escalation_list, name="escalation-list"),
    path(
        "escalations/<int:pk>/acknowledge/",
        escalation_acknowledge,
        name="escalation-acknowledge",
    ),
    path("escalations/<int:pk>/instruct/", escalation_instruct, name="escalation-instruct"),
    path("escalations/<int:pk>/settle/", escalation_settle, name="escalation-settle"),
    path("complaints/<int:pk>/escalations/raise/", escalation_raise, name="escalation-raise"),
]
