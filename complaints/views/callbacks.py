"""The agents' Call-backs screen (回访) and the form that records how a call went,
posted from a row of the screen or from the complaint detail page's panel
(templates/complaints/callbacks/_panel.html).

Thin views: validate, call complaints.services.callbacks, go back where the user
was with a message. Agents and supervisors only; a call-back is reached only
through the complaints the user may see (404 for missing and forbidden alike).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from complaints.errors import NotFound, ServiceError
from complaints.models import CallbackResult, CallbackTask
from complaints.services import callbacks as services
from complaints.views.common import staff_required

PAGE_SIZE = 50
Outcome = CallbackTask.Outcome

CHOOSE_RESULT = gettext_lazy("Choose how the call went.")
TAB_LABELS = {
    "due": gettext_lazy("Due now"),
    "later": gettext_lazy("Later"),
    "mine": gettext_lazy("Mine"),
    "finished": gettext_lazy("Finished recently"),
}


class RecordForm(forms.Form):
    result = forms.ChoiceField(
        label=gettext_lazy("How did the call go?"),
        choices=CallbackResult.choices,
        widget=forms.RadioSelect,
        error_messages={"required": CHOOSE_RESULT, "invalid_choice": CHOOSE_RESULT},
    )
    note = forms.CharField(
        label=gettext_lazy("Note"),
        required=False,
        max_length=services.MAX_NOTE,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    # The failed attempts the page showed: a call recorded meanwhile is not counted twice.
    attempts = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)


# --- Helpers ---------------------------------------------------------------------------------


def _queue_url() -> str:
    return reverse("complaints:callbacks")


def _back(request, default: str) -> HttpResponseRedirect:
    """Back to the page the form was on (`next`, same site only), else `default`."""
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = default
    return HttpResponseRedirect(target)


def _require_caller(request) -> None:
    if not services.can_record_callbacks(request.user):
        raise PermissionDenied


def _form_errors(form: forms.Form) -> str:
    return " ".join(str(message) for errors in form.errors.values() for message in errors)


def _done_message(task: CallbackTask) -> str:
    number = task.complaint.tracking_number
    if task.outcome == Outcome.SATISFIED:
        return _("%(number)s is closed: the customer is satisfied.") % {"number": number}
    if task.outcome == Outcome.UNSATISFIED:
        return _(
            "%(number)s is reopened for a second handling and escalated to the supervisor."
        ) % {"number": number}
    if task.outcome == Outcome.NO_RESPONSE:
        return _("%(number)s is closed: no response after %(n)d attempts.") % {
            "number": number,
            "n": task.attempts,
        }
    when = formats.date_format(timezone.localtime(task.next_attempt_at), "Y-m-d H:i")
    return _("Attempt %(n)d of %(max)d recorded for %(number)s; try again after %(when)s.") % {
        "n": task.attempts,
        "max": services.max_attempts(),
        "number": number,
        "when": when,
    }


# --- The screen --------------------------------------------------------------------------------


@staff_required
@require_GET
def callback_queue(request):
    """Open call-backs (due now, later, mine) and the recently finished ones."""
    _require_caller(request)
    tab = request.GET.get("tab", "due")
    if tab not in services.TABS:
        tab = "due"
    now = timezone.now()
    rows = services.callbacks_queue(user=request.user, tab=tab, now=now)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    counts = services.callbacks_tab_counts(user=request.user, now=now)
    context = {
        "page": page,
        "tab": tab,
        "tabs": [(slug, TAB_LABELS[slug], counts[slug]) for slug in services.TABS],
        "results": CallbackResult.choices,
        "max_attempts": services.max_attempts(),
        "note_max": services.MAX_NOTE,
        "now": now,
    }
    return render(request, "complaints/callbacks/queue.html", context)


# --- Writes ------------------------------------------------------------------------------------


@staff_required
@require_POST
def callback_record(request, pk: int):
    """Record one call: from the screen's row or the detail page's panel."""
    _require_caller(request)
    try:
        task = services.callback_get_for_user(user=request.user, pk=pk)
    except NotFound:
        raise Http404 from None
    default = _queue_url()
    form = RecordForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return _back(request, default)
    try:
        services.callback_record(
            task=task,
            actor=request.user,
            result=form.cleaned_data["result"],
            note=form.cleaned_data["note"],
            expected_attempts=form.cleaned_data["attempts"],
        )
    except NotFound:
        raise Http404 from None
    except ServiceError as err:
        messages.error(request, err.message)
    else:
        messages.success(request, _done_message(task))
    return _back(request, default)


urlpatterns = [
    path("callbacks/", callback_queue, name="callbacks"),
    path("callbacks/<int:pk>/record/", callback_record, name="callback-record"),
]
