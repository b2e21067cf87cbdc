"""The "Similar resolved complaints" card, loaded by the detail page with htmx after
the page itself (templates/complaints/similar/_panel.html): staff only, the complaint
through selectors.complaint_get_for_user (404 for missing and forbidden alike)."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from complaints import selectors
from complaints.errors import NotFound
from complaints.views.common import staff_required


@staff_required
@require_GET
def similar_card(request, pk: int):
    try:
        complaint = selectors.complaint_get_for_user(user=request.user, pk=pk)
    except NotFound:
        raise Http404 from None
    # The card lists what *this* user may see: never cached across users.
    response = render(
        request, "complaints/similar/_list.html", {"complaint": complaint, "user": request.user}
    )
    response["Cache-Control"] = "private, no-store"
    return response


urlpatterns = [
    path("complaints/<int:pk>/similar/", similar_card, name="staff-similar"),
]
