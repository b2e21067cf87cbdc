"""Saved filters: a staff member saves a queue's filters under a name and
deletes them again."""

from __future__ import annotations

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from complaints import selectors
from complaints.models import SavedFilter
from complaints.views.common import staff_required
from complaints.views.workbench.forms import SavedFilterForm, _form_errors


def _queue_url(slug: str, query: str = "") -> str:
    if slug not in selectors.QUEUES_BY_SLUG:
        return reverse("complaints:staff-home")
    url = reverse("complaints:staff-queue", args=[slug])
    return f"{url}?{query}" if query else url


@staff_required
@require_POST
def saved_filter_create(request):
    form = SavedFilterForm(request.POST, user=request.user)
    if form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                SavedFilter.objects.create(
                    user=request.user, name=data["name"], queue=data["queue"], query=data["query"]
                )
        except IntegrityError:
            # The same name saved a moment ago (another tab): the unique constraint wins.
            messages.error(
                request,
                _("You already have a saved filter called “%(name)s”. Choose another name.")
                % {"name": data["name"]},
            )
        else:
            messages.success(request, _("Filter “%(name)s” saved.") % {"name": data["name"]})
        return redirect(_queue_url(data["queue"], data["query"]))
    messages.error(request, _form_errors(form))
    query = form.cleaned_data.get("query", "")
    return redirect(_queue_url(request.POST.get("queue", ""), query))


@staff_required
@require_POST
def saved_filter_delete(request, pk: int):
    saved = get_object_or_404(SavedFilter, pk=pk, user=request.user)
    saved.delete()
    messages.success(request, _("Filter “%(name)s” deleted.") % {"name": saved.name})
    return redirect(_queue_url(saved.queue))
